"""Learned upsamplers, all as a filter bank at the input rate followed by the shuffle (or, for
interpolation + conv, a fixed bank, the shuffle, then a conv at the output rate)."""

from __future__ import annotations

import warnings

import keras
from keras import ops

from upsample1d import convert
from upsample1d.initializers import ICNR
from upsample1d.ops.interpolate import (
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)
from upsample1d.ops.shuffle import check_data_format, check_factor, check_mode, depth_to_space_1d

INTERPOLATIONS = {
    "nearest": upsample_nearest_1d,
    "linear": upsample_linear_1d,
    "sinc": upsample_sinc_1d,
}


class _Upsampler(keras.layers.Layer):
    """Shared arguments, weights and shape logic of the learned upsamplers."""

    def __init__(self, filters, factor, data_format=None, use_bias=False,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_factor(filters, "filters")
        self.factor = check_factor(factor, "factor")
        self.data_format = check_data_format(data_format)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def _channels(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} expects a rank-3 input, got shape "
                             f"{tuple(input_shape)}.")
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} needs a known channel dimension, got "
                             f"input shape {tuple(input_shape)} ({self.data_format}).")
        return channels

    def _add_kernel_and_bias(self, kernel_shape, bias_size):
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(bias_size,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _add_bias(self, y):
        if self.bias is None:
            return y
        if self.data_format == "channels_last":
            return y + self.bias
        return y + ops.reshape(self.bias, (1, -1, 1))

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        time = input_shape[1 if self.data_format == "channels_last" else 2]
        time = None if time is None else time * self.factor
        if self.data_format == "channels_last":
            return (batch, time, self.filters)
        return (batch, self.filters, time)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "factor": self.factor,
            "data_format": self.data_format,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        })
        return config


@keras.saving.register_keras_serializable(package="upsample1d")
class SubpixelConv1D(_Upsampler):
    """Subpixel convolution: Conv1D to ``factor * filters`` channels at the input rate, then
    :func:`depth_to_space_1d`.

    Shapes: channels_last ``(B, T, C_in) -> (B, T * factor, filters)``; channels_first
    ``(B, C_in, T) -> (B, filters, T * factor)``. With ``y = conv(x)`` (``padding="same"``,
    kernel ``(kernel_size, C_in, factor * filters)``):
    ``out[b, t*factor + i, c] = y[b, t, i*filters + c]`` (``mode="DCR"``) or
    ``y[b, t, c*factor + i]`` (``mode="CRD"``).

    The kernel starts as :class:`upsample1d.initializers.ICNR` (all phases equal: no tones at
    initialisation) unless ``kernel_initializer`` says otherwise. No bias by default: Pons et
    al. (2021) show that biases near upsamplers create spectral replicas of DC.

    Example:
    >>> import keras
    >>> from upsample1d.layers import SubpixelConv1D
    >>> SubpixelConv1D(16, 4)(keras.Input((None, 32))).shape
    (None, None, 16)
    """

    def __init__(self, filters, factor, kernel_size=3, mode="DCR", data_format=None,
                 use_bias=False, kernel_initializer=None, **kwargs):
        mode = check_mode(mode)
        if kernel_initializer is None:
            kernel_initializer = ICNR(factor, "glorot_uniform", mode)
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, **kwargs)
        self.kernel_size = check_factor(kernel_size, "kernel_size")
        self.mode = mode

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, channels, self.factor * self.filters),
                                  self.factor * self.filters)

    def call(self, inputs):
        y = ops.conv(inputs, self.kernel, padding="same", data_format=self.data_format)
        y = self._add_bias(y)
        return depth_to_space_1d(y, self.factor, self.data_format, self.mode)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "mode": self.mode}


