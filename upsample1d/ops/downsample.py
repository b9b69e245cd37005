"""Fixed downsamplers, all on one primitive: the polyphase decimator.

Filtering at the input rate and keeping every ``factor``-th output wastes ``factor - 1`` of
every ``factor`` results. Here the input is first folded by
:func:`~upsample1d.ops.space_to_depth_1d` into ``factor`` phases per output step, and one
convolution at the output rate combines them: ``ceil(K / factor)`` taps per phase, ``K``
multiply-adds per output sample instead of ``factor * K``.

Every op here returns ``ceil(T / factor)`` samples: output ``t`` is centred (sinc) or starts
(average, decimation) at input sample ``t * factor``, so a length that ``factor`` does not
divide simply gives a shorter last block. The public functions validate once and call the
private primitives (``_polyphase_downsample``, ``_sinc_down``, ``_average``, ``_decimate``),
which the layers call directly.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.ops.interpolate import (
    _cached_bank,
    _prepare,
    _ResampleOp,
    _sinc_prototype_of,
    pad_time,
)
from upsample1d.ops.shuffle import _space_to_depth


def _polyphase_downsample(x, prototype, left, factor, data_format, edge, key):
    """``y[t] = sum_k prototype[k] * x_e[t * factor + k - left]`` for every channel, with
    ``x_e`` the input extended by ``edge`` (``"zeros"`` or ``"replicate"``) beyond its ends;
    ``ceil(T / factor)`` outputs. Arguments canonical, ``prototype`` a 1-D NumPy array, ``key``
    identifies it for the constant cache (None: not cached); validates nothing.

    As a polyphase decimator: with ``N = ceil(K / factor)`` and ``X`` the padded input
    folded by space_to_depth (``X[s, i] = x_e[s * factor + i - left]``),
    ``y[t] = sum_n sum_i prototype[n * factor + i] * X[t + n, i]``: one "valid" convolution
    of ``N`` taps at the output rate, channels folded into the batch. (On torch the same
    multiply-adds run as one strided depthwise conv: see ``_backend.DEPTHWISE_BANKS``.)
    """
    r = factor
    axis = check.time_axis(data_format)
    time = x.shape[axis]  # None where unknown while tracing (a TF graph)
    if time == 0:
        return x
    taps = -(-len(prototype) // r)
    # The bank is made once per key (eagerly; a compiler tracing this then reads a constant).
    bank = _phase_bank(prototype, r, taps) if key is None else _cached_bank(
        ("polyphase_downsample", key), lambda: _phase_bank(prototype, r, taps))
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, length = ops.shape(x)
    out_time = -(-length // r)
    # Pad to exactly (out_time + taps - 1) * r samples; samples past the last one an output
    # reads meet zero taps, so a surplus of left padding is cut from the end.
    total = (out_time + taps - 1) * r
    if _backend.DEPTHWISE_BANKS:  # one strided depthwise conv: the same multiply-adds
        x = _pad_for_decimation(x, left, total, time, taps * r, edge, "channels_first")
        depthwise = np.broadcast_to(bank.reshape(taps * r, 1, 1), (taps * r, channels, 1))
        kernel = _backend.constant(depthwise, x.dtype, like=x,
                                   key=None if key is None else (key, channels))
        y = ops.depthwise_conv(x, kernel, strides=r, padding="valid",
                               data_format="channels_first")
    else:
        x = ops.reshape(x, (batch * channels, length, 1))
        x = _pad_for_decimation(x, left, total, time, taps * r, edge, "channels_last")
        kernel = _backend.constant(bank, x.dtype, like=x, key=key)
        y = ops.conv(_space_to_depth(x, r, "channels_last", "DCR"), kernel, padding="valid")
        y = ops.reshape(y, (batch, channels, out_time))
    return ops.transpose(y, (0, 2, 1)) if data_format == "channels_last" else y


def _pad_for_decimation(x, left, total, time, span, edge, data_format):
    """``x`` padded by ``left`` and cut or padded to ``total`` samples along time; ``time``
    None (a run-time length): padded for the longest case (``span - 1`` samples), then cut."""
    cut = (slice(None),) * check.time_axis(data_format) + (slice(0, total),)
    if time is None:
        return pad_time(x, left, max(span - 1 - left, 0), data_format, edge)[cut]
    x = pad_time(x, left, max(total - time - left, 0), data_format, edge)
    return x[cut] if time + left > total else x


def _phase_bank(prototype, r, taps):
    """``prototype`` zero-padded to ``taps * r`` taps, as the ``(taps, r, 1)`` kernel of the
    conv at the output rate: ``bank[n, i, 0] = prototype[n * r + i]``."""
    kernel = np.zeros(taps * r)
    kernel[:len(prototype)] = prototype
    return kernel.reshape(taps, r, 1)


def downsampled_shape(shape, factor, data_format):
    """``shape`` with its time axis ``T`` replaced by ``ceil(T / factor)`` (``None`` kept)."""
    shape = list(shape)
    axis = check.time_axis(data_format)
    shape[axis] = None if shape[axis] is None else -(-shape[axis] // factor)
    return tuple(shape)


class _DownsampleOp(_ResampleOp):
    def output_time(self, time):
        return -(-time // self.factor)


_run = _DownsampleOp.run


# --- any prototype --------------------------------------------------------------------------

def polyphase_downsample_1d(x, prototype, factor, left=None, data_format="channels_last",
                            edge="zeros"):
    """Filter every channel with ``prototype`` and keep every ``factor``-th sample, computed
    as :func:`~upsample1d.ops.space_to_depth_1d` + one convolution at the output rate.

    ``out[b, t, c] = sum_k prototype[k] * x_e[b, t*factor + k - left, c]`` (channels_last
    indexing) for ``t < ceil(T / factor)``, with ``x_e`` the input extended beyond its ends by
    ``edge``: ``"zeros"`` (default) or ``"replicate"`` (the edge samples repeated). ``left``
    defaults to ``(len(prototype) - 1) // 2``, which centres a symmetric odd-length
    prototype on input sample ``t * factor``. Equal to a full-rate convolution followed by
    ``y[:, ::factor]``, at ``len(prototype)`` multiply-adds per output sample instead of
    ``factor * len(prototype)``.

    Shapes: channels_last ``(B, T, C) -> (B, ceil(T/r), C)``; channels_first
    ``(B, C, T) -> (B, C, ceil(T/r))``. Floating-point inputs only; T=0 gives T=0.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import polyphase_downsample_1d
    >>> x = [[[1.0], [2.0], [3.0], [4.0], [5.0]]]
    >>> convert_to_numpy(polyphase_downsample_1d(x, [0.5, 0.5], 2, left=0))[0, :, 0].tolist()
    [1.5, 3.5, 2.5]
    """
    edge = check.choice(edge, "edge", ("zeros", "replicate"))
    prototype = np.asarray(prototype, np.float64)
    if prototype.ndim != 1 or prototype.size == 0:
        raise ValueError(f"`prototype` must be a non-empty 1-D array of taps, got shape "
                         f"{prototype.shape}.")
    left = (len(prototype) - 1) // 2 if left is None else check.non_negative_int(left, "left")
    x, r, data_format = _prepare(x, factor, data_format, "polyphase_downsample_1d", True)
    # A caller's prototype is converted on every call (key None: not cached).
    return _run(x, lambda x, r, data_format: _polyphase_downsample(
        x, prototype, left, r, data_format, edge, None), r, data_format)


# --- sinc -----------------------------------------------------------------------------------

def _sinc_down(x, r, data_format, half_width=10, kaiser_beta=5.0):
    prototype = _sinc_prototype_of(r, half_width, kaiser_beta)
    return _polyphase_downsample(x, prototype, half_width * r, r, data_format, "zeros",
                                 ("sinc_down", r, half_width, kaiser_beta))


def downsample_sinc_1d(x, factor, data_format="channels_last", half_width=10,
                       kaiser_beta=5.0):
    """Band-limited downsampling: a Kaiser-windowed sinc low-pass at the output Nyquist, then
    every ``factor``-th sample (zero padding at the edges).

    With ``h = firwin(2*L + 1, 1/r, window=("kaiser", kaiser_beta))``, ``L = half_width * r``
    (:func:`~upsample1d.ops.sinc_prototype`):
    ``out[b, t, c] = sum_k h[k] * x[b, t*r + k - L, c]`` (channels_last indexing; ``x`` zero
    outside ``[0, T)``), for ``t < ceil(T / r)``. With the defaults that is exactly
    ``scipy.signal.resample_poly(x, 1, factor)`` along time, edges included. Computed by the
    polyphase decimator (:func:`polyphase_downsample_1d`): ``2*half_width + 1`` taps per phase
    at the output rate, ``2*L + 1`` multiply-adds per output instead of ``r * (2*L + 1)``.
    The same prototype as :func:`~upsample1d.ops.upsample_sinc_1d` (which scales it by
    ``r``), so the two are adjoint up to that scale.

    Shapes: channels_last ``(B, T, C) -> (B, ceil(T/r), C)``; channels_first
    ``(B, C, T) -> (B, C, ceil(T/r))``. Floating-point inputs only; T=0 gives T=0.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import downsample_sinc_1d
    >>> y = convert_to_numpy(downsample_sinc_1d([[[1.0]] * 65], 2))
    >>> y.shape, round(float(y[0, 16, 0]), 6)                  # unit gain at DC
    ((1, 33, 1), 1.0)
    """
    x, r, data_format = _prepare(x, factor, data_format, "downsample_sinc_1d", True)
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return _run(x, _sinc_down, r, data_format, half_width=half_width, kaiser_beta=kaiser_beta)


# --- average --------------------------------------------------------------------------------

def _average_prototype(r):
    return _cached_bank(("average", r), lambda: np.full(r, 1.0 / r))


def _average(x, r, data_format):
    """Block means; the last block, when ``r`` does not divide T, over the samples it has."""
    y = _polyphase_downsample(x, _average_prototype(r), 0, r, data_format, "zeros",
                              ("average", r))
    axis = check.time_axis(data_format)
    time = x.shape[axis]
    if r == 1 or time == 0 or (time is not None and time % r == 0):
        return y
    head = (slice(None),) * axis
    if time is not None:
        scale = r / (time % r)
    else:  # a run-time length (TF graph): the last block holds T % r samples, or r
        rest = ops.mod(ops.shape(x)[axis], r)
        scale = r / ops.cast(ops.where(ops.equal(rest, 0), r, rest), y.dtype)
    last = ops.cast(y[head + (slice(-1, None),)] * scale, y.dtype)
    return ops.concatenate([y[head + (slice(None, -1),)], last], axis=axis)


def downsample_average_1d(x, factor, data_format="channels_last"):
    """Average pooling by ``factor``: the mean of each block of ``factor`` samples.

    ``out[b, t, c] = mean(x[b, t*r : min(t*r + r, T), c])`` (channels_last indexing) for
    ``t < ceil(T / r)``. Where ``r`` divides T this equals
    ``keras.layers.AveragePooling1D(factor)`` (``padding="valid"``); where it does not, the
    last, shorter block is averaged over the samples it has (as torch's
    ``F.avg_pool1d(x, r, ceil_mode=True)``) rather than dropped (Keras' ``"valid"``) or
    shifted (TensorFlow's ``"same"`` pads half the shortfall on the left). Computed by the
    polyphase decimator with the boxcar prototype ``ones(r) / r``: one tap per phase.

    Shapes: channels_last ``(B, T, C) -> (B, ceil(T/r), C)``; channels_first
    ``(B, C, T) -> (B, C, ceil(T/r))``. Floating-point inputs only; T=0 gives T=0.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import downsample_average_1d
    >>> x = [[[1.0], [3.0], [5.0], [7.0], [9.0]]]
    >>> convert_to_numpy(downsample_average_1d(x, 2))[0, :, 0].tolist()
    [2.0, 6.0, 9.0]
    """
    x, r, data_format = _prepare(x, factor, data_format, "downsample_average_1d", True)
    return _run(x, _average, r, data_format)


# --- decimation -----------------------------------------------------------------------------

def _pad_to_blocks(x, r, data_format, edge):
    """``(x padded at the end to whole blocks of r samples, blocks)``; ``blocks`` is
    ``ceil(T / r)``, an int, or a run-time size where T is unknown while tracing."""
    axis = check.time_axis(data_format)
    time = x.shape[axis]
    if time is None:  # run-time length: pad for the longest case, then cut to whole blocks
        blocks = -(-ops.shape(x)[axis] // r)
        x = pad_time(x, 0, r - 1, data_format, edge)
        return x[(slice(None),) * axis + (slice(None, blocks * r),)], blocks
    blocks = -(-time // r)
    return pad_time(x, 0, blocks * r - time, data_format, edge), blocks


def _decimate(x, r, data_format):
    """Phase 0 of space_to_depth, the input padded to whole blocks: ``x[:, ::r]`` along time,
    taken as one strided slice. (The pad + reshape + index it equals would mean a
    concatenation, which JAX's CPU backend runs through float32 for bfloat16, quieting
    signalling NaNs; a slice moves bits and nothing else.)"""
    if r == 1:
        return x
    return x[(slice(None),) * check.time_axis(data_format) + (slice(None, None, r),)]


def decimate_1d(x, factor, data_format="channels_last"):
    """Keep every ``factor``-th sample, with no filter: ``x[:, ::factor]`` along time.

    ``out[b, t, c] = x[b, t*r, c]`` (channels_last indexing) for ``t < ceil(T / r)``:
    phase 0 of :func:`~upsample1d.ops.space_to_depth_1d` (the input padded to whole blocks),
    taken as one strided slice, so every bit of every element is kept, for any dtype (NaN
    payloads included), and nothing is computed or padded. Without a
    low-pass, content above the output Nyquist aliases: use it on signals that are already
    band-limited (or to pick frames), :func:`downsample_sinc_1d` otherwise.

    Shapes: channels_last ``(B, T, C) -> (B, ceil(T/r), C)``; channels_first
    ``(B, C, T) -> (B, C, ceil(T/r))``. T=0 gives T=0.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import decimate_1d
    >>> convert_to_numpy(decimate_1d([[[0], [1], [2], [3], [4]]], 2))[0, :, 0].tolist()
    [0, 2, 4]
    """
    x, r, data_format = _prepare(x, factor, data_format, "decimate_1d", False)
    return _run(x, _decimate, r, data_format)


# name -> private primitive (x, factor, data_format) -> downsampled x, for the layers
DOWNSAMPLINGS = {"sinc": _sinc_down, "average": _average, "decimate": _decimate}
