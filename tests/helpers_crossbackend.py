"""Model builders shared by the tests, and a script the tests run in subprocesses.

As a module (``import helpers_crossbackend``): :func:`every_layer_model` builds one model
that uses every layer of the package and the ICNR initializer.

As a script, with ``KERAS_BACKEND`` (and, for ``distributed``, ``XLA_FLAGS``) set by the
caller before Keras is imported:

- ``python tests/helpers_crossbackend.py load MODEL.keras INPUT.npy OUTPUT.npy``: load the
  model with ``safe_mode=True`` on this backend, predict on the input, save the prediction.
- ``python tests/helpers_crossbackend.py distributed OUTPUT.json``: train the seed
  auto-encoder on one device, under ``DataParallel`` and under a channel-sharding
  ``ModelParallel`` layout (JAX, 4 virtual CPU devices), write the losses as JSON.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def every_layer_model(length=32, channels=4, seed=1):
    """A functional model with every layer of the package (channels_last, fixed seeds).

    (B, length, C) -> SpaceToDepth1D(2, CRD) -> [SubpixelConv1D with an explicit ICNR (CRD,
    bias) -> Subpixel1D -> SpaceToDepth1D; TransposedConvUpsample1D native and polyphase;
    InterpolationUpsample1D nearest/linear/sinc; Upsample1D subpixel/transposed/linear]
    concatenated on channels -> (B, length, 4*C + 22).
    """
    import keras

    from upsample1d.initializers import ICNR
    from upsample1d.layers import (
        InterpolationUpsample1D,
        SpaceToDepth1D,
        Subpixel1D,
        SubpixelConv1D,
        TransposedConvUpsample1D,
        Upsample1D,
    )

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((length, channels), name="audio")
    down = SpaceToDepth1D(2, mode="CRD", name="down")(inputs)  # (L/2, 2C)
    sub = SubpixelConv1D(2 * channels, 2, kernel_size=5, mode="CRD", use_bias=True,
                         bias_initializer="random_normal",
                         kernel_initializer=ICNR(2, "he_normal", "CRD", seed=seed),
                         name="subpixel_conv")(down)  # (L, 2C)
    sub = Subpixel1D(2, name="subpixel")(sub)  # (2L, C)
    sub = SpaceToDepth1D(2, name="fold")(sub)  # (L, 2C)
    branches = [
        sub,
        TransposedConvUpsample1D(3, 2, implementation="native", use_bias=True,
                                 bias_initializer="random_normal", name="tconv_native")(down),
        TransposedConvUpsample1D(3, 2, overlap="none", name="tconv_poly")(down),
        InterpolationUpsample1D(3, 2, method="nearest", kernel_size=3, name="interp_nearest")(
            down),
        InterpolationUpsample1D(3, 2, method="linear", kernel_size=3, name="interp_linear")(down),
        InterpolationUpsample1D(3, 2, method="sinc", kernel_size=3, name="interp_sinc")(down),
        Upsample1D(2, 2, method="subpixel", kernel_size=3, name="up_subpixel")(down),
        Upsample1D(2, 2, method="transposed", overlap="full", name="up_transposed")(down),
        Upsample1D(3, 2, method="linear", kernel_size=3, use_bias=True,
                   bias_initializer="random_normal", name="up_linear")(down),
    ]
    outputs = keras.layers.Concatenate(name="concat")(branches)
    return keras.Model(inputs, outputs, name="every_layer")


def _load(model_path, input_path, output_path):
    import keras

    import upsample1d.layers  # noqa: F401  (registers the layers; `import upsample1d` alone does not)
    from upsample1d.initializers import ICNR

    model = keras.saving.load_model(model_path, safe_mode=True)
    init = model.get_layer("subpixel_conv").kernel_initializer
    assert isinstance(init, ICNR) and init.mode == "CRD" and init.factor == 2, init
    x = np.load(input_path)
    np.save(output_path, np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0))))
    print(f"loaded on {keras.backend.backend()}: ok")


# ------------------------------------------------------------------ distributed training
STEPS = 4
BATCH = 8


def _data():
    rng = np.random.default_rng(0)
    t = np.arange(1024) / 1024.0
    freqs = rng.uniform(2, 40, size=(BATCH * STEPS, 1))
    x = np.sin(2 * np.pi * freqs * t)[..., None].astype(np.float32)
    return x


def _train(distribution=None):
    import keras

    from upsample1d.models import autoencoder

    keras.distribution.set_distribution(distribution)
    try:
        keras.utils.set_random_seed(7)
        model = autoencoder("subpixel", length=1024)
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        x = _data()
        history = model.fit(x, x, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
        prediction = np.asarray(model.predict(x[:BATCH], batch_size=BATCH, verbose=0))
        shardings = {v.path: str(getattr(v.value, "sharding", None)) for v in model.weights}
    finally:
        keras.distribution.set_distribution(None)
    return {"loss": [float(v) for v in history.history["loss"]],
            "prediction": prediction.ravel()[:256].tolist(), "shardings": shardings}


def _distributed(output_path):
    import jax
    import keras

    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == 4 and len(jax.devices()) == 4, (devices, jax.devices())
    result = {"devices": len(devices), "single": _train(None)}
    result["data_parallel"] = _train(keras.distribution.DataParallel(devices=devices))
    mesh = keras.distribution.DeviceMesh((2, 2), axis_names=("batch", "model"), devices=devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    # Shard the channel (hidden) axis of the convolutions: the encoder's output channels,
    # the latent conv's input and output channels, the upsampler's input channels. The
    # activations between them are then channel-sharded over the "model" axis.
    layout_map["encode/kernel"] = (None, None, "model")
    layout_map["encode/bias"] = ("model",)
    layout_map["latent/kernel"] = (None, "model", None)
    layout_map["latent/bias"] = (None,)
    layout_map["up/.*kernel"] = (None, "model", None)
    result["model_parallel"] = _train(
        keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    with open(output_path, "w") as f:
        json.dump(result, f)
    print("distributed: ok")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"load": _load, "distributed": _distributed}[command](*args)
