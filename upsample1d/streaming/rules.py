"""The one table of streaming rules: what each layer reads along time.

A time-invariant layer with finite support is described by a :class:`Reach`
``(left, right, up, down)``: its output comes in blocks of ``up`` samples, one per block of
``down`` input samples, and output block ``q`` depends only on the input samples
``q * down - left .. q * down + down - 1 + right`` and, where that span crosses an end of the
signal, on that end (zero or replicate padding, edge corrections: whatever the layer does
there). That is all :class:`~upsample1d.streaming.Stream` needs to run the layer itself on a
window of recent input and keep the outputs that are exact.

Rules for other layers: :func:`register`. Layers that cannot stream raise
:class:`NotStreamableError` naming the layer and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from upsample1d import filters, kernels
from upsample1d.bigvgan import AMPBlock1D, DilatedConv1D
from upsample1d.layers import (
    AliasFreeActivation1D,
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    Resample1D,
    Snake1D,
    SpaceToDepth1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.layers._base import unwrap
from upsample1d.models import GLU, LengthCheck

WINDOW, MERGE, RECURRENT = "window", "merge", "recurrent"


class NotStreamableError(ValueError):
    """A model holds a layer (or a use of one) that cannot run chunk by chunk exactly."""


@dataclass(frozen=True)
class Reach:
    """What one output block of a layer reads: ``left`` input samples before its input block
    and ``right`` after it; ``up`` output samples per block of ``down`` input samples.
    ``kind`` is ``"window"`` (a finite filter: run on a window of recent input),
    ``"merge"`` (combines same-rate inputs sample by sample) or ``"recurrent"`` (a causal
    RNN carrying its state)."""

    left: int = 0
    right: int = 0
    up: int = 1
    down: int = 1
    kind: str = WINDOW

    def __post_init__(self):
        for name in ("left", "right", "up", "down"):  # Python ints (not NumPy's): compilers
            object.__setattr__(self, name, int(getattr(self, name)))  # specialise on them
        g = math.gcd(self.up, self.down)
        if g > 1:  # blocks as small as the rates allow
            object.__setattr__(self, "up", self.up // g)
            object.__setattr__(self, "down", self.down // g)
        if min(self.left, self.right) < 0 or min(self.up, self.down) < 1:
            raise ValueError(f"a Reach needs left, right >= 0 and up, down >= 1, got {self}.")


POINTWISE = Reach()


def register(cls, rule):
    """Stream layers of class ``cls`` (and subclasses) with ``rule(layer, time_axis) ->``
    :class:`Reach`; the rule raises :class:`NotStreamableError` for a configuration that
    cannot stream. Later registrations win. A subclass that overrides ``call`` (or a
    convolution's ``convolution_op``) computes something else: it needs a rule of its own.

    Example:
    >>> import keras
    >>> from upsample1d.streaming import Reach, register
    >>> class Delay(keras.layers.Layer):  # y[t] = x[t - 1], zero before the start
    ...     def call(self, x):
    ...         return keras.ops.pad(x, [[0, 0], [1, 0], [0, 0]])[:, :-1]
    >>> register(Delay, lambda layer, time_axis: Reach(left=1))
    """
    if not isinstance(cls, type) or not callable(rule):
        raise TypeError(f"register needs a class and a callable, got {cls!r}, {rule!r}.")
    _RULES[cls] = rule


# keras.ops applied to KerasTensors in a functional model (``x + y``, ``ops.tanh(x)``):
# the ones that act on each element alone (their other arguments: scalars)
ELEMENTWISE_OPS = {"Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Maximum",
                   "Minimum", "Negative", "Absolute", "Abs", "Tanh", "Sigmoid", "Relu",
                   "Exp", "Log", "Sin", "Cos", "Square", "Sqrt", "Power", "Clip", "Sign",
                   "Cast"}


def reach(layer, time_axis):
    """The :class:`Reach` of ``layer`` on a tensor whose time axis is ``time_axis`` (1 or 2),
    or :class:`NotStreamableError` naming the layer and the reason."""
    for depth, cls in enumerate(type(layer).__mro__):
        if cls in _RULES:
            _refuse_new_computation(layer, type(layer).__mro__[:depth], cls)
            return _RULES[cls](layer, time_axis)
    if type(layer).__module__.startswith("keras.src.ops"):
        if type(layer).__name__ in ELEMENTWISE_OPS:
            return Reach(kind=MERGE)  # aligns its tensor arguments, if it has several
        if type(layer).__name__ == "Concatenate":
            return _concatenate(layer, time_axis)
        raise NotStreamableError(
            f"keras.ops call {layer.name!r} ({type(layer).__name__}) has no streaming rule: "
            "only element-wise ops and concatenate along channels stream; use a layer, or a "
            "layer of your own declared with upsample1d.streaming.register.")
    raise NotStreamableError(
        f"layer {layer.name!r} ({type(layer).__name__}) has no streaming rule: it may mix or "
        f"move the time axis. If it is time-invariant with a finite reach, declare it with "
        f"upsample1d.streaming.register({type(layer).__name__}, rule).")


# what a subclass overrides to compute something else than the class whose rule it inherits
_COMPUTATION = ("call", "convolution_op")


def _refuse_new_computation(layer, subclasses, ruled):
    """Refuse ``layer`` when one of its ``subclasses`` of the class with the rule (``ruled``)
    computes anew (a reflect-padded Conv1D ran with "valid" Conv1D's reach, and each window
    was reflected at its own edges). Keras' and this package's own subclasses keep to it."""
    for cls in subclasses:
        overridden = [name for name in _COMPUTATION if name in vars(cls)]
        if overridden and not cls.__module__.startswith(("keras.", "upsample1d.")):
            raise NotStreamableError(
                f"layer {layer.name!r} ({type(layer).__name__}) has no streaming rule: its "
                f"class {cls.__name__} overrides {overridden[0]}() of {ruled.__name__}, so "
                f"{ruled.__name__}'s rule may not hold. If it is time-invariant with a finite "
                f"reach, declare it with upsample1d.streaming.register({cls.__name__}, rule).")


def refuse(layer, why):
    raise NotStreamableError(f"layer {layer.name!r} ({type(layer).__name__}) cannot stream: "
                             f"{why}.")


def check_call_options(layer, arguments):
    """Refuse a call of ``layer`` (a nested model's too: its layers inherit the options) made
    with options a stream cannot honour (training mode, masks)."""
    kwargs = getattr(arguments, "kwargs", {}) or {}
    if kwargs.get("training") is True:
        refuse(layer, "it is called with training=True in the model (training mode uses "
                      "batch statistics or random masks)")
    if kwargs.get("mask") is not None:
        refuse(layer, "it is called with a mask (a Masking layer before it: masks are not "
                      "streamed)")


def _format_axis(layer, time_axis):
    """Refuse a layer whose ``data_format`` puts time elsewhere than the stream's tensor."""
    data_format = getattr(layer, "data_format", "channels_last")
    expected = 1 if data_format == "channels_last" else 2
    if expected != time_axis:
        refuse(layer, f"its data_format {data_format!r} puts time on axis {expected}, but its "
                      f"input has time on axis {time_axis}")


def _channels_only(layer, time_axis, axes):
    """Refuse a layer that acts along ``axes`` unless they are the channel axis."""
    channel = 3 - time_axis
    axes = [axes] if isinstance(axes, int) else list(axes)
    if any(a % 3 != channel for a in axes):
        refuse(layer, f"it acts along axis {axes}, which includes time (axis {time_axis}); "
                      f"only the channel axis ({channel}) is per sample")
    return POINTWISE


# --- Keras layers ---------------------------------------------------------------------------

def _window(kernel_span, strides, left):
    """A sliding window of ``kernel_span`` samples starting ``left`` before each block."""
    return Reach(left, max(kernel_span - 1 - left - (strides - 1), 0), 1, strides)


def _keras_conv(layer, time_axis):
    _format_axis(layer, time_axis)
    _pointwise_activation(layer, time_axis)
    (size,), (strides,), (dilation,) = layer.kernel_size, layer.strides, layer.dilation_rate
    span = (size - 1) * dilation + 1
    left = {"valid": 0, "causal": span - 1, "same": max(span - strides, 0) // 2}[layer.padding]
    return _window(span, strides, left)


def same_padding_stride(layer):
    """The stride of a Keras convolution or pooling layer with ``"same"`` padding, whose
    padding depends on its input's length modulo the stride; 1 for any other layer."""
    kinds = (keras.layers.Conv1D, keras.layers.MaxPooling1D, keras.layers.AveragePooling1D)
    if not isinstance(layer, kinds) or layer.padding != "same":
        return 1
    return layer.strides[0]


def _keras_pooling(layer, time_axis):
    _format_axis(layer, time_axis)
    (size,), (strides,) = layer.pool_size, layer.strides
    left = max(size - strides, 0) // 2 if layer.padding == "same" else 0
    return _window(size, strides, left)


def _keras_conv_transpose(layer, time_axis):
    """Keras' padding rule (``backend_utils``: the ``full`` output cropped by ``crop``).
    Where its output is shorter than ``strides`` samples per input sample (an
    ``output_padding`` below ``strides - span % 2`` with ``"same"``, below ``strides - span``
    with ``"valid"``), the last samples of a window's last block are missing: those blocks
    wait for the next input block. Where it is longer, the samples past the last block
    (``output_padding``: the bias alone) are made at the end from a window of one block, not
    an empty one (torch's transposed convolution refuses those)."""
    _format_axis(layer, time_axis)
    _pointwise_activation(layer, time_axis)
    (size,), (strides,), (dilation,) = layer.kernel_size, layer.strides, layer.dilation_rate
    span = (size - 1) * dilation + 1
    crop = 0
    if layer.padding == "same":
        extra = layer.output_padding[0] if layer.output_padding else None
        pad = strides + span - 2 if extra is None else span + span % 2 - 2 + extra
        crop = span - 1 - min(pad // 2 + pad % 2, span - 1)
    reach = _transposed(span, strides, crop)
    window = 4 * (span + strides)  # any length: Keras' output length is affine in it
    short = window * strides - _time_length(layer, time_axis, window)
    if short < 0 and not reach.left:
        return Reach(1, reach.right, strides, 1)
    if short <= 0:
        return reach
    return Reach(reach.left, max(reach.right, -(-short // strides)), strides, 1)


def _time_length(layer, time_axis, length):
    """The length of ``layer``'s output on an input of ``length`` samples (its own shape
    rule; one channel)."""
    shape = [None, 1, 1]
    shape[time_axis] = length
    return layer.compute_output_shape(tuple(shape))[time_axis]


def _transposed(span, factor, crop):
    """Output ``j`` = full output ``j + crop``, ``full[n] = sum_t x[t] k[n - t * factor]``."""
    return Reach((span - 1 - crop) // factor, (factor - 1 + crop) // factor, factor, 1)


def _upsampling(layer, time_axis):
    if time_axis != 1:
        refuse(layer, "UpSampling1D repeats axis 1, which is not time in a channels_first "
                      "stream")
    return Reach(up=layer.size)


def _recurrent(layer, time_axis):
    problems = [why for flag, why in (
        (layer.go_backwards, "it runs backwards from the end of the signal (go_backwards)"),
        (not layer.return_sequences, "it returns only its last step (return_sequences=False)"),
        (layer.return_state, "it returns its state as a model output (return_state=True)"),
        (layer.stateful, "it keeps its own state between calls (stateful=True); the stream "
                         "carries the state"),
        (time_axis != 1, "Keras RNNs read time on axis 1, not the stream's axis 2"),
        (isinstance(layer.cell, keras.layers.StackedRNNCells),
         "it runs a stack of cells (RNN([cell, ...])); use one RNN layer per cell")) if flag]
    if problems:
        refuse(layer, problems[0])
    return Reach(kind=RECURRENT)


def _concatenate(layer, time_axis):
    _channels_only(layer, time_axis, layer.axis)
    return Reach(kind=MERGE)


def _normalization(layer, time_axis):
    return _channels_only(layer, time_axis, layer.axis)


ALONG_LAST_AXIS = ("softmax", "log_softmax", "glu", "sparsemax")  # Keras' other activations
# act on each element alone


def _pointwise_activation(layer, time_axis):
    """Refuse ``layer.activation`` unless it acts on each sample alone: a Keras activation
    (one of :data:`ALONG_LAST_AXIS` only where the last axis is channels), not a function
    of the user's, which may read along time."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return POINTWISE
    name = getattr(activation, "__name__", repr(activation))
    try:
        builtin = keras.activations.get(name) is activation
    except (ValueError, TypeError):
        builtin = False
    if not builtin:
        refuse(layer, f"its activation {name!r} is not one of Keras' activations, so a stream "
                      "cannot tell whether it acts on each sample alone; apply it in a layer "
                      "of its own and declare that layer with upsample1d.streaming.register")
    if name in ALONG_LAST_AXIS and time_axis == 2:
        refuse(layer, f"activation {name!r} acts along the last axis, which is time in a "
                      "channels_first stream")
    return POINTWISE


def _last_axis_only(layer, time_axis):
    _pointwise_activation(layer, time_axis)
    return _channels_only(layer, time_axis, -1)


def _prelu(layer, time_axis):
    shared = {a % 3 for a in (layer.shared_axes or ())}
    if time_axis not in shared:
        refuse(layer, "its alpha has one value per time step (add the time axis to "
                      "shared_axes)")
    return POINTWISE


def _refusing(why):
    return lambda layer, time_axis: refuse(layer, why)


def _keras_rules():
    L = keras.layers
    pointwise = lambda layer, time_axis: POINTWISE  # noqa: E731
    rules = {L.Conv1D: _keras_conv, L.Conv1DTranspose: _keras_conv_transpose,
             L.MaxPooling1D: _keras_pooling, L.AveragePooling1D: _keras_pooling,
             L.UpSampling1D: _upsampling, L.RNN: _recurrent,
             L.Concatenate: _concatenate, L.LayerNormalization: _normalization,
             L.BatchNormalization: _normalization, L.Activation: _pointwise_activation,
             L.Dense: _last_axis_only, L.Softmax: _normalization, L.PReLU: _prelu}
    for cls in (L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum):
        rules[cls] = lambda layer, time_axis: Reach(kind=MERGE)
    for cls in (L.ReLU, L.LeakyReLU, L.ELU, L.Dropout, L.SpatialDropout1D, L.GaussianNoise,
                L.GaussianDropout, L.AlphaDropout, L.Identity, L.ActivityRegularization,
                L.Rescaling):
        rules[cls] = pointwise
    refusals = {
        L.Bidirectional: "its backward RNN starts at the end of the signal, so every output "
                         "depends on all later samples; use a unidirectional RNN "
                         "(demucs_like(lstm=\"unidirectional\"))",
        L.GlobalAveragePooling1D: "it pools over the whole time axis",
        L.GlobalMaxPooling1D: "it pools over the whole time axis",
        L.MultiHeadAttention: "it attends over the whole time axis",
        L.Attention: "it attends over the whole time axis",
        L.AdditiveAttention: "it attends over the whole time axis",
        L.GroupNormalization: "it normalises over the time axis",
        L.Flatten: "it folds the time axis into channels",
        L.Reshape: "it may reshape the time axis",
        L.Permute: "it may move the time axis",
        L.Lambda: "a Lambda layer's function is opaque (it may read along time); register "
                  "a rule for a custom layer instead",
        L.Cropping1D: "it drops samples at the end of the signal, which a stream does not "
                      "know in advance",
        L.ZeroPadding1D: "it adds samples at the ends of the signal",
    }
    for cls, why in refusals.items():
        rules[cls] = _refusing(why)
    return rules


# --- this package's layers ------------------------------------------------------------------

NEGLIGIBLE = 1e-12  # fixed taps below this times the largest add nothing at float64 precision


def _support(weights):
    """Indices of the taps that are not negligible (a windowed sinc's ends sit on its zeros:
    ~1e-18, not 0; fixed taps below 1e-12 of the largest change nothing at float64
    precision)."""
    weights = np.abs(np.asarray(weights, np.float64))
    return np.flatnonzero(weights > NEGLIGIBLE * weights.max())


def _bank_offsets(bank, left):
    """Per phase ``i`` of a polyphase bank (``out[t*r + i] = sum_n bank[n, i] x[t + n -
    left]``), the input offsets from ``t`` it reads."""
    bank = np.asarray(bank, np.float64)
    scale = np.abs(bank).max()
    return [np.flatnonzero(np.abs(bank[:, i]) > NEGLIGIBLE * scale) - left
            for i in range(bank.shape[1])]


def _subpixel_conv(layer, time_axis):
    _format_axis(layer, time_axis)
    return Reach((layer.kernel_size - 1) // 2, layer.kernel_size // 2, layer.factor, 1)


def _transposed_upsampler(layer, time_axis):
    # documented alignment: output j is the full transposed output j + (K - factor) // 2
    _format_axis(layer, time_axis)
    return _transposed(layer.kernel_size, layer.factor,
                       (layer.kernel_size - layer.factor) // 2)


def _interpolation(layer, time_axis):
    _format_axis(layer, time_axis)
    bank, pad, _ = filters.interpolation(layer.method, layer.factor)
    composition, (left, _) = filters.interpolation_composition(bank, pad, layer.factor,
                                                               layer.kernel_size)
    # tap d of the composed kernel reads x[t + d - left]; taps no weight reaches are unread
    used = _support(np.abs(composition).max(axis=(0, 2)))
    return Reach(left - used.min(), used.max() - left, layer.factor, 1)


def _strided(layer, time_axis):
    _format_axis(layer, time_axis)
    return _window(layer.kernel_size, layer.factor,
                   kernels.strided_padding(layer.kernel_size, layer.factor))


def _space_to_depth_conv(layer, time_axis):
    _format_axis(layer, time_axis)
    k, r = layer.kernel_size, layer.factor
    return Reach((k - 1) // 2 * r, k // 2 * r, 1, r)


def _filtered_downsample(layer, time_axis):
    """The fixed decimator (sinc: ``sinc_prototype(factor)`` centred on ``t * factor``;
    average: block ``t``), then a "same" conv of ``kernel_size`` taps at the output rate."""
    _format_axis(layer, time_axis)
    k, r = layer.kernel_size, layer.factor
    if layer.method == "sinc":  # centred on t * factor
        taps = _support(filters.sinc_prototype(r)) - (len(filters.sinc_prototype(r)) - 1) // 2
        left, right = -taps.min(), taps.max()
    else:
        left, right = 0, r - 1
    return Reach(left + (k - 1) // 2 * r, max(right - (r - 1), 0) + k // 2 * r, 1, r)


def _alias_free_up(layer):
    """Per phase ``i``, the input offsets from ``t`` that output ``t * up + i`` reads (the
    upsampler's bank, upsample1d.filters.alias_free_up)."""
    r, k, filter_name = layer.up, layer.up_kernel_size, layer.filter
    (left, _), _ = filters.alias_free_up_geometry(r, k, filter_name)
    return _bank_offsets(filters.alias_free_up(r, k, filter_name), left)


def _alias_free_down(layer):
    """The high-rate offsets from ``t * down`` that output ``t`` reads
    (``out[t] = sum_k h[k] v[t r + k - left]``, upsample1d.filters.alias_free_down)."""
    r, k, filter_name = layer.down, layer.down_kernel_size, layer.filter
    return (_support(filters.alias_free_down(r, k, filter_name))
            - filters.alias_free_down_left(r, k, filter_name))


def _alias_free(layer, time_axis):
    _format_axis(layer, time_axis)
    up, down = layer.up, layer.down
    phases, taps = _alias_free_up(layer), _alias_free_down(layer)
    g = math.gcd(up, down)
    # output block 0 (samples 0 .. up/g - 1) from input block 0 (samples 0 .. down/g - 1)
    read = [step + offset for t in range(up // g) for m in t * down + taps
            for step, phase in [divmod(int(m), up)] for offset in phases[phase]]
    return Reach(max(-min(read), 0), max(max(read) - (down // g - 1), 0), up, down)


def _resample(layer, time_axis):
    """``out[n] = sum_s h[n down - s up + N] x_e[s]`` (:class:`Resample1D`): output block
    ``0`` (samples ``0 .. up - 1``) reads the ``s`` its non-negligible taps reach. A
    ``"reflect"`` edge reads ``x[1 .. left]`` for the first block, so every block waits for
    that much."""
    _format_axis(layer, time_axis)
    up, down = layer.up, layer.down
    if up == down:
        return POINTWISE
    half = layer._numbers[0] * max(up, down)
    support = _support(filters.resample_prototype(up, down, *layer._numbers))
    read = [(i * down + half - k) // up for i in range(up) for k in support
            if (i * down + half - k) % up == 0]
    left, right = max(-min(read), 0), max(max(read) - (down - 1), 0)
    if layer.edge == "reflect":
        right = max(right, left - (down - 1))
    return Reach(left, right, up, down)


def _dilated_conv(layer, time_axis):
    _format_axis(layer, time_axis)
    span = (layer.kernel_size - 1) * layer.dilation_rate + 1
    return _window(span, 1, (span - 1) // 2)  # "same", as Keras pads it at stride 1


def _amp_block(layer, time_axis):
    """A chain of same-rate windows (residual adds widen nothing): the sum of their reaches;
    run as one layer, so its edges are its own, as offline."""
    _format_axis(layer, time_axis)
    parts = [reach(sub, time_axis) for sub in (*layer.acts, *layer.convs1, *layer.convs2)]
    assert all((p.up, p.down, p.kind) == (1, 1, WINDOW) for p in parts), parts
    return Reach(sum(p.left for p in parts), sum(p.right for p in parts))


def _wrapper(layer, time_axis):
    return reach(unwrap(layer), time_axis)


def unwrapped(layer):
    """The layer that does the work of ``layer`` (the one a wrapper holds), itself if none."""
    return unwrap(layer)


def data_format(layer):
    """The data format ``layer`` reads, or None."""
    return getattr(unwrapped(layer), "data_format", None)


def _package_rules():
    return {Subpixel1D: lambda layer, axis: (_format_axis(layer, axis),
                                             Reach(up=layer.block_size))[1],
            SpaceToDepth1D: lambda layer, axis: (_format_axis(layer, axis),
                                                 Reach(down=layer.block_size))[1],
            SubpixelConv1D: _subpixel_conv, TransposedConvUpsample1D: _transposed_upsampler,
            InterpolationUpsample1D: _interpolation,
            StridedConv1D: _strided, SpaceToDepthConv1D: _space_to_depth_conv,
            FilteredDownsample1D: _filtered_downsample,
            AliasFreeActivation1D: _alias_free, Snake1D: lambda layer, axis: POINTWISE,
            GLU: _last_axis_only, LengthCheck: lambda layer, axis: POINTWISE,
            Upsample1D: _wrapper, Downsample1D: _wrapper,
            DilatedConv1D: _dilated_conv, AMPBlock1D: _amp_block, Resample1D: _resample}


# class -> rule: Keras' layers, this package's, and what register() adds (a registry, not a
# cache: nothing here is ever evicted)
_RULES = {**_keras_rules(), **_package_rules()}
