"""Learned downsamplers: a strided conv, space_to_depth + conv, or a fixed low-pass + conv.

Every layer here has ``factor`` (the downsampling factor), ``filters`` (output channels) and
``kernel_size``, and returns ``ceil(T / factor)`` samples: output ``t`` covers the block of
input samples ``t * factor .. t * factor + factor - 1`` (and the kernel's reach around it),
a length that ``factor`` does not divide reading zeros past its end. A strided conv and
space_to_depth + conv are the same function with re-indexed weights
(:func:`upsample1d.kernels.strided_to_space_to_depth_kernel`), as transposed and subpixel
convolutions are for upsampling: :meth:`SpaceToDepthConv1D.from_strided` and
:meth:`StridedConv1D.from_space_to_depth` convert exactly.
"""

from __future__ import annotations

import warnings

import keras
from keras import ops

import upsample1d.ops._polyphase as engine
from upsample1d import _backend, kernels
from upsample1d import _validation as check
from upsample1d.layers._base import ChosenResampler, ConvResampler, converted_options
from upsample1d.ops.downsample import DOWNSAMPLINGS
from upsample1d.ops.shuffle import space_to_depth


class _Downsampler(ConvResampler):
    """Shape logic and weight copying of the learned downsamplers."""

    def _resample(self, inputs):
        return self._add_bias(self._downsample(inputs))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = check.time_axis(self.data_format)
        shape[axis] = check.resampled_length(shape[axis], 1, self.factor)
        shape[check.channel_axis(self.data_format)] = self.filters
        return tuple(shape)

    def _copy_weights_from(self, layer, kernel, input_channels):
        """Build with ``input_channels`` and take ``kernel`` and ``layer``'s bias."""
        self.build(self._input_shape(input_channels))
        weights = [kernel]
        if layer.use_bias:
            weights.append(ops.convert_to_numpy(layer.bias))
        self.set_weights(weights)
        return self


