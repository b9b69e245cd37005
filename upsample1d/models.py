"""Reference architectures built from this package's layers.

- :func:`autoencoder`: the seed article's small audio auto-encoder (one down/up step).
- :func:`demucs_like`: a Demucs-style U-Net (Defossez et al. 2019) with a choice of decoder
  upsampler, the model of Pons et al. (2021)'s upsampler comparison.

Both are channels_last Keras functional models, built from registered layers only, so they
save and load as ``.keras`` files with ``safe_mode=True``.
"""

from __future__ import annotations

import keras

from upsample1d.layers import UPSAMPLERS, SpaceToDepth1D, TransposedConvUpsample1D, Upsample1D
from upsample1d.ops.shuffle import check_factor


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
    factor = check_factor(factor, "factor")
    if length is not None:
        length = check_factor(length, "length")
        if length % factor:
            raise ValueError(f"`length` ({length}) must be divisible by factor={factor}.")
    # The transposed layer's kernel follows its `overlap` unless the options name one.
    options = {} if upsampler == "transposed" else {"kernel_size": kernel_size}
    options.update(upsampler_options or {})
    inputs = keras.Input((length, channels), name="audio")
    x = SpaceToDepth1D(factor, data_format="channels_last", name="down")(inputs)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            use_bias=bool(bias), name="encode")(x)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            use_bias=bool(bias), name="latent")(x)
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


# The configuration of Defossez et al. (2019), "Music Source Separation in the Waveform
# Domain" (Demucs), as used by Pons et al. (2021): pass these to demucs_like for the full model.
DEMUCS_PAPER_CONFIG = {
    "depth": 6,
    "channels": 64,
    "growth": 2,
    "kernel_size": 8,
    "stride": 4,
    "lstm_layers": 2,
    "in_channels": 2,
    "out_channels": 8,  # 4 stereo sources
}


