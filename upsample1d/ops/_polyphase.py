"""The polyphase engine: every fixed resampler of the package, in one place.

Every resampler here is a fixed filter bank applied at the lower of its two rates, and a
shuffle between the rates; nothing is computed on zero-stuffed samples or thrown away:

- :func:`up`: a bank ``(taps, r)`` on the input padded by ``(left, right)`` samples (with an
  edge mode), one convolution with ``r`` outputs at the input rate, then
  :func:`~upsample1d.ops.shuffle.depth_to_space` into time:
  ``y[t*r + i] = sum_n bank[n, i] * x_e[t + n - left]``;
- :func:`down`: the input folded into ``r`` phases by
  :func:`~upsample1d.ops.shuffle.space_to_depth`, one convolution at the output rate:
  ``y[t] = sum_k prototype[k] * x_e[t*r + k - left]``, ``ceil(T / r)`` outputs;
- :func:`up_map_down`: up, a pointwise map, and down by the same ratio, the map run on the
  upsampler's phases and the decimator reading them as they are (never interleaved);
- :func:`rational`: any ratio ``up / down``, a bank ``(taps, up)`` read with stride ``down``:
  ``up`` outputs per ``down`` inputs, then the shuffle (``up`` alone is its ``down = 1`` case,
  ``down`` with one output phase its ``up = 1`` case);
- :func:`pad`: the time axis extended with an edge mode (:data:`EDGES`).

Filters are *designs*: ``design(make, *args)`` names the NumPy function of
:mod:`upsample1d.filters` (or a layout derived from another design) and its arguments. A
design is the key of everything made from it: its array (:func:`array`, computed once,
read-only, never traced by a compiler) and its tensors (:func:`constant`, one per dtype and
device). A caller's own array may stand where a design does: it is used as it is, and its
layouts and tensors are made on every call (in a trace, so every layout function here
writes nothing in place: TorchDynamo turns NumPy arrays into tensors and loses such writes).

Channels are folded into the batch and each bank runs as one single-channel convolution
(what XLA runs fastest), or, on torch, as one depthwise convolution
(:data:`upsample1d._backend.DEPTHWISE_BANKS`; torch's grouped convolution, its kernel
designed in torch's layout: :func:`upsample1d._backend.depthwise_conv`): the same
multiply-adds either way.

Everything here takes canonical arguments and validates nothing: the ops in
``interpolate``, ``downsample`` and ``alias_free`` validate (:func:`prepare`), design, and
call the engine; :func:`run` gives them their symbolic form.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d._cache import Cache
from upsample1d.ops.shuffle import depth_to_space, space_to_depth

EDGES = check.EDGES

_ARRAYS = Cache(256)  # design (or design, dtype) -> its read-only NumPy array
_NUMPY_FLOATS = ("float16", "float32", "float64")  # bfloat16 is not a NumPy dtype
_TENSORS = Cache(512)  # (design, dtype, device) -> the array as a tensor


# --- designs and their constants ------------------------------------------------------------

def design(make, *args):
    """The design ``make(*args)`` (``make`` returns a NumPy array; ``args`` are numbers,
    strings or other designs): the key of its array and tensors."""
    return (make, args)


def _is_design(source):
    return isinstance(source, tuple)


@_backend.constant_result
def _design_array(source, dtype="float64"):
    """The NumPy array of the design ``source`` in ``dtype`` (designed in float64), computed
    once and kept read-only. (Under torch.compile this runs for real while tracing, and its
    result is a constant of the graph: TorchDynamo never traces the NumPy code of a design.
    A graph's constant is made in the dtype it is used in: a float64 constant cast in the
    graph is a float64 input to the cast, which litert-torch's converter mistypes.)"""
    key = source if dtype == "float64" else (source, dtype)
    value = _ARRAYS.get(key)
    if value is None:
        if dtype == "float64":
            make, args = source
            value = np.array(make(*args), np.float64)
        else:
            value = _design_array(source).astype(dtype)
        value.flags.writeable = False
        _ARRAYS.put(key, value)
    return value


def array(source):
    """The NumPy array of ``source``: a design's (computed once, read-only), or a caller's
    array as it is."""
    return _design_array(source) if _is_design(source) else source


def _derived(make, source, *args):
    return make(array(source), *args)


def layout(make, source, *args):
    """``make(array(source), *args)``: a design when ``source`` is one, else the array."""
    if _is_design(source):
        return design(_derived, make, source, *args)
    return make(source, *args)


def constant(source, dtype, like):
    """``source``'s array as a tensor of ``dtype`` next to ``like``. A design's tensor is
    made once per dtype and device while running eagerly; inside a trace (jax.jit,
    tf.function, torch.compile) it is made in the trace and never kept (a traced value must
    not outlive its trace). A caller's array is converted on every call."""
    if not _is_design(source):
        return _backend.tensor(source, dtype, like)
    if _backend.tracing(like):
        dtype = keras.backend.standardize_dtype(dtype)
        value = _design_array(source, dtype) if dtype in _NUMPY_FLOATS else array(source)
        return _backend.tensor(value, dtype, like)
    value = array(source)
    key = (source, keras.backend.standardize_dtype(dtype), _backend.device_name(like))
    tensor = _TENSORS.get(key)
    if tensor is None:
        tensor = _backend.tensor(value, dtype, like, kept=True)
        if not _backend.traced(tensor):
            _TENSORS.put(key, tensor)
    return tensor


# --- entry from the ops: validation and the symbolic form -----------------------------------

def prepare(x, factor, data_format, where, floating=True):
    """The ops' arguments checked: ``(x as a tensor or KerasTensor, factor, data_format)``."""
    factor = check.positive_int(factor, "factor")
    data_format = check.data_format(data_format)
    if not isinstance(x, keras.KerasTensor):
        x = _backend.as_tensor(x)
    check.rank3_shape(x.shape, where)
    if floating:
        check.floating(x.dtype, where)
    return x, factor, data_format


class _Resample(keras.Operation):
    """The symbolic form of every fixed resampler: ``T`` samples in,
    ``ceil(T * up / down)`` out (:func:`upsample1d._validation.resampled_length`)."""

    def __init__(self, primitive, up, down, data_format, args, kwargs, name=None):
        super().__init__(name=name)
        self.primitive, self.args, self.kwargs = primitive, args, kwargs
        self.up, self.down, self.data_format = up, down, data_format

    def call(self, x):
        return self.primitive(x, *self.args, **self.kwargs)

    def compute_output_spec(self, x):
        shape = list(x.shape)
        axis = check.time_axis(self.data_format)
        shape[axis] = check.resampled_length(shape[axis], self.up, self.down)
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)

    def get_config(self):
        # it holds a private primitive and filter designs or a caller's arrays, which no
        # config can name: the layers save the same resamplers by their arguments
        check.unsaved_resampler(f"{self.primitive.__module__}.{self.primitive.__name__}")


