"""Reference architectures built from this package's layers.

- :func:`autoencoder`: the seed article's small audio auto-encoder (one down/up step).
- :func:`demucs_like`: a Demucs-style U-Net (Defossez et al. 2019) with a choice of decoder
  upsampler, the model of Pons et al. (2021)'s upsampler comparison.
- :func:`bigvgan`: NVIDIA's BigVGAN vocoder generator from its official config
  (:mod:`upsample1d.bigvgan`, which also reads and writes the official checkpoints).

The first two are channels_last Keras functional models, built from registered layers only,
so they save and load as ``.keras`` files with ``safe_mode=True``; so does BigVGAN (a
registered subclassed model, either data format).
"""

from __future__ import annotations

import warnings

import keras

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.bigvgan import bigvgan  # noqa: F401  (public here: upsample1d.models.bigvgan)
from upsample1d.layers import (
    DOWNSAMPLERS,
    UPSAMPLERS,
    Downsample1D,
    SpaceToDepth1D,
    TransposedConvUpsample1D,
    Upsample1D,
)


def autoencoder(upsampler="subpixel", length=16384, factor=4, channels=1, hidden=32,
                kernel_size=9, upsampler_options=None, name=None, bias=True):
    """The seed article's audio auto-encoder, channels_last, with a choice of upsampler.

    ``(B, length, channels)`` -> SpaceToDepth1D(factor) -> Conv1D(hidden, tanh) ->
    Conv1D(hidden, tanh) (the latent code, ``(B, length / factor, hidden)``) ->
    ``Upsample1D(channels, factor, method=upsampler, **upsampler_options)`` ->
    ``(B, length, channels)``. With ``upsampler="subpixel"`` this is the seed's Conv1D to
    ``factor * channels`` followed by Subpixel1D. ``length`` may be ``None`` (any multiple of
    ``factor``).

    ``bias`` switches the biases of the two encoder convolutions (default on, as in the seed).
    The upsampler itself has no bias unless ``upsampler_options={"use_bias": True}`` (Pons et
    al. 2021: a bias next to an upsampler puts a DC offset, hence spectral replicas, in the
    output). This model has no ReLU (its activations are tanh), so it has no ReLU switch.

    Example:
    >>> from upsample1d.models import autoencoder
    >>> autoencoder().output_shape
    (None, 16384, 1)
    """
    factor = check.positive_int(factor, "factor")
    if length is not None:
        length = check.positive_int(length, "length")
        if length % factor:
            raise ValueError(f"`length` ({length}) must be divisible by factor={factor}.")
    upsampler = check.choice(upsampler, "upsampler", tuple(UPSAMPLERS))
    bias = check.boolean(bias, "bias")
    # The transposed layer's kernel follows its `overlap` unless the options name one.
    options = {} if upsampler == "transposed" else {"kernel_size": kernel_size}
    options.update(upsampler_options or {})
    inputs = keras.Input((length, channels), name="audio")
    x = SpaceToDepth1D(factor, data_format="channels_last", name="down")(inputs)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            use_bias=bias, name="encode")(x)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            use_bias=bias, name="latent")(x)
    outputs = Upsample1D(channels, factor, method=upsampler, data_format="channels_last",
                         name="up", **options)(x)
    return keras.Model(inputs, outputs, name=name or f"autoencoder_{upsampler}")


