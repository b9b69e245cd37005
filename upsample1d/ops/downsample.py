"""Fixed downsamplers, all on one primitive: the polyphase decimator.

Filtering at the input rate and keeping every ``factor``-th output wastes ``factor - 1`` of
every ``factor`` results. Here the input is first folded by
:func:`~upsample1d.ops.space_to_depth_1d` into ``factor`` phases per output step, and one
convolution at the output rate combines them: ``ceil(K / factor)`` taps per phase, ``K``
multiply-adds per output sample instead of ``factor * K``.

Every op here returns ``ceil(T / factor)`` samples: output ``t`` is centred (sinc) or starts
(average, decimation) at input sample ``t * factor``, so a length that ``factor`` does not
divide simply gives a shorter last block. The public functions validate once and call the
private primitives (``_sinc_down``, ``_average``, ``_decimate``), which the layers call
directly; the decimator itself is the polyphase engine's
(:func:`upsample1d.ops._polyphase.down`).
"""

from __future__ import annotations

from keras import ops

import upsample1d.ops._polyphase as engine
from upsample1d import _validation as check
from upsample1d import filters

# --- any prototype --------------------------------------------------------------------------

def polyphase_downsample_1d(x, prototype, factor, left=None, data_format="channels_last",
                            edge="zeros"):
    """Filter every channel with ``prototype`` and keep every ``factor``-th sample, computed
    as :func:`~upsample1d.ops.space_to_depth_1d` + one convolution at the output rate.

    ``out[b, t, c] = sum_k prototype[k] * x_e[b, t*factor + k - left, c]`` (channels_last
    indexing) for ``t < ceil(T / factor)``, with ``x_e`` the input extended beyond its ends by
    ``edge``: ``"zeros"`` (default), ``"replicate"`` (the edge samples repeated) or
    ``"reflect"`` (mirrored about them). ``left``
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
    edge = check.edge(edge)
    prototype = check.prototype(prototype)
    left = (len(prototype) - 1) // 2 if left is None else check.non_negative_int(left, "left")
    x, r, data_format = engine.prepare(x, factor, data_format, "polyphase_downsample_1d")
    # a caller's prototype is converted on every call (not a design: never cached)
    return engine.run(x, engine.down, 1, r, data_format, prototype, left, r, edge,
                      data_format)


# --- sinc -----------------------------------------------------------------------------------

def _sinc_down(x, r, data_format, half_width=10, kaiser_beta=5.0):
    prototype = engine.design(filters.sinc_prototype, r, half_width, kaiser_beta)
    return engine.down(x, prototype, half_width * r, r, "zeros", data_format)


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
    x, r, data_format = engine.prepare(x, factor, data_format, "downsample_sinc_1d")
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return engine.run(x, _sinc_down, 1, r, data_format, r, data_format, half_width=half_width,
                      kaiser_beta=kaiser_beta)


# --- average --------------------------------------------------------------------------------

def _average(x, r, data_format):
    """Block means; the last block, when ``r`` does not divide T, over the samples it has."""
    y = engine.down(x, engine.design(filters.average_prototype, r), 0, r, "zeros", data_format)
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
    x, r, data_format = engine.prepare(x, factor, data_format, "downsample_average_1d")
    return engine.run(x, _average, 1, r, data_format, r, data_format)


# --- decimation -----------------------------------------------------------------------------

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
    x, r, data_format = engine.prepare(x, factor, data_format, "decimate_1d", False)
    return engine.run(x, _decimate, 1, r, data_format, r, data_format)


# name -> private primitive (x, factor, data_format) -> downsampled x, for the layers
DOWNSAMPLINGS = {"sinc": _sinc_down, "average": _average, "decimate": _decimate}