@keras.saving.register_keras_serializable(package="upsample1d")
class StridedConv1D(_Downsampler):
    """Convolution with stride ``factor``, output length exactly ``ceil(T / factor)``.

    Kernel ``(kernel_size, C_in, filters)`` (Keras ``Conv1D`` layout). With
    ``p = max(kernel_size - factor, 0) // 2`` (:func:`upsample1d.kernels.strided_padding`):
    ``out[b, t, f] = sum_k sum_c x[b, t*factor + k - p, c] * kernel[k, c, f]`` (channels_last
    indexing; ``x`` zero outside ``[0, T)``), for ``t < ceil(T / factor)``. That is
    ``keras.layers.Conv1D(filters, kernel_size, strides=factor, padding="same")`` whenever
    ``factor`` divides T (the layer then calls exactly that convolution). For other lengths
    Keras' left padding moves with ``T mod factor``; this layer keeps ``p``, so every output
    sits at the same place relative to its block for every length, and the layer converts
    exactly to :class:`SpaceToDepthConv1D` (:meth:`SpaceToDepthConv1D.from_strided`) and
    back (:meth:`from_space_to_depth`). In torch terms: ``Conv1d(C_in, filters, K,
    stride=factor)`` on the input zero-padded by ``(p, K - 1 - p)``.

    ``kernel_size`` defaults to ``2 * factor`` (each output reads its own block and half a
    block on each side: Demucs' kernel 8 at stride 4). A kernel shorter than ``factor``
    never reads ``factor - kernel_size`` of every ``factor`` samples: it works but warns.

    Args:
        filters: output channels.
        factor: downsampling factor (the stride).
        kernel_size: taps at the input rate (default ``2 * factor``).
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (Keras' default).
        use_bias: default False (as every layer here; Keras' Conv1D defaults to True).
        **kwargs: the other ``keras.layers.Conv1D`` weight options (``kernel_initializer``,
            ``bias_initializer``, regularizers, constraints) and Layer options.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, ceil(T / factor), filters)``; channels_first
        ``(B, filters, ceil(T / factor))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import StridedConv1D
    >>> StridedConv1D(8, 4)(keras.Input((103, 2))).shape
    (None, 26, 8)
    """

    def __init__(self, filters, factor, kernel_size=None, data_format=None, use_bias=False,
                 **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        if kernel_size is None:
            kernel_size = 2 * self.factor
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        if self.kernel_size < self.factor:
            warnings.warn(
                f"kernel_size={self.kernel_size} is shorter than factor={self.factor}: "
                f"{self.factor - self.kernel_size} of every {self.factor} input samples are "
                "never read.", UserWarning, stacklevel=2)
        p = kernels.strided_padding(self.kernel_size, self.factor)
        self._pad = (p, self.kernel_size - 1 - p)

    def build(self, input_shape):
        self._add_kernel_and_bias((self.kernel_size, self._channels(input_shape),
                                   self.filters))

    def _downsample(self, inputs):
        time = inputs.shape[check.time_axis(self.data_format)]
        if time is not None and time % self.factor == 0:  # Keras' "same" is this alignment
            return _backend.conv(inputs, self.kernel, padding="same",
                                 data_format=self.data_format, strides=self.factor)
        # (p, K - 1 - p) zeros: a "valid" strided conv then gives ceil(T / factor) outputs.
        x = engine.pad(inputs, *self._pad, self.data_format, "zeros")
        return _backend.conv(x, self.kernel, padding="valid", data_format=self.data_format,
                             strides=self.factor)

    @classmethod
    def from_space_to_depth(cls, layer):
        """A built ``StridedConv1D`` computing exactly what the built
        :class:`SpaceToDepthConv1D` ``layer`` (or a ``Downsample1D`` holding one) computes:
        the kernel re-indexed by
        :func:`upsample1d.kernels.space_to_depth_to_strided_kernel`, the bias copied. The
        new layer keeps its name and ``trainable``; regularizers and constraints are not
        carried (a warning names them)."""
        layer, carried = converted_options(layer, "from_space_to_depth")
        if not isinstance(layer, SpaceToDepthConv1D) or not layer.built:
            raise TypeError(f"from_space_to_depth needs a built SpaceToDepthConv1D, got "
                            f"{layer!r}.")
        kernel = kernels.space_to_depth_to_strided_kernel(
            ops.convert_to_numpy(layer.kernel), layer.factor, layer.mode)
        new = cls(layer.filters, layer.factor, kernel_size=kernel.shape[0],
                  data_format=layer.data_format, use_bias=layer.use_bias,
                  dtype=layer.dtype_policy, **carried)
        return new._copy_weights_from(layer, kernel, kernel.shape[1])

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="upsample1d")
class SpaceToDepthConv1D(_Downsampler):
    """:class:`~upsample1d.layers.SpaceToDepth1D` by ``factor``, then a Conv1D at the output
    rate: the inverse arrangement of :class:`~upsample1d.layers.SubpixelConv1D`.

    The input is zero-padded at the end to whole blocks of ``factor`` samples, folded into
    ``factor * C_in`` channels (``X[t, i*C_in + c] = x[t*factor + i, c]`` with
    ``mode="DCR"``, ``X[t, c*factor + i]`` with ``"CRD"``), and convolved ("same" padding,
    kernel ``(kernel_size, factor * C_in, filters)``):
    ``out[t] = sum_n X[t + n - (kernel_size - 1) // 2] @ kernel[n]``. Every output reads whole
    blocks: ``kernel_size`` blocks of ``factor`` samples, the same function as a
    :class:`StridedConv1D` of ``kernel_size * factor`` taps for odd ``kernel_size`` (up to
    ``(kernel_size + 1) * factor - 1`` taps, the extra ones zero, for even ``kernel_size``:
    :func:`upsample1d.kernels.space_to_depth_to_strided_kernel`), as one "same" conv at the
    output rate (:meth:`from_strided`, :meth:`StridedConv1D.from_space_to_depth`).

    Args:
        filters: output channels.
        factor: downsampling factor.
        kernel_size: taps at the output rate (default 3: each output reads its own block and
            one on each side).
        mode: ``"DCR"`` (default) or ``"CRD"``: the order of the folded channels.
        data_format, use_bias, **kwargs: as :class:`StridedConv1D`.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, ceil(T / factor), filters)``; channels_first
        ``(B, filters, ceil(T / factor))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import SpaceToDepthConv1D
    >>> SpaceToDepthConv1D(16, 4)(keras.Input((None, 32))).shape
    (None, None, 16)
    """

    def __init__(self, filters, factor, kernel_size=3, mode="DCR", data_format=None,
                 use_bias=False, **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        self.mode = check.mode(mode)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, self.factor * channels, self.filters))

    def _downsample(self, inputs):
        x, _ = engine.pad_to_blocks(inputs, self.factor, self.data_format, "zeros")
        x = space_to_depth(x, self.factor, self.data_format, self.mode)
        return _backend.conv(x, self.kernel, padding="same", data_format=self.data_format)

    @classmethod
    def from_strided(cls, layer, mode="DCR"):
        """A built ``SpaceToDepthConv1D`` (``mode``) computing exactly what the built
        :class:`StridedConv1D` ``layer`` (or a ``Downsample1D`` holding one) computes: the
        kernel re-indexed by :func:`upsample1d.kernels.strided_to_space_to_depth_kernel`
        (``kernel_size`` :func:`upsample1d.kernels.space_to_depth_kernel_size`), the bias
        copied. The new layer keeps its name and ``trainable``; regularizers and constraints
        are not carried (a warning names them)."""
        layer, carried = converted_options(layer, "from_strided")
        if not isinstance(layer, StridedConv1D) or not layer.built:
            raise TypeError(f"from_strided needs a built StridedConv1D, got {layer!r}.")
        mode = check.mode(mode)
        kernel = kernels.strided_to_space_to_depth_kernel(
            ops.convert_to_numpy(layer.kernel), layer.factor, mode)
        new = cls(layer.filters, layer.factor, kernel_size=kernel.shape[0], mode=mode,
                  data_format=layer.data_format, use_bias=layer.use_bias,
                  dtype=layer.dtype_policy, **carried)
        return new._copy_weights_from(layer, kernel, kernel.shape[1] // layer.factor)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "mode": self.mode}


@keras.saving.register_keras_serializable(package="upsample1d")
class FilteredDownsample1D(_Downsampler):
    """A fixed anti-alias downsampler, then a Conv1D at the output rate.

    ``z = downsample(x)`` with ``method`` ``"sinc"``
    (:func:`~upsample1d.ops.downsample_sinc_1d`: Kaiser-windowed sinc low-pass, 21 taps per
    phase, flat to near the output Nyquist) or ``"average"``
    (:func:`~upsample1d.ops.downsample_average_1d`: block means, a |sinc| response, cheap),
    then ``out[t] = sum_n z[t + n - (kernel_size - 1) // 2] @ kernel[n]`` ("same" padding,
    kernel ``(kernel_size, C_in, filters)``). The filter is fixed, so what the conv sees is
    band-limited before it is decimated: no aliasing for the weights to undo (or learn to
    exploit). The decimator runs at the output rate (polyphase), so the filter costs its
    taps per output sample, not ``factor`` times that.

    Args:
        filters: output channels.
        factor: downsampling factor.
        method: ``"sinc"`` (default) or ``"average"``.
        kernel_size: taps of the convolution at the output rate (default 3).
        data_format, use_bias, **kwargs: as :class:`StridedConv1D`.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, ceil(T / factor), filters)``; channels_first
        ``(B, filters, ceil(T / factor))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import FilteredDownsample1D
    >>> FilteredDownsample1D(8, 2, method="average")(keras.Input((50, 4))).shape
    (None, 25, 8)
    """

    METHODS = ("sinc", "average")

    def __init__(self, filters, factor, method="sinc", kernel_size=3, data_format=None,
                 use_bias=False, **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        self.method = check.choice(method, "method", self.METHODS)
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")

    def build(self, input_shape):
        self._add_kernel_and_bias((self.kernel_size, self._channels(input_shape),
                                   self.filters))

    def _downsample(self, inputs):
        z = DOWNSAMPLINGS[self.method](inputs, self.factor, self.data_format)
        return _backend.conv(z, self.kernel, padding="same", data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "method": self.method, "kernel_size": self.kernel_size}


# method -> (layer, its fixed options)
DOWNSAMPLERS = {
    "strided": (StridedConv1D, {}),
    "space_to_depth": (SpaceToDepthConv1D, {}),
    "sinc": (FilteredDownsample1D, {"method": "sinc"}),
    "average": (FilteredDownsample1D, {"method": "average"}),
}


@keras.saving.register_keras_serializable(package="upsample1d")
class Downsample1D(ChosenResampler):
    """Any learned downsampler by name, so one string swaps it in an architecture.

    ``method``: ``"strided"`` (:class:`StridedConv1D`), ``"space_to_depth"``
    (:class:`SpaceToDepthConv1D`), ``"sinc"`` or ``"average"`` (:class:`FilteredDownsample1D`).
    Other keyword arguments go to that layer (``kernel_size``, ``use_bias``, ``mode``, the
    weight options). Serializes as ``method`` plus the chosen layer's own options.

    Args:
        filters: output channels.
        factor: downsampling factor.
        method: one of the four names above (default ``"strided"``; letter case ignored).
        **options: the chosen layer's arguments.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, ceil(T / factor), filters)``; channels_first
        ``(B, filters, ceil(T / factor))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import Downsample1D
    >>> x = keras.Input((64, 2))
    >>> [Downsample1D(8, 4, method=m)(x).shape[1] for m in ("strided", "space_to_depth", "sinc")]
    [16, 16, 16]
    """

    CHOICES = DOWNSAMPLERS
    ROLE = "downsampler"

    def __init__(self, filters, factor, method="strided", name=None, dtype=None,
                 trainable=True, **options):
        super().__init__(filters, factor, method, name=name, dtype=dtype,
                         trainable=trainable, **options)
