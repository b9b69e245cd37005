"""Resampling by any rational ratio: ``up / down``, or from one sample rate to another.

One polyphase filter at the lower rate, run by the engine
(:func:`upsample1d.ops._polyphase.rational`): the ``up`` output phases of every block of
``down`` input samples come from one convolution read with stride ``down``, then the shuffle.
Only the outputs kept are computed; nothing runs on a zero-stuffed signal. Integer ratios run
the engine's ``up`` and ``down`` (for the ``"poly"`` quality, exactly
:func:`~upsample1d.ops.upsample_sinc_1d` and :func:`~upsample1d.ops.downsample_sinc_1d`).

The filter (:func:`upsample1d.filters.resample_prototype`) is a Kaiser-windowed sinc named by
a quality preset (:data:`upsample1d.filters.RESAMPLE_PRESETS`) or by its three numbers:
``zero_crossings`` per side, ``rolloff`` (its cutoff, a fraction of the lower rate's Nyquist)
and ``kaiser_beta``. The README gives each preset's measured passband, transition and
aliasing.
"""

from __future__ import annotations

import math

import upsample1d.ops._polyphase as engine
from upsample1d import _validation as check
from upsample1d import filters

QUALITIES = tuple(filters.RESAMPLE_PRESETS)
# The largest polyphase bank resample_1d builds (float64 NumPy, and as a tensor): a ratio of
# large coprime terms needs (2 N / up + down) x up taps.
MAX_BANK_BYTES = 1 << 30


def ratio(up, down):
    """``(up, down)`` checked and divided by their gcd."""
    up, down = check.positive_int(up, "up"), check.positive_int(down, "down")
    divisor = math.gcd(up, down)
    return up // divisor, down // divisor


def filter_numbers(up, down, quality, zero_crossings, rolloff, kaiser_beta):
    """``(zero_crossings, rolloff, kaiser_beta)`` of the filter: the ``quality`` preset's,
    with the numbers given instead of its; checked, and refused when the bank of the (reduced)
    ratio ``up / down`` would be larger than :data:`MAX_BANK_BYTES`."""
    preset = filters.RESAMPLE_PRESETS[check.choice(quality, "quality", QUALITIES)]
    zero_crossings = preset[0] if zero_crossings is None else check.positive_int(
        zero_crossings, "zero_crossings")
    rolloff = preset[1] if rolloff is None else check.rolloff(rolloff)
    kaiser_beta = preset[2] if kaiser_beta is None else check.non_negative_number(
        kaiser_beta, "kaiser_beta")
    half = zero_crossings * max(up, down)
    _, taps = filters.rational_geometry(2 * half + 1, half, up, down)
    check.filter_bank_size(up, down, taps, MAX_BANK_BYTES)
    return zero_crossings, rolloff, kaiser_beta


def _rational_bank(up, down, zero_crossings, rolloff, kaiser_beta):
    half = zero_crossings * max(up, down)
    prototype = filters.resample_prototype(up, down, zero_crossings, rolloff, kaiser_beta)
    return filters.rational_bank(prototype, half, up, down)


def _decimator(down, zero_crossings, rolloff, kaiser_beta):
    return filters.resample_prototype(1, down, zero_crossings, rolloff, kaiser_beta)[::-1]


def _resample(x, up, down, numbers, edge, data_format):
    """The primitive: canonical, reduced arguments; ``numbers`` from :func:`filter_numbers`."""
    zero_crossings, rolloff, kaiser_beta = numbers
    half = zero_crossings * max(up, down)
    if numbers == filters.RESAMPLE_PRESETS["poly"] and (up == 1 or down == 1):
        r = max(up, down)  # the designs of upsample_sinc_1d / downsample_sinc_1d, exactly
        if down == 1:
            bank = engine.design(filters.sinc_phases, r, zero_crossings, kaiser_beta)
            return engine.up(x, bank, (zero_crossings, zero_crossings), edge, data_format)
        prototype = engine.design(filters.sinc_prototype, r, zero_crossings, kaiser_beta)
        return engine.down(x, prototype, half, r, edge, data_format)
    if up == 1:  # a decimator: the prototype reversed, read from its first tap
        prototype = engine.design(_decimator, down, *numbers)
        return engine.down(x, prototype, half, down, edge, data_format)
    bank = engine.design(_rational_bank, up, down, *numbers)
    left, _ = filters.rational_geometry(2 * half + 1, half, up, down)
    if down == 1:
        return engine.up(x, bank, (left, engine.array(bank).shape[0] - 1 - left), edge,
                         data_format)
    return engine.rational(x, bank, left, up, down, edge, data_format)


def resample_1d(x, up, down=1, quality="poly", *, zero_crossings=None, rolloff=None,
                kaiser_beta=None, edge="zeros", data_format="channels_last"):
    """Resample the time axis by ``up / down``: ``(orig_rate, new_rate)`` is
    ``up=new_rate, down=orig_rate`` (the ratio is reduced by its gcd).

    With ``h`` = :func:`upsample1d.filters.resample_prototype` ``(up, down, ...)``
    (``2 N + 1`` taps, ``N = zero_crossings * max(up, down)``, DC gain ``up``):
    ``out[b, n, c] = sum_s h[n * down - s * up + N] * x_e[b, s, c]`` for
    ``n < ceil(T * up / down)`` (channels_last indexing), ``x_e`` the input extended by
    ``edge``: ``"zeros"`` (``scipy.signal.resample_poly``'s), ``"replicate"`` or ``"reflect"``.
    The ``"poly"`` quality is ``resample_poly``'s own filter, so with zero edges the result is
    ``resample_poly(x, up, down)`` along time. Other qualities: ``"kaiser_fast"`` and
    ``"kaiser_best"`` (resampy's filter parameters, designed for the exact ratio), ``"hq"`` and
    ``"vhq"`` (cutoff just below the lower Nyquist, deep stopbands); ``zero_crossings``,
    ``rolloff`` and ``kaiser_beta`` override the preset's numbers.

    Computed at the lower rate: one convolution of ``taps`` per output phase window, read with
    stride ``down``, then the shuffle (:func:`upsample1d.ops._polyphase.rational`). Shapes:
    channels_last ``(B, T, C) -> (B, ceil(T up / down), C)``; channels_first likewise on the
    last axis. Floating-point inputs only; differentiable; T = 0 gives T = 0.

    A NaN or inf input sample makes NaN every output of each block whose window holds it (the
    window spans the bank's ``taps`` input samples, zero taps included: 0 * inf is NaN): up to
    ``up * ceil(taps / down)`` outputs, where ``resample_poly``, which skips the zero taps,
    reaches about ``2 N / down`` (147 against 21 at 147/160). Finite inputs give the same
    numbers.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import resample_1d
    >>> x = np.zeros((1, 480, 1), "float32")              # 10 ms at 48 kHz
    >>> convert_to_numpy(resample_1d(x, 44100, 48000)).shape  # to 44.1 kHz
    (1, 441, 1)
    """
    up, down = ratio(up, down)
    edge = check.edge(edge)
    numbers = filter_numbers(up, down, quality, zero_crossings, rolloff, kaiser_beta)
    x, _, data_format = engine.prepare(x, 1, data_format, "resample_1d")
    if up == down:
        return x
    return engine.run(x, _resample, up, down, data_format, up, down, numbers, edge,
                      data_format)
