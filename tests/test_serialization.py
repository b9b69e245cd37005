"""Serialization: a model with every layer and the ICNR initializer, saved as ``.keras`` on the
active backend, loads with ``safe_mode=True`` on every backend and predicts the same.

Each run of the suite saves under its own backend and loads, in one subprocess per other
backend (``KERAS_BACKEND`` set there), so the three runs together cover every pair.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import BACKEND, has_module
from helpers_crossbackend import REPO, every_layer_model

from upsample1d import ops
from upsample1d.initializers import ICNR
from upsample1d.layers import (
    AliasFreeActivation1D,
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    SpaceToDepth1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers_crossbackend.py")
MODULES = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The model saved on the active backend, its input and its output."""
    directory = tmp_path_factory.mktemp("serialization")
    model = every_layer_model()
    x = np.random.default_rng(0).normal(size=(3, 32, 4)).astype(np.float32)
    expected = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
    path = directory / f"every_layer_{BACKEND}.keras"
    model.save(path)
    np.save(directory / "x.npy", x)
    return directory, path, x, expected


def test_every_layer_is_in_the_model(saved):
    _, path, _, _ = saved
    loaded = keras.saving.load_model(path, safe_mode=True)
    kinds = {type(layer) for layer in loaded.layers}
    for cls in (Subpixel1D, SpaceToDepth1D, SubpixelConv1D, TransposedConvUpsample1D,
                InterpolationUpsample1D, Upsample1D):
        assert cls in kinds, cls
    assert isinstance(loaded.get_layer("subpixel_conv").kernel_initializer, ICNR)
    methods = {layer.method for layer in loaded.layers if isinstance(layer, Upsample1D)}
    assert methods == {"subpixel", "transposed", "linear"}


def test_same_backend_round_trip(saved):
    _, path, x, expected = saved
    loaded = keras.saving.load_model(path, safe_mode=True)
    got = np.asarray(keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    assert loaded.get_config() == keras.saving.load_model(path).get_config()


@pytest.mark.slow  # a fresh interpreter importing another framework: 7-15 s each
@pytest.mark.parametrize("other", [b for b in MODULES if b != BACKEND])
def test_loads_on_other_backend(saved, other):
    if not has_module(MODULES[other]):
        pytest.skip(f"{MODULES[other]} is not installed: cannot load under KERAS_BACKEND={other}")
    directory, path, _, expected = saved
    out = directory / f"from_{BACKEND}_on_{other}.npy"
    env = {**os.environ, "KERAS_BACKEND": other,
           "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": os.environ.get(
               "CUDA_VISIBLE_DEVICES", "")}
    run = subprocess.run([sys.executable, HELPER, "load", str(path), str(directory / "x.npy"),
                          str(out)], env=env, capture_output=True, text=True, timeout=240,
                         cwd=REPO)
    assert run.returncode == 0, f"load on {other} failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=TOLERANCE)


def test_icnr_serializes_alone():
    init = ICNR(3, keras.initializers.HeNormal(seed=4), mode="crd", seed=4)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(init), safe_mode=True)
    assert type(restored) is ICNR and restored.get_config() == init.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored((3, 2, 6))),
                                  keras.ops.convert_to_numpy(init((3, 2, 6))))


@pytest.mark.parametrize("method", ["subpixel", "transposed", "nearest", "linear", "sinc"])
def test_upsample1d_config_round_trip(method):
    layer = Upsample1D(4, 2, method=method, data_format="channels_first", use_bias=True,
                       name="up")
    config = layer.get_config()
    clone = Upsample1D.from_config(config)
    assert clone.get_config() == config
    assert type(clone.upsampler) is type(layer.upsampler)