def demucs_like(upsampler="transposed", length=16384, depth=4, channels=16, growth=2,
                kernel_size=8, stride=4, lstm_layers=2, in_channels=1, out_channels=None,
                bias=True, first_relu=True, upsampler_options=None, name=None):
    """A Demucs-like U-Net (Defossez et al. 2019) with the decoder's upsampler chosen by name.

    Channels_last, ``(B, length, in_channels) -> (B, length, out_channels)``
    (``out_channels`` defaults to ``in_channels``). With ``C_i = channels * growth**i``:

    - encoder layer ``i`` (``i = 0 .. depth-1``): ``Conv1D(C_i, kernel_size,
      strides=stride, padding="same")`` -> ReLU -> ``Conv1D(2 * C_i, 1)`` -> GLU; its output
      is kept as the skip connection ``skip_i``, of length ``length / stride**(i + 1)``;
    - bottleneck (``lstm_layers > 0``): ``lstm_layers`` bidirectional LSTMs of ``C`` units
      per direction (``C`` the last encoder width), then a ``Dense(C)`` back to ``C``
      channels; ``lstm_layers=0`` leaves it out;
    - decoder layer ``i`` (``i = depth-1 .. 0``): ``x + skip_i`` -> ``Conv1D(2 * C_i, 1)`` ->
      GLU -> upsampler by ``stride`` to ``C_{i-1}`` channels (``out_channels`` for the last
      one) -> ReLU, except after the last layer (the output is linear).

    ``upsampler`` is any :class:`upsample1d.layers.Upsample1D` method: ``"transposed"`` uses
    ``TransposedConvUpsample1D(kernel_size=kernel_size, factor=stride)`` (Demucs' own layer:
    kernel 8, stride 4 is the full overlap); ``"subpixel"``, ``"nearest"``, ``"linear"`` and
    ``"sinc"`` use ``Upsample1D(C_{i-1}, stride, method=upsampler)`` with that layer's
    defaults (subpixel: conv of 3 taps at the input rate, ICNR init; interpolation: a conv of
    9 taps at the output rate). ``upsampler_options`` go to every upsampler and win over these.
    ``upsampler`` may also be a callable ``(filters, factor, name=...) -> layer`` that builds a
    custom upsampler (``upsampler_options`` and ``bias`` are then not applied to it).

    ``bias`` switches the biases of every convolution, dense layer and upsampler; and
    ``first_relu`` the ReLU of the first encoder layer (the one applied to the raw audio,
    whose output also reaches the last upsampler through ``skip_0``). ``bias=False,
    first_relu=False`` are the "modified" variants of Pons et al. (2021), who found that the
    DC offsets made by biases and ReLUs are imaged into tones by later upsamplers. (The LSTMs
    keep their gate biases: those sit inside the recurrence, not next to an upsampler.)

    Input length: every encoder layer divides the length by ``stride`` exactly (``"same"``
    padding) and every upsampler multiplies it back, so the skips line up without cropping.
    This needs ``length`` divisible by ``stride**depth``; any other length raises a ValueError
    naming it (pad the audio to the next multiple). ``length=None`` builds a model for any
    length, and the same rule then applies to each input it is called on. Unlike Demucs
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
    if not callable(upsampler) and upsampler not in UPSAMPLERS:
        raise ValueError(f"`upsampler` must be one of {tuple(UPSAMPLERS)} or a callable, got "
                         f"upsampler={upsampler!r}.")
    depth = check_factor(depth, "depth")
    channels = check_factor(channels, "channels")
    growth = check_factor(growth, "growth")
    kernel_size = check_factor(kernel_size, "kernel_size")
    stride = check_factor(stride, "stride")
    in_channels = check_factor(in_channels, "in_channels")
    out_channels = in_channels if out_channels is None else check_factor(out_channels,
                                                                          "out_channels")
    if isinstance(lstm_layers, bool) or not isinstance(lstm_layers, int) or lstm_layers < 0:
        raise ValueError(f"`lstm_layers` must be an int >= 0, got lstm_layers={lstm_layers!r}.")
    if kernel_size < stride:
        raise ValueError(f"`kernel_size` ({kernel_size}) must be at least stride={stride}, or "
                         "the strided encoder convolutions skip samples.")
    block = stride ** depth
    if length is not None:
        length = check_factor(length, "length")
        if length % block:
            raise ValueError(
                f"`length` ({length}) must be divisible by stride**depth = {stride}**{depth} = "
                f"{block}; pad the input to {-(-length // block) * block} samples.")
    bias = bool(bias)
    options = {"use_bias": bias, **(upsampler_options or {})}
    widths = [channels * growth ** i for i in range(depth)]

    inputs = keras.Input((length, in_channels), name="audio")
    x = inputs
    skips = []
    for i, width in enumerate(widths):
        relu = "relu" if (i > 0 or first_relu) else None
        x = keras.layers.Conv1D(width, kernel_size, strides=stride, padding="same",
                                activation=relu, use_bias=bias, name=f"encoder{i}_conv")(x)
        x = keras.layers.Conv1D(2 * width, 1, use_bias=bias, name=f"encoder{i}_rewrite")(x)
        x = GLU(name=f"encoder{i}_glu")(x)
        skips.append(x)

    if lstm_layers:
        width = widths[-1]
        for j in range(lstm_layers):
            x = keras.layers.Bidirectional(
                keras.layers.LSTM(width, return_sequences=True), name=f"lstm{j}")(x)
        x = keras.layers.Dense(width, use_bias=bias, name="lstm_linear")(x)

    for i in reversed(range(depth)):
        width = widths[i]
        target = widths[i - 1] if i > 0 else out_channels
        x = keras.layers.Add(name=f"decoder{i}_skip")([x, skips[i]])
        x = keras.layers.Conv1D(2 * width, 1, use_bias=bias, name=f"decoder{i}_rewrite")(x)
        x = GLU(name=f"decoder{i}_glu")(x)
        if callable(upsampler):
            up = upsampler(target, stride, name=f"decoder{i}_up")
        elif upsampler == "transposed":
            layer_options = {"kernel_size": kernel_size, **options}
            up = TransposedConvUpsample1D(target, stride, data_format="channels_last",
                                          name=f"decoder{i}_up", **layer_options)
        else:
            up = Upsample1D(target, stride, method=upsampler, data_format="channels_last",
                            name=f"decoder{i}_up", **options)
        x = up(x)
        if i > 0:
            x = keras.layers.ReLU(name=f"decoder{i}_relu")(x)
    suffix = "" if (bias and first_relu) else "_modified"
    label = "custom" if callable(upsampler) else upsampler
    return keras.Model(inputs, x, name=name or f"demucs_like_{label}{suffix}")