def run(x, primitive, up, down, data_format, *args, **kwargs):
    """``primitive(x, *args, **kwargs)``, which resamples by ``up / down`` along the time
    axis of ``data_format``: symbolically for a KerasTensor, else on ``x``'s device."""
    if isinstance(x, keras.KerasTensor):
        return _Resample(primitive, up, down, data_format, args, kwargs).symbolic_call(x)
    with _backend.device_scope(x):
        return primitive(x, *args, **kwargs)


# --- padding --------------------------------------------------------------------------------

def _replicate_pad(x, left, right, axis):
    # keras.ops.pad has no "edge" mode on every backend: concatenate the edge samples.
    head = (slice(None),) * axis
    first, last = x[head + (slice(0, 1),)], x[head + (slice(-1, None),)]
    if x.shape[axis] is None:
        # A length known only at run time may be 0 (a TF graph): the padded length must
        # still be left + right, so an empty edge sample is taken as a zero.
        widths = [[0, 0]] * 3
        first = _backend.pad(first, [*widths[:axis], [0, 1], *widths[axis + 1:]])
        last = _backend.pad(last, [*widths[:axis], [1, 0], *widths[axis + 1:]])
        first, last = first[head + (slice(0, 1),)], last[head + (slice(-1, None),)]
    parts = [ops.repeat(first, left, axis=axis)] if left else []
    parts.append(x)
    if right:
        parts.append(ops.repeat(last, right, axis=axis))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else x


def _reflect_pad(x, left, right, axis):
    """``x`` extended by its mirror image about each end sample (``numpy.pad``'s "reflect",
    repeated for extensions longer than the signal), by gathering along time. A length known
    only at run time may be 0 (a TF graph): a zero sample is appended first, which the
    indices reach only then (an empty signal mirrors to zeros)."""
    time = ops.shape(x)[axis]
    index = ops.arange(-left, time + right)
    if x.shape[axis] is None:
        widths = [[0, 0]] * 3
        x = _backend.pad(x, [*widths[:axis], [0, 1], *widths[axis + 1:]])
        time = ops.maximum(time, 1)
    period = ops.maximum(2 * (time - 1), 1)
    index = ops.mod(index, period)
    return ops.take(x, ops.where(index >= time, period - index, index), axis=axis)