@keras.saving.register_keras_serializable(package="upsample1d")
class GLU(keras.layers.Layer):
    """Gated linear unit over the last axis: ``a * sigmoid(b)`` with ``a, b`` its two halves.

    ``(..., 2 * C) -> (..., C)``. (``keras.layers.Activation("glu")`` computes the same but
    reports the input's shape as its output shape, which breaks functional models.)
    """

    def call(self, inputs):
        return keras.activations.glu(inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % 2:
            raise ValueError(f"GLU needs an even last dimension, got shape {tuple(input_shape)}.")
        return (*input_shape[:-1], None if channels is None else channels // 2)


@keras.saving.register_keras_serializable(package="upsample1d")
class LengthCheck(keras.layers.Layer):
    """Its input ``(B, T, C)`` unchanged, once ``T`` is known to be divisible by ``multiple``
    (``demucs_like``'s ``factor**depth``): there, "same" strided convolutions round any other
    length up, and the lengths just under a multiple came out at the multiple, without a
    word. A length unknown while tracing is checked when the graph runs (TensorFlow).

    Example:
    >>> import numpy as np
    >>> from upsample1d.models import LengthCheck
    >>> tuple(LengthCheck(4)(np.zeros((1, 8, 2), "float32")).shape)
    (1, 8, 2)
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        self.multiple = check.positive_int(multiple, "multiple")

    def call(self, inputs):
        length = inputs.shape[1]
        if length is not None and length % self.multiple:
            raise ValueError(f"{self.name}: the input has {length} samples; its length must be "
                             f"divisible by factor**depth = {self.multiple} (pad the audio to "
                             f"{-(-length // self.multiple) * self.multiple} samples).")
        return _backend.check_divisible(inputs, 1, self.multiple, self.name, "time",
                                        "channels_last", "factor**depth")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="upsample1d")
class SkipAdd(keras.layers.Add):
    """``keras.layers.Add`` of a decoder stage and its encoder skip, ``(B, T, C)`` twice, that
    refuses two time lengths (Add broadcasts a length of 1: a ``demucs_like`` input shorter
    than ``factor**depth`` came out ``factor**depth`` samples long, without a word).
    ``length_multiple`` is the model's ``factor**depth``, for the message. Streams as Add."""

    def __init__(self, length_multiple, **kwargs):
        super().__init__(**kwargs)
        self.length_multiple = check.positive_int(length_multiple, "length_multiple")

    def call(self, inputs):
        lengths = [x.shape[1] for x in inputs]
        if None not in lengths and len(set(lengths)) > 1:
            raise ValueError(f"{self.name}: the decoder has {lengths[0]} samples where the "
                             f"encoder's skip has {lengths[1]}: the input length must be "
                             f"divisible by factor**depth = {self.length_multiple} (pad the "
                             "audio to the next multiple).")
        return super().call(inputs)

    def get_config(self):
        return {**super().get_config(), "length_multiple": self.length_multiple}


# The configuration of Defossez et al. (2019), "Music Source Separation in the Waveform
# Domain" (Demucs), as used by Pons et al. (2021): pass these to demucs_like for the full model.
DEMUCS_PAPER_CONFIG = {
    "depth": 6,
    "channels": 64,
    "growth": 2,
    "kernel_size": 8,
    "factor": 4,
    "lstm_layers": 2,
    "in_channels": 2,
    "out_channels": 8,  # 4 stereo sources
}


def demucs_like(upsampler="transposed", length=16384, depth=4, channels=16, growth=2,
                kernel_size=8, factor=4, lstm_layers=2, in_channels=1, out_channels=None,
                bias=True, first_relu=True, upsampler_options=None, name=None, stride=None,
                downsampler="strided", downsampler_options=None, lstm="bidirectional"):
    """A Demucs-like U-Net (Defossez et al. 2019) with the decoder's upsampler chosen by name.

    Channels_last, ``(B, length, in_channels) -> (B, length, out_channels)``
    (``out_channels`` defaults to ``in_channels``). With ``C_i = channels * growth**i``:

    - encoder layer ``i`` (``i = 0 .. depth-1``): ``Conv1D(C_i, kernel_size,
      strides=factor, padding="same")`` -> ReLU -> ``Conv1D(2 * C_i, 1)`` -> GLU; its output
      is kept as the skip connection ``skip_i``, of length ``length / factor**(i + 1)``;
    - bottleneck (``lstm_layers > 0``): ``lstm_layers`` bidirectional LSTMs of ``C`` units
      per direction (``C`` the last encoder width), then a ``Dense(C)`` back to ``C``
      channels; ``lstm_layers=0`` leaves it out. ``lstm="unidirectional"`` uses
      unidirectional LSTMs of ``C`` units and no ``Dense`` instead (as the causal real-time
      Demucs of Defossez et al. 2020): the model then runs chunk by chunk with
      :class:`upsample1d.streaming.Stream`, which the bidirectional one cannot;
    - decoder layer ``i`` (``i = depth-1 .. 0``): ``x + skip_i`` -> ``Conv1D(2 * C_i, 1)`` ->
      GLU -> upsampler by ``factor`` to ``C_{i-1}`` channels (``out_channels`` for the last
      one) -> ReLU, except after the last layer (the output is linear).

    ``upsampler`` is any :class:`upsample1d.layers.Upsample1D` method: ``"transposed"`` uses
    ``TransposedConvUpsample1D(kernel_size=kernel_size, factor=factor)`` (Demucs' own layer:
    kernel 8, stride 4 is the full overlap); ``"subpixel"``, ``"nearest"``, ``"linear"`` and
    ``"sinc"`` use ``Upsample1D(C_{i-1}, factor, method=upsampler)`` with that layer's
    defaults (subpixel: conv of 3 taps at the input rate, ICNR init; interpolation: a conv of
    9 taps at the output rate). ``upsampler_options`` go to every upsampler and win over these.
    ``upsampler`` may also be a callable ``(filters, factor, name=...) -> layer`` that builds a
    custom upsampler (``upsampler_options`` and ``bias`` are then not applied to it).

    ``downsampler`` picks the encoder's downsampling the same way: ``"strided"`` (default)
    is the ``keras.layers.Conv1D(C_i, kernel_size, strides=factor, padding="same")`` above,
    layer ``encoder{i}_conv``; ``"space_to_depth"``, ``"sinc"`` and ``"average"`` use
    ``Downsample1D(C_i, factor, method=downsampler)`` (layer ``encoder{i}_down``, that
    layer's defaults: space_to_depth + a 3-tap conv at the output rate, or a fixed sinc /
    block-average decimator + a 3-tap conv) followed by the same ReLU (``encoder{i}_relu``);
    ``downsampler_options`` go to every one of them. A callable ``(filters, factor, name=...)
    -> layer`` builds a custom one (followed by the ReLU). With ``"strided"`` the model is the
    one ``demucs_like`` built before it had this argument, layer for layer.

    ``bias`` switches the biases of every convolution, dense layer and upsampler; and
    ``first_relu`` the ReLU of the first encoder layer (the one applied to the raw audio,
    whose output also reaches the last upsampler through ``skip_0``). ``bias=False,
    first_relu=False`` are the "modified" variants of Pons et al. (2021), who found that the
    DC offsets made by biases and ReLUs are imaged into tones by later upsamplers. (The LSTMs
    keep their gate biases: those sit inside the recurrence, not next to an upsampler.)

    Input length: every encoder layer divides the length by ``factor`` exactly (``"same"``
    padding) and every upsampler multiplies it back, so the skips line up without cropping.
    This needs ``length`` divisible by ``factor**depth``; any other length raises a ValueError
    naming it (pad the audio to the next multiple). ``length=None`` builds a model for any
    length, and the same rule then applies to each input it is called on (its first layer,
    :class:`LengthCheck`, raises it). Unlike Demucs
    (valid convolutions, the input padded by the model and the output cropped), input and
    output have the same length.

    Defaults are small (depth 4, 16 channels doubling, 2 LSTM layers; about 1 M parameters,
    two thirds of them in the LSTMs)
    so the model trains on a CPU. The paper's configuration is :data:`DEMUCS_PAPER_CONFIG`:
    depth 6, 64 channels doubling (64 .. 2048), kernel 8, stride 4, a 2-layer bidirectional
    LSTM; stereo in, 4 stereo sources out; ``demucs_like(**DEMUCS_PAPER_CONFIG)``.

    Example:
    >>> from upsample1d.models import demucs_like
    >>> demucs_like("subpixel", length=4096, depth=3, channels=8).output_shape
    (None, 4096, 1)
    """
    if stride is not None:
        warnings.warn("demucs_like(stride=...) is deprecated since 0.2: the resampling factor "
                      "is called `factor` everywhere; pass factor=.", DeprecationWarning,
                      stacklevel=2)
        factor = stride
    a = _demucs_arguments(upsampler=upsampler, downsampler=downsampler, length=length,
                          depth=depth, channels=channels, growth=growth,
                          kernel_size=kernel_size, factor=factor, lstm_layers=lstm_layers,
                          in_channels=in_channels, out_channels=out_channels,
                          bias=check.boolean(bias, "bias"),
                          first_relu=check.boolean(first_relu, "first_relu"), lstm=lstm)
    a["up_options"] = {"use_bias": a["bias"], **(upsampler_options or {})}
    a["down_options"] = {"use_bias": a["bias"], **(downsampler_options or {})}
    a["widths"] = [a["channels"] * a["growth"] ** i for i in range(a["depth"])]

    inputs = keras.Input((a["length"], a["in_channels"]), name="audio")
    x = LengthCheck(a["factor"] ** a["depth"], name="length_check")(inputs)
    x, skips = _demucs_encoder(x, a)
    if a["lstm_layers"]:
        x = _demucs_bottleneck(x, a)
    x = _demucs_decoder(x, skips, a)
    suffix = "" if (a["bias"] and a["first_relu"]) else "_modified"
    suffix += "_causal_lstm" if a["lstm"] == "unidirectional" and a["lstm_layers"] else ""
    label = "custom" if callable(upsampler) else a["upsampler"]
    if a["downsampler"] != "strided":
        label += "_down_" + ("custom" if callable(downsampler) else a["downsampler"])
    return keras.Model(inputs, x, name=name or f"demucs_like_{label}{suffix}")


def _demucs_arguments(**a):
    """demucs_like's arguments, checked and canonical, as a dict."""
    if not callable(a["upsampler"]):
        a["upsampler"] = check.choice(a["upsampler"], "upsampler", tuple(UPSAMPLERS))
    if not callable(a["downsampler"]):
        a["downsampler"] = check.choice(a["downsampler"], "downsampler", tuple(DOWNSAMPLERS))
    for key in ("depth", "channels", "growth", "kernel_size", "factor", "in_channels"):
        a[key] = check.positive_int(a[key], key)
    a["out_channels"] = a["in_channels"] if a["out_channels"] is None else \
        check.positive_int(a["out_channels"], "out_channels")
    a["lstm_layers"] = check.non_negative_int(a["lstm_layers"], "lstm_layers")
    a["lstm"] = check.choice(a["lstm"], "lstm", ("bidirectional", "unidirectional"))
    kernel_size, factor, depth = a["kernel_size"], a["factor"], a["depth"]
    if kernel_size < factor:
        raise ValueError(f"`kernel_size` ({kernel_size}) must be at least factor={factor}, or "
                         "the strided encoder convolutions skip samples.")
    block = factor ** depth
    if a["length"] is not None:
        length = a["length"] = check.positive_int(a["length"], "length")
        if length % block:
            raise ValueError(
                f"`length` ({length}) must be divisible by factor**depth = {factor}**{depth} = "
                f"{block}; pad the input to {-(-length // block) * block} samples.")
    return a


def _demucs_encoder(x, a):
    """Encoder layers; returns the bottleneck input and the skips."""
    skips = []
    bias, factor, downsampler = a["bias"], a["factor"], a["downsampler"]
    for i, width in enumerate(a["widths"]):
        relu = "relu" if (i > 0 or a["first_relu"]) else None
        if downsampler == "strided":
            x = keras.layers.Conv1D(width, a["kernel_size"], strides=factor, padding="same",
                                    activation=relu, use_bias=bias, name=f"encoder{i}_conv")(x)
        else:
            if callable(downsampler):
                down = downsampler(width, factor, name=f"encoder{i}_down")
            else:
                down = Downsample1D(width, factor, method=downsampler,
                                    data_format="channels_last", name=f"encoder{i}_down",
                                    **a["down_options"])
            x = down(x)
            if relu:
                x = keras.layers.ReLU(name=f"encoder{i}_relu")(x)
        x = keras.layers.Conv1D(2 * width, 1, use_bias=bias, name=f"encoder{i}_rewrite")(x)
        x = GLU(name=f"encoder{i}_glu")(x)
        skips.append(x)
    return x, skips


def _demucs_bottleneck(x, a):
    width = a["widths"][-1]
    if a["lstm"] == "unidirectional":
        for j in range(a["lstm_layers"]):
            x = keras.layers.LSTM(width, return_sequences=True, name=f"lstm{j}")(x)
        return x
    for j in range(a["lstm_layers"]):
        x = keras.layers.Bidirectional(
            keras.layers.LSTM(width, return_sequences=True), name=f"lstm{j}")(x)
    return keras.layers.Dense(width, use_bias=a["bias"], name="lstm_linear")(x)


def _demucs_decoder(x, skips, a):
    widths, factor, upsampler = a["widths"], a["factor"], a["upsampler"]
    for i in reversed(range(a["depth"])):
        target = widths[i - 1] if i > 0 else a["out_channels"]
        x = SkipAdd(factor ** a["depth"], name=f"decoder{i}_skip")([x, skips[i]])
        x = keras.layers.Conv1D(2 * widths[i], 1, use_bias=a["bias"],
                                name=f"decoder{i}_rewrite")(x)
        x = GLU(name=f"decoder{i}_glu")(x)
        if callable(upsampler):
            up = upsampler(target, factor, name=f"decoder{i}_up")
        elif upsampler == "transposed":
            # the layer's kernel follows `overlap` where the options give it
            layer_options = {**({} if "overlap" in a["up_options"] else
                                {"kernel_size": a["kernel_size"]}), **a["up_options"]}
            up = TransposedConvUpsample1D(target, factor, data_format="channels_last",
                                          name=f"decoder{i}_up", **layer_options)
        else:
            up = Upsample1D(target, factor, method=upsampler, data_format="channels_last",
                            name=f"decoder{i}_up", **a["up_options"])
        x = up(x)
        if i > 0:
            x = keras.layers.ReLU(name=f"decoder{i}_relu")(x)
    return x