@keras.saving.register_keras_serializable(package="upsample1d")
class TransposedConvUpsample1D(_Upsampler):
    """Transposed convolution with stride ``factor``, output length exactly ``T * factor``.

    Kernel ``(kernel_size, filters, C_in)`` (Keras ``Conv1DTranspose`` layout). Alignment is
    Keras' ``padding="same"`` (and torch ``ConvTranspose1d(padding=(K - r) // 2,
    output_padding=(K - r) % 2)``): with the full transposed output
    ``full[n] = sum_t x[t] @ kernel[n - t*factor]``, ``out[j] = full[j + (K - factor) // 2]``,
    so each input step's contribution is centred on its own block of ``factor`` outputs.

    ``overlap="full"`` (default) uses ``kernel_size = 2 * factor``; ``"none"`` uses
    ``factor``; an explicit ``kernel_size`` wins. Pons et al. (2021): partial overlap
    (``kernel_size`` not a multiple of ``factor``) gives the strongest tonal artifacts, so it
    works but warns.

    ``implementation="polyphase"`` (default) runs the equivalent Conv1D at the input rate with
    the kernel re-indexed (:func:`upsample1d.convert.transposed_to_subpixel_kernel`) followed
    by the shuffle; ``"native"`` calls ``keras.ops.conv_transpose``. Polyphase is the default
    because it trains faster on every backend (``benchmarks/results/transposed-*.md``, CPU,
    factors 2-8: polyphase/native time 0.08x on JAX, whose native backward pass is very slow,
    0.6x on torch, 0.9x on TF); native is only faster for TF inference at factor >= 4. Both
    compute the same function with the same weights, so checkpoints move freely between them.

    Example:
    >>> import keras
    >>> from upsample1d.layers import TransposedConvUpsample1D
    >>> TransposedConvUpsample1D(8, 4)(keras.Input((100, 16))).shape
    (None, 400, 8)
    """

    OVERLAPS = ("full", "none")
    IMPLEMENTATIONS = ("polyphase", "native")

    def __init__(self, filters, factor, overlap="full", kernel_size=None,
                 implementation="polyphase", data_format=None, use_bias=False, **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        if overlap not in self.OVERLAPS:
            raise ValueError(f"`overlap` must be one of {self.OVERLAPS}, got overlap={overlap!r}.")
        if implementation not in self.IMPLEMENTATIONS:
            raise ValueError(f"`implementation` must be one of {self.IMPLEMENTATIONS}, got "
                             f"implementation={implementation!r}.")
        if kernel_size is None:
            kernel_size = self.factor * (2 if overlap == "full" else 1)
        kernel_size = check_factor(kernel_size, "kernel_size")
        if kernel_size < self.factor:
            raise ValueError(f"`kernel_size` ({kernel_size}) must be at least factor="
                             f"{self.factor}, or some outputs get no input.")
        if kernel_size % self.factor:
            warnings.warn(
                f"kernel_size={kernel_size} is not a multiple of factor={self.factor}: partial "
                "overlap makes strong tonal artifacts (Pons et al. 2021); prefer "
                "overlap='full' or 'none'.", UserWarning, stacklevel=2)
        self.overlap = overlap
        self.kernel_size = kernel_size
        self.implementation = implementation

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, self.filters, channels), self.filters)

    def call(self, inputs):
        if self.implementation == "native":
            y = ops.conv_transpose(inputs, self.kernel, strides=self.factor, padding="same",
                                   data_format=self.data_format)
            return self._add_bias(y)
        kernel = convert.transposed_to_subpixel_kernel(self.kernel, self.factor, "DCR")
        y = ops.conv(inputs, kernel, padding="same", data_format=self.data_format)
        y = depth_to_space_1d(y, self.factor, self.data_format, "DCR")
        return self._add_bias(y)

    def get_config(self):
        return {**super().get_config(), "overlap": self.overlap,
                "kernel_size": self.kernel_size, "implementation": self.implementation}