def pad(x, left, right, data_format, edge):
    """The time axis extended by ``left`` / ``right`` samples: ``edge="zeros"``,
    ``"replicate"`` (the edge sample repeated) or ``"reflect"`` (mirrored about the edge
    sample, as ``numpy.pad(mode="reflect")``)."""
    axis = check.time_axis(data_format)
    if not (left or right):
        return x
    if edge == "replicate":
        return _replicate_pad(x, left, right, axis)
    if edge == "reflect":
        return _reflect_pad(x, left, right, axis)
    widths = [[0, 0], [0, 0], [0, 0]]
    widths[axis] = [left, right]
    return _backend.pad(x, widths)


def pad_to_blocks(x, r, data_format, edge):
    """``(x extended at the end to whole blocks of r samples, blocks)``; ``blocks`` is
    ``ceil(T / r)``, an int, or a run-time size where T is unknown while tracing."""
    axis = check.time_axis(data_format)
    time = x.shape[axis]
    if time is None:  # run-time length: pad for the longest case, then cut to whole blocks
        blocks = -(-ops.shape(x)[axis] // r)
        x = pad(x, 0, r - 1, data_format, edge)
        return x[(slice(None),) * axis + (slice(None, blocks * r),)], blocks
    blocks = -(-time // r)
    return pad(x, 0, blocks * r - time, data_format, edge), blocks


# --- up: a bank at the input rate, then the shuffle -----------------------------------------

def _depthwise_bank(bank, channels):
    """The bank as torch's grouped kernel ``(channels * r, 1, taps)``
    (:func:`upsample1d._backend.depthwise_conv`): output channel ``c * r + i`` is phase ``i``
    of channel ``c``, read from channel ``c`` itself (``channels`` groups) or from ``r``
    copies of each channel (``channels * r`` groups, a multiplier of 1)."""
    taps, r = bank.shape
    return np.broadcast_to(bank.T[None], (channels, r, taps)).reshape(channels * r, 1, taps)


_REPEATED_CHANNELS_LIMIT = 2**23  # samples of the copies (32 MB in float32)


def _conv_bank(bank):
    return bank[:, None, :]


def up(x, bank, pad_, edge, data_format):
    """``y[t*r + i] = sum_n bank[n, i] * x_e[t + n - left]`` on every channel, ``x_e`` the
    input extended by ``pad_ = (left, right)`` samples with ``edge``; ``bank`` (a design or
    an array) has ``left + right + 1`` taps and ``r`` phases; ``T * r`` outputs."""
    r = array(bank).shape[1]
    axis = check.time_axis(data_format)
    if x.shape[axis] == 0:
        return x  # (B, 0, C) stays (B, 0, C): nothing to interpolate
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, time = ops.shape(x)
    if _backend.DEPTHWISE_BANKS:
        x = pad(x, pad_[0], pad_[1], "channels_first", edge)
        kernel = constant(layout(_depthwise_bank, bank, channels), x.dtype, like=x)
        y = _backend.depthwise_conv(x, kernel)
        y = depth_to_space(y, r, "channels_first", "CRD")  # channel c*r + i is phase i of c
    else:
        x = ops.reshape(x, (batch * channels, time, 1))
        x = pad(x, pad_[0], pad_[1], "channels_last", edge)
        kernel = constant(layout(_conv_bank, bank), x.dtype, like=x)
        y = depth_to_space(ops.conv(x, kernel, padding="valid"), r, "channels_last", "DCR")
        y = ops.reshape(y, (batch, channels, time * r))
    return ops.transpose(y, (0, 2, 1)) if data_format == "channels_last" else y


# --- down: the phases folded, one convolution at the output rate ----------------------------

def _decimation_bank(prototype, r):
    """``prototype`` zero-padded to ``taps * r`` taps, as the ``(taps, r, 1)`` kernel of the
    conv at the output rate: ``bank[n, i, 0] = prototype[n * r + i]``."""
    taps = -(-len(prototype) // r)
    padded = np.concatenate([prototype, np.zeros(taps * r - len(prototype))])
    return padded.reshape(taps, r, 1)


def _depthwise_decimation_bank(prototype, r, channels):
    """The decimation bank as torch's grouped kernel ``(channels, 1, taps * r)``."""
    bank = _decimation_bank(prototype, r)
    return np.broadcast_to(bank.reshape(1, 1, -1), (channels, 1, bank.size))


def _pad_for_decimation(x, left, total, time, span, edge, data_format):
    """``x`` padded by ``left`` and cut or padded to ``total`` samples along time; ``time``
    None (a run-time length): padded for the longest case (``span - 1`` samples), then cut."""
    cut = (slice(None),) * check.time_axis(data_format) + (slice(0, total),)
    if time is None:
        return pad(x, left, max(span - 1 - left, 0), data_format, edge)[cut]
    x = pad(x, left, max(total - time - left, 0), data_format, edge)
    return x[cut] if time + left > total else x


def down(x, prototype, left, r, edge, data_format):
    """``y[t] = sum_k prototype[k] * x_e[t*r + k - left]`` on every channel, ``x_e`` the
    input extended by ``edge`` beyond its ends; ``ceil(T / r)`` outputs. ``prototype`` is a
    design or an array of ``K`` taps.

    As a polyphase decimator: with ``N = ceil(K / r)`` and ``X`` the extended input folded
    by space_to_depth (``X[s, i] = x_e[s * r + i - left]``),
    ``y[t] = sum_n sum_i prototype[n * r + i] * X[t + n, i]``: one "valid" convolution of
    ``N`` taps at the output rate, ``K`` multiply-adds per output instead of ``r * K``.
    """
    axis = check.time_axis(data_format)
    time = x.shape[axis]  # None where unknown while tracing (a TF graph)
    if time == 0:
        return x
    taps = -(-len(array(prototype)) // r)
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, length = ops.shape(x)
    out_time = -(-length // r)
    # Pad to exactly (out_time + taps - 1) * r samples; samples past the last one an output
    # reads meet zero taps, so a surplus of left padding is cut from the end.
    total = (out_time + taps - 1) * r
    if _backend.DEPTHWISE_BANKS:  # one strided depthwise conv: the same multiply-adds
        x = _pad_for_decimation(x, left, total, time, taps * r, edge, "channels_first")
        kernel = constant(layout(_depthwise_decimation_bank, prototype, r, channels),
                          x.dtype, like=x)
        y = _backend.depthwise_conv(x, kernel, strides=r)
    else:
        x = ops.reshape(x, (batch * channels, length, 1))
        x = _pad_for_decimation(x, left, total, time, taps * r, edge, "channels_last")
        kernel = constant(layout(_decimation_bank, prototype, r), x.dtype, like=x)
        y = ops.conv(space_to_depth(x, r, "channels_last", "DCR"), kernel, padding="valid")
        y = ops.reshape(y, (batch, channels, out_time))
    return ops.transpose(y, (0, 2, 1)) if data_format == "channels_last" else y


# --- up, a pointwise map, down: at the phases -----------------------------------------------

def up_map_down(x, bank, pad_, phase_bank, steps, fn):
    """``down(fn(up(x)))`` by one ratio ``r``, both with replicated edges, for channels_first
    ``x`` with at least ``taps`` samples, never interleaving the high-rate signal ``v``.

    ``bank`` (a design, ``(taps, r)``, padding ``pad_``, all edge copies) makes ``v``'s
    ``r`` phases at the input rate; ``fn`` (pointwise, per channel, on a channels_first
    ``(B, C, N)`` tensor) runs on them; ``phase_bank`` (a design, ``(taps_d, r)``,
    :func:`upsample1d.filters.phase_decimator`) reads them as they are, extended by
    ``steps = (before, after)`` steps that hold ``fn`` of ``v``'s first / last sample (phase
    0 at the first step, phase ``r - 1`` at the last) in every phase: what replicate padding
    of ``v`` puts there. Saves the shuffle and the padded copy of ``v``, forward and
    backward; the same numbers as up, map, down to float rounding. Eager backends pay for
    every op called (torch: 5-30 us each in Keras' dispatch), so this makes few: ``fn``
    runs once, the edge values are slices, and the reshapes, joins and torch's depthwise
    convolutions of its concrete tensors go to the backend directly
    (:func:`upsample1d._backend.reshape`, :func:`~upsample1d._backend.depthwise_conv`)."""
    taps, r = array(bank).shape
    left, right = pad_
    before, after = steps
    batch, channels = ops.shape(x)[:2]
    time = x.shape[2]
    parts = [x]  # the replicate padding: the edge samples broadcast
    if left:
        parts.insert(0, _backend.broadcast_to(x[:, :, :1], (batch, channels, left)))
    if right:
        parts.append(_backend.broadcast_to(x[:, :, time - 1:], (batch, channels, right)))
    x = _backend.concatenate(parts, 2) if len(parts) > 1 else x
    if _backend.DEPTHWISE_BANKS:  # phases (B, C, r, T) from one depthwise conv
        # Two forms of the same multiply-adds, measured on torch's CPU (in-process A/B): on r
        # copies of each channel (multiplier 1) for a small input (BigVGAN at batch 1: the
        # generator 5-8% faster), with a channel multiplier of r for a large one, where the
        # copies' memory traffic costs more (8x256x8192: 10-20% faster).
        if r * batch * channels * (time + taps - 1) <= _REPEATED_CHANNELS_LIMIT:
            x = _backend.repeat(x, r, 1)
        kernel = constant(layout(_depthwise_bank, bank, channels), x.dtype, like=x)
        phases = _backend.depthwise_conv(x, kernel)
        phases = _backend.reshape(fn(_backend.reshape(phases, (batch, channels, r * time))),
                                  (batch, channels, r, time))
        shape = (batch, channels, r)
        edges = [_backend.broadcast_to(phases[:, :, :1, :1], (*shape, before)), phases,
                 _backend.broadcast_to(phases[:, :, r - 1:, time - 1:], (*shape, after))]
        kernel = constant(layout(_depthwise_phase_decimator, phase_bank, channels), x.dtype,
                          like=x)
        y = _backend.depthwise_conv(_backend.concatenate(edges, 3), kernel)
        return _backend.reshape(y, (batch, channels, time))
    # phases (B*C, T, r): channels folded into the batch, one single-channel conv
    x = _backend.reshape(x, (batch * channels, time + taps - 1, 1))
    phases = ops.conv(x, constant(layout(_conv_bank, bank), x.dtype, like=x), padding="valid")
    phases = _backend.reshape(fn(_backend.reshape(phases, (batch, channels, time * r))),
                              (batch * channels, time, r))
    edges = [_backend.broadcast_to(phases[:, :1, :1], (batch * channels, before, r)), phases,
             _backend.broadcast_to(phases[:, time - 1:, r - 1:], (batch * channels, after, r))]
    kernel = constant(layout(_phase_decimator_kernel, phase_bank), x.dtype, like=x)
    y = ops.conv(_backend.concatenate(edges, 1), kernel, padding="valid")
    return _backend.reshape(y, (batch, channels, time))


def _phase_decimator_kernel(phase_bank):
    return phase_bank[:, :, None]


def _depthwise_phase_decimator(phase_bank, channels):
    """The phase decimator as torch's grouped 2-D kernel ``(channels, 1, r, taps)`` over the
    phases ``(B, C, r, T)``: one output per channel, summed over phases and taps."""
    return np.broadcast_to(phase_bank.T[None, None], (channels, 1, *phase_bank.T.shape))


# --- any ratio: a bank read with a stride ----------------------------------------------------

def rational(x, bank, left, up_, down_, edge, data_format):
    """``y[b up + i] = sum_t bank[t, i] * x_e[b down + t - left]`` on every channel, ``x_e`` the
    input extended by ``edge``; ``ceil(T up / down)`` outputs. ``bank`` (a design or an array,
    ``(taps, up)``: :func:`upsample1d.filters.rational_bank`) is read with stride ``down``:
    one convolution gives the ``up`` outputs of every block of ``down`` inputs, the shuffle
    puts them in time. With ``up`` outputs per input channel this is a real matrix product,
    which every backend, torch included, runs fastest with the channels folded into the batch
    (the depthwise form of ``_backend.DEPTHWISE_BANKS``, right for banks of one output per
    phase, measured slower here on torch's CPU)."""
    axis = check.time_axis(data_format)
    time = x.shape[axis]
    if time == 0:
        return x
    taps = array(bank).shape[0]
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, length = ops.shape(x)
    out_time = -(-length * up_ // down_)
    blocks = -(-out_time // up_)
    total = (blocks - 1) * down_ + taps
    x = ops.reshape(x, (batch * channels, length, 1))
    # blocks = ceil(T / down), so the window never reads more than taps - 1 - left past T
    x = _pad_for_decimation(x, left, total, time, taps, edge, "channels_last")
    kernel = constant(layout(_conv_bank, bank), x.dtype, like=x)
    y = ops.conv(x, kernel, strides=down_, padding="valid")
    y = ops.reshape(y, (batch, channels, blocks * up_))[:, :, :out_time]
    return ops.transpose(y, (0, 2, 1)) if data_format == "channels_last" else y
