"""Fixed (non-learned) upsamplers: nearest, linear and windowed-sinc interpolation.

Each is a filter bank (:mod:`upsample1d.filters`) applied at the input rate followed by the
shuffle, run by the polyphase engine (:func:`upsample1d.ops._polyphase.up`): phase ``i`` of
output step ``t`` is ``y[t*r + i] = sum_n bank[n, i] * x_padded[t + n]``. Nothing is computed
on a zero-stuffed signal.

The public functions validate once and call the private primitives (``_nearest``,
``_linear``, ``_sinc``), which the layers call directly.
"""

from __future__ import annotations

from keras import ops

import upsample1d.ops._polyphase as engine
from upsample1d import _validation as check
from upsample1d import filters

# --- nearest --------------------------------------------------------------------------------

def _nearest(x, r, data_format):
    batch = ops.shape(x)[0]
    if data_format == "channels_last":
        _, time, channels = ops.shape(x)
        x = ops.broadcast_to(ops.expand_dims(x, 2), (batch, time, r, channels))
        return ops.reshape(x, (batch, time * r, channels))
    _, channels, time = ops.shape(x)
    x = ops.broadcast_to(ops.expand_dims(x, 3), (batch, channels, time, r))
    return ops.reshape(x, (batch, channels, time * r))


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    """Repeat every time step ``factor`` times: ``out[b, t*r + i, c] = x[b, t, c]``.

    Shapes: channels_last ``(B, T, C) -> (B, T*r, C)``; channels_first
    ``(B, C, T) -> (B, C, T*r)``. The identity filter bank tiled ``r`` times followed by the
    shuffle, which here collapses to broadcast + reshape (no gather, no repeat). Equal to
    ``keras.layers.UpSampling1D`` and to torch ``F.interpolate(mode="nearest")``; any dtype.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_nearest_1d
    >>> convert_to_numpy(upsample_nearest_1d([[[1.0], [2.0]]], 2))[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    x, r, data_format = engine.prepare(x, factor, data_format, "upsample_nearest_1d", False)
    return engine.run(x, _nearest, r, 1, data_format, r, data_format)


# --- any bank -------------------------------------------------------------------------------

def polyphase_upsample_1d(x, bank, pad, data_format="channels_last", edge="zeros"):
    """Apply a fixed polyphase filter bank to every channel, then shuffle the phases into time.

    ``bank`` has shape ``(taps, r)``; with ``x`` padded by ``pad = (left, right)`` steps,
    ``out[b, t*r + i, c] = sum_n bank[n, i] * x_padded[b, t + n, c]``; ``taps`` must equal
    ``left + right + 1``, which keeps the length at ``T*r``. ``edge`` is ``"zeros"``,
    ``"replicate"`` (the edge samples repeated) or ``"reflect"`` (mirrored about them).
    Shapes as in :func:`upsample_linear_1d`. The polyphase engine runs it
    (:func:`upsample1d.ops._polyphase.up`); a caller's bank is converted on every call.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import polyphase_upsample_1d
    >>> bank = np.array([[1.0, 0.5], [0.0, 0.5]])          # x[t], then (x[t] + x[t+1]) / 2
    >>> y = polyphase_upsample_1d([[[0.0], [2.0]]], bank, (0, 1))
    >>> convert_to_numpy(y)[0, :, 0].tolist()
    [0.0, 1.0, 2.0, 1.0]
    """
    edge = check.edge(edge)
    bank = check.filter_bank(bank)
    pad = check.padding_pair(pad, bank.shape[0])
    x, r, data_format = engine.prepare(x, bank.shape[1], data_format, "polyphase_upsample_1d")
    return engine.run(x, engine.up, r, 1, data_format, bank, pad, edge, data_format)


# --- linear ---------------------------------------------------------------------------------

def linear_bank(factor):
    """The ``(3, r)`` bank of half-pixel linear interpolation on an input padded by (1, 1)
    (:func:`upsample1d.filters.linear_bank`).

    Example:
    >>> from upsample1d.ops import linear_bank
    >>> linear_bank(2).tolist()
    [[0.25, 0.0], [0.75, 0.75], [0.0, 0.25]]
    """
    return filters.linear_bank(factor)


def _linear(x, r, data_format):
    bank = engine.design(filters.linear_bank, r)
    return engine.up(x, bank, (1, 1), "replicate", data_format)


def upsample_linear_1d(x, factor, data_format="channels_last"):
    """Linear interpolation with half-pixel centres and clamped edges.

    Output ``j`` reads input position ``(j + 0.5)/r - 0.5``, clamped to ``[0, T-1]``: equal to
    torch ``F.interpolate(mode="linear", align_corners=False)`` and TF
    ``tf.image.resize(method="bilinear")``. Computed as a 3-tap polyphase bank
    (:func:`linear_bank`) at the input rate on the edge-replicated input, then the shuffle.
    Shapes: channels_last ``(B, T, C) -> (B, T*r, C)``; channels_first
    ``(B, C, T) -> (B, C, T*r)``. Floating-point inputs only.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_linear_1d
    >>> convert_to_numpy(upsample_linear_1d([[[0.0], [4.0]]], 2))[0, :, 0].tolist()
    [0.0, 1.0, 3.0, 4.0]
    """
    x, r, data_format = engine.prepare(x, factor, data_format, "upsample_linear_1d")
    return engine.run(x, _linear, r, 1, data_format, r, data_format)


# --- sinc -----------------------------------------------------------------------------------

def sinc_bank(factor, half_width=10, kaiser_beta=5.0):
    """The polyphase bank of a Kaiser-windowed sinc low-pass at the input Nyquist
    (:func:`upsample1d.filters.sinc_bank`).

    The prototype is ``h = firwin(2*L + 1, 1/r, window=("kaiser", beta)) * r`` with
    ``L = half_width * r`` (scipy's ``resample_poly`` design), centred: output ``t*r + i`` is
    ``sum_k x[t - k] * h[k*r + i + L]``. Returns ``(bank, (left, right))`` with the bank laid
    out for :func:`polyphase_upsample_1d` (``bank[n, i]`` multiplies ``x[t + n - left]``).

    Example:
    >>> from upsample1d.ops import sinc_bank
    >>> bank, pad = sinc_bank(4)
    >>> bank.shape, pad
    ((21, 4), (10, 10))
    """
    return filters.sinc_bank(factor, half_width, kaiser_beta)


def sinc_prototype(factor, half_width=10, kaiser_beta=5.0):
    """The Kaiser-windowed sinc low-pass with cutoff ``1 / factor`` (of Nyquist), unit DC gain
    (:func:`upsample1d.filters.sinc_prototype`): ``firwin(2*L + 1, 1/factor,
    window=("kaiser", kaiser_beta))``, ``L = half_width * factor``, scipy's ``resample_poly``
    design. :func:`sinc_bank` and :func:`~upsample1d.ops.downsample_sinc_1d` are built from it.

    Example:
    >>> from upsample1d.ops import sinc_prototype
    >>> h = sinc_prototype(2)
    >>> h.shape, round(float(h.sum()), 12), int(h.argmax())
    ((41,), 1.0, 20)
    """
    return filters.sinc_prototype(factor, half_width, kaiser_beta)


def _sinc(x, r, data_format, half_width=10, kaiser_beta=5.0):
    bank = engine.design(filters.sinc_phases, r, half_width, kaiser_beta)
    return engine.up(x, bank, (half_width, half_width), "zeros", data_format)


def upsample_sinc_1d(x, factor, data_format="channels_last", half_width=10, kaiser_beta=5.0):
    """Band-limited upsampling with a Kaiser-windowed sinc (zero padding at the edges).

    With the defaults, equal to ``scipy.signal.resample_poly(x, factor, 1)`` along time: the
    low-pass ``firwin(20*r + 1, 1/r, window=("kaiser", 5.0))`` scaled by ``r``, run as ``r``
    polyphase branches of ``2*half_width + 1`` taps at the input rate (:func:`sinc_bank`),
    then the shuffle. Like scipy's, the ``r`` phases' DC gains differ slightly (the prototype
    is normalised as a whole, not per phase), which leaves a faint tone at ``fs_in`` for a
    constant input (:func:`upsample1d.artifacts.measure` gives its level); kept for exact
    parity with scipy. Shapes as in :func:`upsample_linear_1d`; floating-point inputs only.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_sinc_1d
    >>> convert_to_numpy(upsample_sinc_1d([[[1.0]] * 64], 2)).shape
    (1, 128, 1)
    """
    x, r, data_format = engine.prepare(x, factor, data_format, "upsample_sinc_1d")
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return engine.run(x, _sinc, r, 1, data_format, r, data_format, half_width=half_width,
                      kaiser_beta=kaiser_beta)


# name -> private primitive (x, factor, data_format) -> upsampled x, for the layers
INTERPOLATIONS = {"nearest": _nearest, "linear": _linear, "sinc": _sinc}