def downsampler_model(length=30, channels=3, seed=2):
    """Every downsampling layer, channels_last and channels_first, with biases and options;
    a length that 2 and 4 do not divide."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((length, channels), name="audio")
    first = keras.layers.Permute((2, 1), name="to_first")(inputs)
    branches = [
        StridedConv1D(4, 2, kernel_size=5, use_bias=True, bias_initializer="random_normal",
                      name="strided")(inputs),
        SpaceToDepthConv1D(4, 2, mode="CRD", kernel_regularizer="l2", name="s2d")(inputs),
        FilteredDownsample1D(4, 2, method="sinc", name="sinc")(inputs),
        Downsample1D(4, 2, method="average", kernel_size=1, use_bias=True, name="avg")(inputs),
        keras.layers.Permute((2, 1), name="to_last")(
            Downsample1D(4, 2, method="space_to_depth", data_format="channels_first",
                         name="s2d_first")(first)),
        Downsample1D(4, 4, method="strided", name="strided4")(
            keras.layers.UpSampling1D(2, name="up")(inputs)),
    ]
    outputs = keras.layers.Concatenate(name="concat")(branches)
    return keras.Model(inputs, outputs, name="downsamplers")


def test_downsamplers_round_trip_with_safe_mode(tmp_path):
    model = downsampler_model()
    assert model.output_shape == (None, 15, 24)
    x = np.random.default_rng(0).normal(size=(2, 30, 3)).astype(np.float32)
    expected = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
    path = tmp_path / f"downsamplers_{BACKEND}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    got = np.asarray(keras.ops.convert_to_numpy(loaded.predict(x, verbose=0)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    for name in ("strided", "s2d", "sinc", "avg", "s2d_first", "strided4"):
        assert loaded.get_layer(name).get_config() == model.get_layer(name).get_config()
    assert loaded.get_layer("s2d").mode == "CRD"
    assert loaded.get_layer("s2d_first").downsampler.data_format == "channels_first"
    assert isinstance(loaded.get_layer("s2d").kernel_regularizer, keras.regularizers.L2)


@pytest.mark.parametrize("method", ["strided", "space_to_depth", "sinc", "average"])
def test_downsample1d_config_round_trip(method):
    layer = Downsample1D(4, 2, method=method, data_format="channels_first", use_bias=True,
                         name="down")
    config = layer.get_config()
    clone = Downsample1D.from_config(config)
    assert clone.get_config() == config
    assert type(clone.downsampler) is type(layer.downsampler)


FROZEN = {
    **{f"Upsample1D-{m}": lambda m=m: Upsample1D(4, 2, method=m, trainable=False)
       for m in ("subpixel", "transposed", "nearest", "linear", "sinc")},
    **{f"Downsample1D-{m}": lambda m=m: Downsample1D(4, 2, method=m, trainable=False)
       for m in ("strided", "space_to_depth", "sinc", "average")},
    "AliasFreeActivation1D-snake": lambda: AliasFreeActivation1D("snake", trainable=False),
}


@pytest.mark.parametrize("make", list(FROZEN.values()), ids=list(FROZEN))
def test_trainable_false_freezes_the_layer_it_holds_and_survives_saving(make, tmp_path):
    """``trainable=False`` reached the wrapper only: the chosen resampler's kernel (a Snake's
    alpha) stayed trainable, and training changed it; so did a reloaded frozen model's."""
    inputs = keras.Input((16, 4))
    layer = make()
    model = keras.Model(inputs, layer(inputs))
    assert model.weights and model.trainable_weights == []
    path = str(tmp_path / "frozen.keras")
    model.save(path)
    assert keras.saving.load_model(path).trainable_weights == []


def test_a_model_of_the_shuffle_ops_round_trips(tmp_path):
    """depth_to_space_1d / space_to_depth_1d on KerasTensors: the model saved, and load_model
    could not find the operation's class."""
    inputs = keras.Input((8, 6))
    y = ops.depth_to_space_1d(inputs, 2, mode="crd")  # (B, 16, 3)
    outputs = ops.space_to_depth_1d(y, 3, data_format="channels_first")  # C 16, T 3: (B, 48, 1)
    model = keras.Model(inputs, outputs)
    x = np.arange(2 * 8 * 6, dtype=np.float32).reshape(2, 8, 6)
    path = tmp_path / "shuffles.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)),
                                  keras.ops.convert_to_numpy(model(x)))
    assert loaded.get_config() == model.get_config()


RESAMPLER_OPS = {
    "upsample_nearest_1d": (lambda t: ops.upsample_nearest_1d(t, 2), "InterpolationUpsample1D"),
    "upsample_linear_1d": (lambda t: ops.upsample_linear_1d(t, 2), "InterpolationUpsample1D"),
    "upsample_sinc_1d": (lambda t: ops.upsample_sinc_1d(t, 2), "Upsample1D"),
    "polyphase_upsample_1d": (lambda t: ops.polyphase_upsample_1d(
        t, np.ones((3, 2)), (1, 1)), "register_keras_serializable"),
    "downsample_sinc_1d": (lambda t: ops.downsample_sinc_1d(t, 2), "FilteredDownsample1D"),
    "downsample_average_1d": (lambda t: ops.downsample_average_1d(t, 2), "Downsample1D"),
    "decimate_1d": (lambda t: ops.decimate_1d(t, 2), "register_keras_serializable"),
    "polyphase_downsample_1d": (lambda t: ops.polyphase_downsample_1d(t, [0.5, 0.5], 2),
                                "register_keras_serializable"),
    "upsample_alias_free_1d": (lambda t: ops.upsample_alias_free_1d(t, 2),
                               "AliasFreeActivation1D"),
    "downsample_alias_free_1d": (lambda t: ops.downsample_alias_free_1d(t, 2),
                                 "AliasFreeActivation1D"),
    "resample_1d": (lambda t: ops.resample_1d(t, 3, 2), "Resample1D"),
}


@pytest.mark.parametrize("name", sorted(RESAMPLER_OPS))
def test_a_model_of_a_resampler_op_names_the_op_and_what_saves(name, tmp_path):
    """A fixed resampler op on a KerasTensor cannot be saved; the error named the private
    class ``_Resample`` and asked for a get_config()."""
    op, advice = RESAMPLER_OPS[name]
    inputs = keras.Input((16, 4))
    model = keras.Model(inputs, op(inputs))
    with pytest.raises(NotImplementedError, match=rf"applies {name} to a KerasTensor") as info:
        model.save(tmp_path / "op.keras")
    assert advice in str(info.value)