@keras.saving.register_keras_serializable(package="upsample1d")
class InterpolationUpsample1D(_Upsampler):
    """Interpolation by ``factor`` then a Conv1D at the output rate ("interpolation +
    convolution" in Pons et al. 2021).

    ``method`` is ``"nearest"`` (:func:`upsample_nearest_1d`), ``"linear"``
    (:func:`upsample_linear_1d`) or ``"sinc"`` (:func:`upsample_sinc_1d`). Shapes:
    channels_last ``(B, T, C_in) -> (B, T * factor, filters)``; the conv has kernel
    ``(kernel_size, C_in, filters)`` and ``padding="same"``. No tones, only the filtering of
    the interpolator (nearest: |sinc| response, linear: sinc^2, sinc: flat to the band edge).

    Example:
    >>> import keras
    >>> from upsample1d.layers import InterpolationUpsample1D
    >>> InterpolationUpsample1D(8, 2, method="linear")(keras.Input((50, 4))).shape
    (None, 100, 8)
    """

    def __init__(self, filters, factor, method="nearest", kernel_size=9, data_format=None,
                 use_bias=False, **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        if method not in INTERPOLATIONS:
            raise ValueError(f"`method` must be one of {tuple(INTERPOLATIONS)}, got "
                             f"method={method!r}.")
        self.method = method
        self.kernel_size = check_factor(kernel_size, "kernel_size")

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, channels, self.filters), self.filters)

    def call(self, inputs):
        y = INTERPOLATIONS[self.method](inputs, self.factor, data_format=self.data_format)
        y = ops.conv(y, self.kernel, padding="same", data_format=self.data_format)
        return self._add_bias(y)

    def get_config(self):
        return {**super().get_config(), "method": self.method, "kernel_size": self.kernel_size}


UPSAMPLERS = {
    "subpixel": (SubpixelConv1D, {}),
    "transposed": (TransposedConvUpsample1D, {}),
    "nearest": (InterpolationUpsample1D, {"method": "nearest"}),
    "linear": (InterpolationUpsample1D, {"method": "linear"}),
    "sinc": (InterpolationUpsample1D, {"method": "sinc"}),
}


@keras.saving.register_keras_serializable(package="upsample1d")
class Upsample1D(keras.layers.Layer):
    """Any upsampler family by name, so one string swaps it in an architecture.

    ``method``: ``"subpixel"`` (:class:`SubpixelConv1D`), ``"transposed"``
    (:class:`TransposedConvUpsample1D`), ``"nearest"``, ``"linear"`` or ``"sinc"``
    (:class:`InterpolationUpsample1D`). Other keyword arguments go to that layer. Serializes as
    ``method`` plus the chosen layer's own options. Shapes as for the chosen layer:
    ``(B, T, C_in) -> (B, T * factor, filters)`` (channels_last).

    Example:
    >>> import keras
    >>> from upsample1d.layers import Upsample1D
    >>> [Upsample1D(8, 4, method=m)(keras.Input((64, 2))).shape[1] for m in ("subpixel", "sinc")]
    [256, 256]
    """

    def __init__(self, filters, factor, method="subpixel", name=None, dtype=None,
                 trainable=True, **options):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        if method not in UPSAMPLERS:
            raise ValueError(f"`method` must be one of {tuple(UPSAMPLERS)}, got "
                             f"method={method!r}.")
        layer_cls, fixed = UPSAMPLERS[method]
        if "method" in options and method in ("subpixel", "transposed"):
            raise ValueError(f"method={method!r} takes no interpolation `method` option.")
        self.method = method
        self.options = options
        self.upsampler = layer_cls(filters, factor, **fixed, **options, dtype=self.dtype_policy,
                                   name=f"{method}_upsampler")
        self.filters = self.upsampler.filters
        self.factor = self.upsampler.factor

    def build(self, input_shape):
        self.upsampler.build(input_shape)

    def call(self, inputs):
        return self.upsampler(inputs)

    def compute_output_shape(self, input_shape):
        return self.upsampler.compute_output_shape(input_shape)

    def get_config(self):
        skip = ("name", "trainable", "dtype", "filters", "factor", "method")
        options = {k: v for k, v in self.upsampler.get_config().items() if k not in skip}
        return {**super().get_config(), "filters": self.filters, "factor": self.factor,
                "method": self.method, **options}
