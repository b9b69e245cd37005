"""Learned upsamplers, each a filter bank at the input rate followed by the shuffle.

Every layer here has ``factor`` (the upsampling factor), ``filters`` (output channels) and a
polyphase view of its weights, :meth:`phase_kernels` / :meth:`phase_biases`, which is what
:mod:`upsample1d.artifacts` analyses and what the conversions between forms re-index.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from keras import ops

import upsample1d.ops._polyphase as engine
from upsample1d import _backend, filters, kernels
from upsample1d import _validation as check
from upsample1d.initializers import ICNR
from upsample1d.layers._base import ChosenResampler, ConvResampler, converted_options
from upsample1d.ops.interpolate import INTERPOLATIONS
from upsample1d.ops.shuffle import depth_to_space


class _Upsampler(ConvResampler):
    """Shape logic and polyphase view of the learned upsamplers."""

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        time = input_shape[check.time_axis(self.data_format)]
        time = None if time is None else time * self.factor
        if self.data_format == "channels_last":
            return (batch, time, self.filters)
        return (batch, self.filters, time)

    def _numpy_kernel(self):
        if not self.built:
            raise ValueError(f"{type(self).__name__} has no weights yet: call it once or "
                             "build it.")
        return np.asarray(ops.convert_to_numpy(self.kernel), np.float64)

    def phase_kernels(self):
        """The layer's weights as ``factor`` convolutions at the input rate (NumPy, float64).

        Returns ``k`` of shape ``(factor, N, C_in, filters)``: away from the ends of the
        signal (and everywhere for the subpixel and transposed forms), output sample
        ``t * factor + i`` of channel ``f`` is
        ``sum_n sum_c k[i, n, c, f] * x[t + n - (N - 1) // 2, c]`` plus ``phase_biases()[i, f]``.
        Phases whose DC gains differ make tones at multiples of the input rate (Pons et al.
        2021); see :func:`upsample1d.artifacts.phase_gains`.
        """
        raise NotImplementedError

    def phase_biases(self):
        """The bias of each phase, ``(factor, filters)`` (NumPy, float64; zeros without bias)."""
        if self.bias is None:
            return np.zeros((self.factor, self.filters))
        bias = np.asarray(ops.convert_to_numpy(self.bias), np.float64)
        return np.broadcast_to(bias, (self.factor, self.filters)).copy()


@keras.saving.register_keras_serializable(package="upsample1d")
class SubpixelConv1D(_Upsampler):
    """Subpixel convolution: Conv1D to ``factor * filters`` channels at the input rate, then
    the shuffle (:func:`~upsample1d.ops.depth_to_space_1d`).

    With ``y = conv(x)`` (``padding="same"``, kernel ``(kernel_size, C_in, factor *
    filters)``): ``out[b, t*factor + i, c] = y[b, t, i*filters + c]`` (``mode="DCR"``) or
    ``y[b, t, c*factor + i]`` (``mode="CRD"``).

    The kernel starts as :class:`upsample1d.initializers.ICNR` (all phases equal: no tones at
    initialisation) unless ``kernel_initializer`` says otherwise. No bias by default: Pons et
    al. (2021) show that biases near upsamplers create spectral replicas of DC.

    Args:
        filters: output channels.
        factor: upsampling factor.
        kernel_size: taps of the convolution at the input rate (default 3).
        mode: ``"DCR"`` (default) or ``"CRD"``: the order of the phases in the conv's output.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (Keras' default).
        use_bias: default False.
        kernel_initializer: default ``ICNR(factor, "glorot_uniform", mode)``.
        **kwargs: the other ``keras.layers.Conv1D`` weight options (``bias_initializer``,
            regularizers, constraints) and Layer options.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, T * factor, filters)``; channels_first
        ``(B, filters, T * factor)``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import SubpixelConv1D
    >>> SubpixelConv1D(16, 4)(keras.Input((None, 32))).shape
    (None, None, 16)
    """

    def __init__(self, filters, factor, kernel_size=3, mode="DCR", data_format=None,
                 use_bias=False, kernel_initializer=None, **kwargs):
        mode = check.mode(mode)
        factor = check.positive_int(factor, "factor")
        if kernel_initializer is None:
            kernel_initializer = ICNR(factor, "glorot_uniform", mode)
        elif isinstance(kernel_initializer, ICNR) and \
                (kernel_initializer.factor, kernel_initializer.mode) != (factor, mode):
            raise ValueError(
                f"`kernel_initializer` ICNR(factor={kernel_initializer.factor}, "
                f"mode={kernel_initializer.mode!r}) does not match the layer's factor={factor}, "
                f"mode={mode!r}: its phases would differ (tones at initialisation); pass "
                f"ICNR({factor}, mode={mode!r}) or leave kernel_initializer unset.")
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, **kwargs)
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        self.mode = mode

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, channels, self.factor * self.filters),
                                  self.factor * self.filters)

    def _resample(self, inputs):
        y = _backend.conv(inputs, self.kernel, padding="same", data_format=self.data_format)
        y = self._add_bias(y)  # one bias per phase and channel: before the shuffle
        return depth_to_space(y, self.factor, self.data_format, self.mode)

    def phase_kernels(self):
        return kernels.centred_phase_kernels(self._numpy_kernel(), self.factor, self.mode,
                                             (self.kernel_size - 1) // 2)

    def phase_biases(self):
        if self.bias is None:
            return np.zeros((self.factor, self.filters))
        bias = np.asarray(ops.convert_to_numpy(self.bias), np.float64)
        if self.mode == "DCR":
            return bias.reshape(self.factor, self.filters)
        return bias.reshape(self.filters, self.factor).T.copy()

    @classmethod
    def from_transposed(cls, layer):
        """A built ``SubpixelConv1D`` (mode ``"DCR"``) computing exactly what the built
        :class:`TransposedConvUpsample1D` ``layer`` computes: the kernel re-indexed by
        :func:`upsample1d.kernels.transposed_to_subpixel_kernel`, the bias tiled per phase.
        ``layer`` may be an :class:`Upsample1D` holding one. The new layer keeps its name and
        ``trainable``; regularizers and constraints are not carried (a warning names them)."""
        layer, carried = converted_options(layer, "from_transposed")
        if not isinstance(layer, TransposedConvUpsample1D) or not layer.built:
            raise TypeError(f"from_transposed needs a built TransposedConvUpsample1D, got "
                            f"{layer!r}.")
        kernel = ops.convert_to_numpy(
            kernels.transposed_to_subpixel_kernel(layer.kernel, layer.factor, "DCR"))
        new = cls(layer.filters, layer.factor, kernel_size=kernel.shape[0], mode="DCR",
                  data_format=layer.data_format, use_bias=layer.use_bias,
                  dtype=layer.dtype_policy, **carried)
        new.build(new._input_shape(kernel.shape[1]))
        weights = [kernel]
        if layer.use_bias:
            weights.append(np.tile(ops.convert_to_numpy(layer.bias), layer.factor))
        new.set_weights(weights)
        return new

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "mode": self.mode}


@keras.saving.register_keras_serializable(package="upsample1d")
class TransposedConvUpsample1D(_Upsampler):
    """Transposed convolution with stride ``factor``, output length exactly ``T * factor``.

    Kernel ``(kernel_size, filters, C_in)`` (Keras ``Conv1DTranspose`` layout). Alignment is
    Keras' ``padding="same"``: with the full transposed output
    ``full[n] = sum_t x[t] @ kernel[n - t*factor]``, ``out[j] = full[j + (K - factor) // 2]``,
    so each input step's contribution is centred on its own block of ``factor`` outputs.
    In torch terms: ``ConvTranspose1d(C_in, filters, K, stride=factor, padding=(K - factor)
    // 2)`` (``output_padding=0``) followed by keeping its first ``T * factor`` samples (it
    returns one more when ``K - factor`` is odd).

    ``overlap="full"`` (default) uses ``kernel_size = 2 * factor``; ``"none"`` uses
    ``factor``; an explicit ``kernel_size`` wins. Pons et al. (2021): partial overlap
    (``kernel_size`` not a multiple of ``factor``) gives the strongest tonal artifacts, so it
    works but warns.

    ``implementation="polyphase"`` (default) runs the equivalent Conv1D at the input rate with
    the kernel re-indexed (:func:`upsample1d.kernels.transposed_to_subpixel_kernel`) followed
    by the shuffle; ``"native"`` calls ``keras.ops.conv_transpose``. Which is faster depends on
    the backend and the overlap (``benchmarks/README.md``: polyphase by far on JAX, about even
    on TensorFlow, native with full overlap on torch's CPU). Both compute the same function
    with the same weights, so checkpoints move freely between them.

    Args:
        filters: output channels.
        factor: upsampling factor (the stride).
        overlap: ``"full"`` (default) or ``"none"``; sets ``kernel_size`` when it is None.
        kernel_size: taps of the transposed kernel, at least ``factor``.
        implementation: ``"polyphase"`` (default) or ``"native"``.
        data_format, use_bias, **kwargs: as :class:`SubpixelConv1D`.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, T * factor, filters)``; channels_first
        ``(B, filters, T * factor)``.

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
        overlap = check.choice(overlap, "overlap", self.OVERLAPS)
        implementation = check.choice(implementation, "implementation", self.IMPLEMENTATIONS)
        if kernel_size is None:
            kernel_size = self.factor * (2 if overlap == "full" else 1)
        kernel_size = check.positive_int(kernel_size, "kernel_size")
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
        self._geometry = kernels.transposed_geometry(kernel_size, self.factor)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, self.filters, channels), self.filters)

    def _resample(self, inputs):
        if self.implementation == "native":
            kernel = _backend.derived_kernel(
                self, lambda: ops.cast(self.kernel, self.compute_dtype), self.kernel)
            y = _backend.conv_transpose(inputs, kernel, self.factor, padding="same",
                                        data_format=self.data_format)
            return self._add_bias(y)
        kernel = _backend.derived_kernel(self, lambda: kernels._transposed_to_subpixel(
            self.kernel, self.factor, "DCR", self._geometry), self.kernel)
        y = _backend.conv(inputs, kernel, padding="same", data_format=self.data_format)
        return self._add_bias(depth_to_space(y, self.factor, self.data_format, "DCR"))

    def phase_kernels(self):
        kernel = ops.convert_to_numpy(kernels._transposed_to_subpixel(
            ops.convert_to_tensor(self._numpy_kernel()), self.factor, "DCR", self._geometry))
        return kernels.centred_phase_kernels(kernel, self.factor, "DCR",
                                             (kernel.shape[0] - 1) // 2)

    @classmethod
    def from_subpixel(cls, layer, implementation="polyphase"):
        """A built ``TransposedConvUpsample1D`` computing exactly what the built
        :class:`SubpixelConv1D` ``layer`` computes (the kernel re-indexed by
        :func:`upsample1d.kernels.subpixel_to_transposed_kernel`). Raises ValueError if the
        subpixel layer's bias differs between phases (a transposed conv has one bias per
        channel). ``layer`` may be an :class:`Upsample1D` holding one. The new layer keeps
        its name and ``trainable``; regularizers and constraints are not carried (a warning
        names them)."""
        layer, carried = converted_options(layer, "from_subpixel")
        if not isinstance(layer, SubpixelConv1D) or not layer.built:
            raise TypeError(f"from_subpixel needs a built SubpixelConv1D, got {layer!r}.")
        kernel = kernels.subpixel_to_transposed_kernel(ops.convert_to_numpy(layer.kernel),
                                                       layer.factor, layer.mode)
        new = cls(layer.filters, layer.factor, kernel_size=kernel.shape[0],
                  implementation=implementation, data_format=layer.data_format,
                  use_bias=layer.use_bias, dtype=layer.dtype_policy, **carried)
        new.build(new._input_shape(kernel.shape[2]))
        weights = [kernel]
        if layer.use_bias:
            phases = layer.phase_biases()
            if not np.all(phases == phases[:1]):
                raise ValueError("this SubpixelConv1D has a bias that differs between phases; "
                                 "a transposed conv has one bias per channel and cannot match "
                                 "it.")
            weights.append(phases[0])
        new.set_weights(weights)
        return new

    def get_config(self):
        return {**super().get_config(), "overlap": self.overlap,
                "kernel_size": self.kernel_size, "implementation": self.implementation}


@keras.saving.register_keras_serializable(package="upsample1d")
class InterpolationUpsample1D(_Upsampler):
    """Interpolation by ``factor`` then a Conv1D at the output rate ("interpolation +
    convolution" in Pons et al. 2021), computed at the input rate.

    The function: ``u = interpolate(x)`` with ``method`` ``"nearest"``
    (:func:`~upsample1d.ops.upsample_nearest_1d`), ``"linear"``
    (:func:`~upsample1d.ops.upsample_linear_1d`) or ``"sinc"``
    (:func:`~upsample1d.ops.upsample_sinc_1d`), then
    ``y[j] = sum_k u[j + k - p] @ kernel[k]`` with ``p = (kernel_size - 1) // 2`` and ``u``
    zero outside ``[0, T * factor)`` (Keras ``padding="same"``). No tones, only the filtering
    of the interpolator (nearest: |sinc| response, linear: sinc^2, sinc: flat to the band
    edge).

    ``implementation="fused"`` computes it at the input rate: output
    ``t * factor + i`` is ``sum_d x[t + d - left] @ W_i[d]``, where phase ``i``'s kernel
    ``W_i`` is ``kernel`` folded through the interpolator
    (:func:`upsample1d.filters.interpolation_composition`; for nearest
    ``W_i[n] = sum of kernel[k] over k with floor((i + k - p) / factor) = n``), then the
    shuffle. For nearest that is at most ``ceil(kernel_size / factor) + 1`` taps per phase
    instead of ``kernel_size`` taps per output sample, the cost of a subpixel conv (K = 9,
    r = 4: 3 taps); linear adds 2 taps (5), sinc its whole bank (``2 * 10 + 2``, 23 taps at
    r = 4). Near the ends, where the interpolator's edge handling differs from zero padding
    (linear: replicated edges; sinc: the interpolated signal runs on past the ends), a fixed
    map of the first and last few input samples corrects the outputs
    (:func:`upsample1d.filters.interpolation_edge_corrections`), so fused equals ``"direct"``
    (interpolate, then convolve at the output rate) everywhere, to float rounding. Both use
    the same kernel ``(kernel_size, C_in, filters)``, so checkpoints move freely between
    them. With a length unknown while tracing (a TF graph with ``None`` time), or one shorter
    than the corrections, fused runs the direct way.

    Args:
        filters: output channels.
        factor: upsampling factor.
        method: ``"nearest"`` (default), ``"linear"`` or ``"sinc"``.
        kernel_size: taps of the convolution at the output rate (default 9).
        implementation: ``"fused"``, ``"direct"`` or ``None`` (default): the faster one
            measured for the method and backend (``_backend.interpolation_implementation``):
            fused for nearest and linear everywhere; for sinc fused on JAX and TensorFlow,
            direct on torch. Resolved again where a saved model is loaded.
        data_format, use_bias, **kwargs: as :class:`SubpixelConv1D`.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, T * factor, filters)``; channels_first
        ``(B, filters, T * factor)``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import InterpolationUpsample1D
    >>> InterpolationUpsample1D(8, 2, method="linear")(keras.Input((50, 4))).shape
    (None, 100, 8)
    """

    IMPLEMENTATIONS = ("fused", "direct")

    def __init__(self, filters, factor, method="nearest", kernel_size=9, implementation=None,
                 data_format=None, use_bias=False, **kwargs):
        super().__init__(filters, factor, data_format=data_format, use_bias=use_bias, **kwargs)
        self.method = check.choice(method, "method", tuple(INTERPOLATIONS))
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        # None (the default) is resolved on every backend anew, also when a saved model loads
        self._chosen_implementation = None if implementation is None else check.choice(
            implementation, "implementation", self.IMPLEMENTATIONS)
        self.implementation = (self._chosen_implementation
                               or _backend.interpolation_implementation(self.method))
        design = (self.method, self.factor, self.kernel_size)
        self._composition = engine.design(_composition, *design)
        self._pad = _composition_pad(*design)
        # The fused conv reads the input zero-padded (through the conv's own "same" padding
        # where that is the composition's); near the ends a fixed map of the first / last
        # few input samples corrects it to the direct form (interpolation_edge_corrections).
        # Shorter inputs run the direct way.
        depth = sum(self._pad) + 1
        self._conv_padding = "same" if self._pad == ((depth - 1) // 2, depth // 2) else "valid"
        corrections = _edge_corrections(*design)
        self._corrections = tuple(
            None if end is None else engine.design(_edge_correction, *design, index)
            for index, end in enumerate(corrections))
        shapes = [c.shape for c in corrections if c is not None]
        head, tail = (0 if c is None else c.shape[0] for c in corrections)
        self._min_fused_time = max([shape[1] for shape in shapes]
                                   + [-(-(head + tail) // self.factor), depth, 1])

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._add_kernel_and_bias((self.kernel_size, channels, self.filters), self.filters)

    def _direct(self, inputs):
        y = INTERPOLATIONS[self.method](inputs, self.factor, self.data_format)
        return _backend.conv(y, self.kernel, padding="same", data_format=self.data_format)

    def _resample(self, inputs):
        time = inputs.shape[check.time_axis(self.data_format)]
        if self.implementation == "direct" or time is None or time < self._min_fused_time:
            return self._add_bias(self._direct(inputs))
        composition = engine.constant(self._composition, self.kernel.dtype, like=inputs)
        kernel = kernels.compose_interpolation_kernel(self.kernel, composition)
        x = inputs
        if self._conv_padding == "valid":
            x = engine.pad(inputs, *self._pad, self.data_format, "zeros")
        y = _backend.conv(x, kernel, padding=self._conv_padding, data_format=self.data_format)
        y = depth_to_space(y, self.factor, self.data_format, "DCR")
        if any(c is not None for c in self._corrections):
            y = self._exact_edges(inputs, y, time)
        return self._add_bias(y)

    def _exact_edges(self, inputs, y, time):
        """``y`` with its first and last few outputs corrected to the direct form's.

        The two corrections, with zeros between them, make one tensor of ``y``'s shape that
        is added: its gradient is a slice of ``y``'s. (Cutting ``y`` into pieces and
        concatenating costs a full-size gradient buffer per piece on TensorFlow and torch,
        about as much as the fused conv.)"""
        axis = check.time_axis(self.data_format)
        # x: (B, E, C) or (B, C, E); the correction: (B, J, F) or (B, F, J). The end samples
        # are mixed first (fixed weights), then one matmul with the kernel.
        mix, apply = (("jek,bec->bjkc", "bjkc,kcf->bjf") if axis == 1 else
                      ("jek,bce->bjkc", "bjkc,kcf->bfj"))
        parts, corrected = [], 0
        for end, design in zip(("head", "tail"), self._corrections, strict=True):
            if design is None:
                continue
            outputs, samples = engine.array(design).shape[:2]
            corrected += outputs
            start = 0 if end == "head" else time - samples
            x = inputs[(slice(None),) * axis + (slice(start, start + samples),)]
            fixed = engine.constant(design, self.kernel.dtype, like=inputs)
            parts.append(ops.einsum(apply, ops.einsum(mix, fixed, x), self.kernel))
        middle = time * self.factor - corrected
        zeros = [ops.shape(inputs)[0], self.filters, self.filters]
        zeros[axis] = middle
        head, tail = self._corrections
        parts.insert(0 if head is None else 1, ops.zeros(tuple(zeros), dtype=y.dtype))
        return y + ops.concatenate(parts, axis=axis)

    def phase_kernels(self):
        w = self._numpy_kernel()
        composed = np.einsum("kdi,kcf->dcif", engine.array(self._composition), w)
        depth, c_in = composed.shape[:2]
        composed = composed.reshape(depth, c_in, self.factor * self.filters)
        return kernels.centred_phase_kernels(composed, self.factor, "DCR", self._pad[0])

    def get_config(self):
        return {**super().get_config(), "method": self.method, "kernel_size": self.kernel_size,
                "implementation": self._chosen_implementation}


# method -> (layer, its fixed options)
UPSAMPLERS = {
    "subpixel": (SubpixelConv1D, {}),
    "transposed": (TransposedConvUpsample1D, {}),
    "nearest": (InterpolationUpsample1D, {"method": "nearest"}),
    "linear": (InterpolationUpsample1D, {"method": "linear"}),
    "sinc": (InterpolationUpsample1D, {"method": "sinc"}),
}


@keras.saving.register_keras_serializable(package="upsample1d")
class Upsample1D(ChosenResampler):
    """Any upsampler family by name, so one string swaps it in an architecture.

    ``method``: ``"subpixel"`` (:class:`SubpixelConv1D`), ``"transposed"``
    (:class:`TransposedConvUpsample1D`), ``"nearest"``, ``"linear"`` or ``"sinc"``
    (:class:`InterpolationUpsample1D`). Other keyword arguments go to that layer (e.g.
    ``implementation="direct"`` for interpolation). Serializes as ``method`` plus the chosen
    layer's own options.

    Input shape:
        channels_last ``(B, T, C_in)``; channels_first ``(B, C_in, T)``.

    Output shape:
        channels_last ``(B, T * factor, filters)``; channels_first
        ``(B, filters, T * factor)``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import Upsample1D
    >>> [Upsample1D(8, 4, method=m)(keras.Input((64, 2))).shape[1] for m in ("subpixel", "sinc")]
    [256, 256]
    """

    CHOICES = UPSAMPLERS
    ROLE = "upsampler"

    def __init__(self, filters, factor, method="subpixel", name=None, dtype=None,
                 trainable=True, **options):
        super().__init__(filters, factor, method, name=name, dtype=dtype,
                         trainable=trainable, **options)

    def phase_kernels(self):
        """The chosen layer's :meth:`SubpixelConv1D.phase_kernels`."""
        return self.upsampler.phase_kernels()

    def phase_biases(self):
        """The chosen layer's :meth:`SubpixelConv1D.phase_biases`."""
        return self.upsampler.phase_biases()


# --- the fixed designs of InterpolationUpsample1D (upsample1d.filters, per method) ----------

def _composition(method, factor, kernel_size):
    bank, pad, _ = filters.interpolation(method, factor)
    return filters.interpolation_composition(bank, pad, factor, kernel_size)[0]


def _composition_pad(method, factor, kernel_size):
    _, pad, _ = filters.interpolation(method, factor)
    return filters.interpolation_composition_pad(pad, factor, kernel_size)


def _edge_corrections(method, factor, kernel_size):
    bank, pad, edge = filters.interpolation(method, factor)
    return filters.interpolation_edge_corrections(bank, pad, edge, kernel_size)


def _edge_correction(method, factor, kernel_size, index):
    return _edge_corrections(method, factor, kernel_size)[index]
