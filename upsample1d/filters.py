"""Filter design, in NumPy: every fixed filter the package runs, and nothing else.

Each function here is a pure function of a few numbers and returns float64 NumPy arrays (or
ints); none imports a framework, so each can be checked alone against scipy or a reference
package. The ops run these designs through the polyphase engine
(:mod:`upsample1d.ops._polyphase`), which caches what they return, keyed by the function and
its arguments.

Two layouts, for the engine's two directions:

- a *bank* ``(taps, r)`` with a padding ``(left, right)``, ``taps = left + right + 1``, for
  upsampling: output ``t*r + i`` is ``sum_n bank[n, i] * x[t + n - left]``;
- a *prototype* ``(K,)`` with a ``left`` offset, for decimating:
  output ``t`` is ``sum_k prototype[k] * x[t*r + k - left]``.

Contents: the interpolators (:func:`nearest_bank`, :func:`linear_bank`, :func:`sinc_bank`
and its :func:`sinc_prototype`, scipy's ``resample_poly`` design), the block average
(:func:`average_prototype`), alias-free-torch's Kaiser-sinc (:func:`kaiser_sinc_filter`) and
the filters of its up/downsamplers (:func:`alias_free_up`, :func:`alias_free_down`), a
decimator read from the phases of a signal (:func:`phase_decimator`), and interpolation
followed by a convolution composed into one filter at the input rate
(:func:`interpolation_composition`, :func:`interpolation_edge_corrections`).
"""

from __future__ import annotations

import math

import numpy as np

from upsample1d import _validation as check

INTERPOLATIONS = ("nearest", "linear", "sinc")
ALIAS_FREE_FILTERS = ("alias_free_torch", "sinc_bank")


# --- interpolators --------------------------------------------------------------------------

def nearest_bank(factor):
    """The ``(1, r)`` bank of nearest-neighbour upsampling (no padding): all ones."""
    return np.ones((1, check.positive_int(factor, "factor")))


def linear_bank(factor):
    """The ``(3, r)`` bank of half-pixel linear interpolation on an input padded by (1, 1).

    Output ``j = t*r + i`` sits at input position ``t + d_i`` with ``d_i = (i + 0.5)/r - 0.5``;
    it mixes ``x[t-1], x[t]`` (``d_i < 0``) or ``x[t], x[t+1]`` (``d_i >= 0``).

    Example:
    >>> from upsample1d.filters import linear_bank
    >>> linear_bank(2).tolist()
    [[0.25, 0.0], [0.75, 0.75], [0.0, 0.25]]
    """
    r = check.positive_int(factor, "factor")
    bank = np.zeros((3, r))
    for i in range(r):
        d = (i + 0.5) / r - 0.5
        if d < 0:
            bank[0, i], bank[1, i] = -d, 1 + d
        else:
            bank[1, i], bank[2, i] = 1 - d, d
    return bank


def kaiser_window(length, beta):
    """``np.kaiser(length, beta)``: ``w[n] = I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)``,
    also where ``I0(beta)`` overflows float64 (``beta`` above ~709), which ``np.kaiser`` turns
    into NaN taps: there the ratio is taken in the log domain, with I0's asymptotic series for
    arguments of 700 and more (within 1e-13 of the exact ratio at beta 1000, 1e-12 at 5000,
    relative). Up to ``beta = 700`` this is ``np.kaiser`` itself.

    Example:
    >>> from upsample1d.filters import kaiser_window
    >>> w = kaiser_window(9, 1000.0)
    >>> bool(np.isfinite(w).all()), float(w[4]), bool(w[0] < 1e-300)
    (True, 1.0, True)
    """
    if beta <= LARGEST_DIRECT_BETA or length == 1:
        return np.kaiser(length, beta)
    alpha = (length - 1) / 2.0
    x = beta * np.sqrt(np.clip(1.0 - ((np.arange(length) - alpha) / alpha) ** 2, 0.0, 1.0))
    return np.exp(_log_i0(x) - _log_i0(np.array([beta], float))[0])


LARGEST_DIRECT_BETA = 700.0  # np.i0 overflows float64 just past 709.78


def _log_i0(x):
    """``log(I0(x))`` for ``x >= 0``: directly below 700, else ``x - log(2 pi x) / 2 +
    log(sum_k ((2k - 1)!!)^2 / (k! (8x)^k))`` (4 terms)."""
    out = np.empty_like(x)
    direct = x < LARGEST_DIRECT_BETA
    out[direct] = np.log(np.i0(x[direct]))
    big = x[~direct]
    t = 1.0 / (8.0 * big)
    series = t + 9.0 / 2.0 * t**2 + 225.0 / 6.0 * t**3 + 11025.0 / 24.0 * t**4
    out[~direct] = big - 0.5 * np.log(2.0 * np.pi * big) + np.log1p(series)
    return out


def sinc_prototype(factor, half_width=10, kaiser_beta=5.0):
    """The Kaiser-windowed sinc low-pass with cutoff ``1 / factor`` (of Nyquist), unit DC gain.

    ``h[k]`` for ``k = 0 .. 2L`` with ``L = half_width * factor``, centred on ``k = L``:
    ``h = firwin(2*L + 1, 1/factor, window=("kaiser", kaiser_beta))``, scipy's
    ``resample_poly`` design. :func:`sinc_bank` (upsampling, gain ``factor``) and
    :func:`~upsample1d.ops.downsample_sinc_1d` (decimation, gain 1) are both built from it.

    Example:
    >>> from upsample1d.filters import sinc_prototype
    >>> h = sinc_prototype(2)
    >>> h.shape, round(float(h.sum()), 12), int(h.argmax())
    ((41,), 1.0, 20)
    """
    r = check.positive_int(factor, "factor")
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    length = half_width * r
    m = np.arange(2 * length + 1) - length
    h = np.sinc(m / r) / r * kaiser_window(2 * length + 1, kaiser_beta)
    return h / h.sum()  # unit gain at DC, as firwin(scale=True)


def sinc_bank(factor, half_width=10, kaiser_beta=5.0):
    """The polyphase bank of :func:`sinc_prototype` scaled by ``r``, and its padding.

    With ``h`` the prototype and ``L = half_width * r``, output ``t*r + i`` is
    ``sum_k x[t - k] * r * h[k*r + i + L]``: returns ``(bank, (half_width, half_width))``
    with ``bank[n, i] = r * h[(half_width - n) * r + i + L]`` (``2 * half_width + 1`` taps).

    Example:
    >>> from upsample1d.filters import sinc_bank
    >>> bank, pad = sinc_bank(4)
    >>> bank.shape, pad
    ((21, 4), (10, 10))
    """
    h = sinc_prototype(factor, half_width, kaiser_beta) * factor
    r, length = int(factor), int(half_width) * int(factor)
    taps = 2 * half_width + 1
    bank = np.zeros((taps, r))
    for n in range(taps):
        k = half_width - n
        for i in range(r):
            index = k * r + i + length
            if 0 <= index <= 2 * length:
                bank[n, i] = h[index]
    return bank, (int(half_width), int(half_width))


def sinc_phases(factor, half_width=10, kaiser_beta=5.0):
    """The bank of :func:`sinc_bank` alone (its padding is ``(half_width, half_width)``)."""
    return sinc_bank(factor, half_width, kaiser_beta)[0]


def interpolation(method, factor):
    """``(bank, (left, right), edge)`` of the fixed interpolator ``method`` (``"nearest"``,
    ``"linear"`` or ``"sinc"``, default options) by ``factor``; ``edge`` is how the engine
    extends the input (``"replicate"`` for linear, whose outputs are clamped at the ends)."""
    method = check.choice(method, "method", INTERPOLATIONS)
    if method == "nearest":
        return nearest_bank(factor), (0, 0), "zeros"
    if method == "linear":
        return linear_bank(factor), (1, 1), "replicate"
    bank, pad = sinc_bank(factor)
    return bank, pad, "zeros"


def average_prototype(factor):
    """The boxcar ``ones(r) / r`` of block averaging (``left = 0``)."""
    r = check.positive_int(factor, "factor")
    return np.full(r, 1.0 / r)


# --- alias-free-torch (BigVGAN) -------------------------------------------------------------

def kaiser_sinc_filter(cutoff, half_width, kernel_size):
    """alias-free-torch's ``kaiser_sinc_filter1d``: a Kaiser-windowed sinc low-pass, sum 1.

    ``h[n] = 2 fc w[n] sinc(2 fc t_n)``, normalised to ``sum(h) == 1``, with ``fc = cutoff``
    (cycles per sample), ``t_n = n - K // 2 (+ 0.5 for even K)``, ``w`` the symmetric Kaiser
    window of ``K`` points whose beta follows Kaiser's formula for the attenuation
    ``A = 2.285 (K // 2 - 1) pi (4 half_width) + 7.95`` dB. Returns ``(K,)`` float64 (the
    reference builds it in float32).

    Example:
    >>> from upsample1d.filters import kaiser_sinc_filter
    >>> h = kaiser_sinc_filter(0.25, 0.3, 12)
    >>> h.shape, round(float(h.sum()), 12), bool(abs(h - h[::-1]).max() < 1e-15)
    ((12,), 1.0, True)
    """
    cutoff = check.cutoff(cutoff)
    half_width = check.non_negative_number(half_width, "half_width")
    kernel_size = check.positive_int(kernel_size, "kernel_size")
    half = kernel_size // 2
    attenuation = 2.285 * (half - 1) * math.pi * (4 * half_width) + 7.95
    if attenuation > 50.0:
        beta = 0.1102 * (attenuation - 8.7)
    elif attenuation >= 21.0:
        beta = 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21.0)
    else:
        beta = 0.0
    if kernel_size % 2 == 0:
        time = np.arange(-half, half) + 0.5
    else:
        time = np.arange(kernel_size) - half
    if cutoff == 0:
        return np.zeros(kernel_size)
    h = 2 * cutoff * kaiser_window(kernel_size, beta) * np.sinc(2 * cutoff * time)
    return h / h.sum()


def default_kernel_size(factor):
    """alias-free-torch's default filter length for a ratio: ``int(6 * r // 2) * 2``."""
    return int(6 * check.positive_int(factor, "factor") // 2) * 2


def _alias_free_args(factor, kernel_size, filter_name, up=False):
    """``(r, K, filter)`` of the alias-free designs below, checked as the layers check them:
    a float ratio, an unknown filter name or (upsampling) alias-free-torch's ``K <= r`` would
    otherwise give another filter without a word."""
    factor = check.positive_int(factor, "factor")
    filter_name = check.choice(filter_name, "filter", ALIAS_FREE_FILTERS)
    kernel_size = check.alias_free_kernel_size(kernel_size, factor, "kernel_size", filter_name,
                                               up)
    return factor, kernel_size, filter_name


def _sinc_bank_half_width(kernel_size, r):
    """The half-width of the ``"sinc_bank"`` filter standing in for a ``K``-tap one."""
    return -(-kernel_size // (2 * r))


def alias_free_up_geometry(factor, kernel_size, filter_name):
    """``((left, right), (replicate_left, replicate_right))`` of :func:`alias_free_up`: the
    bank's padding, and how many of those samples are edge copies (the rest are zeros)."""
    r, kernel_size, filter_name = _alias_free_args(factor, kernel_size, filter_name, up=True)
    if filter_name == "sinc_bank":
        half_width = _sinc_bank_half_width(kernel_size, r)
        return (half_width, half_width), (half_width, half_width)
    a = (kernel_size - r) // 2
    left, right = (kernel_size - 1 - a) // r, (r - 1 + a) // r
    p = kernel_size // r - 1
    return (left, right), (min(left, p), min(right, p))


def alias_free_up(factor, kernel_size, filter_name):
    """The ``(taps, r)`` bank of alias-free-torch's ``UpSample1d(r, K)`` (``filter_name``
    ``"alias_free_torch"``) or of :func:`sinc_bank` standing in for it (``"sinc_bank"``,
    half-width ``ceil(K / (2 r))``); its padding is :func:`alias_free_up_geometry`.

    alias-free-torch: ``y[t*r + i] = r * sum_s x_p[s] h[(t - s) r + i + a]``, ``a = (K - r)
    // 2``, with ``x_p`` the input replicate-padded by ``p = K // r - 1`` and zeros beyond:
    ``bank[n, i] = r h[(left - n) r + i + a]`` for ``left = (K - 1 - a) // r``,
    ``right = (r - 1 + a) // r``. For ``K >= 3 r`` (and most shorter filters) the bank reads
    no further than ``p`` samples beyond the ends, so the padding is replicate only.

    Its support: phase ``i`` reads ``x`` from ``t - left`` to ``t + right`` where some of the
    corner taps are zero (with ``K = 12, r = 2``, phase 0 reads 6 samples starting one step
    earlier than phase 1's 6). The engine runs one convolution for every phase, over the
    union of the phases' windows: ``left + right + 1`` steps (7 here), so a NaN or inf input
    sample reaches ``r * (left + right + 1)`` outputs (14), where alias-free-torch's
    transposed convolution, which skips the zero taps, reaches ``K`` (12). Finite inputs give
    the same numbers.
    """
    r, kernel_size, filter_name = _alias_free_args(factor, kernel_size, filter_name, up=True)
    if filter_name == "sinc_bank":
        return sinc_bank(r, _sinc_bank_half_width(kernel_size, r))[0]
    h = kaiser_sinc_filter(0.5 / r, 0.6 / r, kernel_size)
    a = (kernel_size - r) // 2
    (left, right), _ = alias_free_up_geometry(r, kernel_size, filter_name)
    bank = np.zeros((left + right + 1, r))
    for n in range(left + right + 1):
        for i in range(r):
            index = (left - n) * r + i + a
            if 0 <= index < kernel_size:
                bank[n, i] = r * h[index]
    return bank


def alias_free_down_left(factor, kernel_size, filter_name):
    """The ``left`` offset of :func:`alias_free_down`'s prototype."""
    factor, kernel_size, filter_name = _alias_free_args(factor, kernel_size, filter_name)
    if filter_name == "sinc_bank":
        return _sinc_bank_half_width(kernel_size, factor) * factor
    return kernel_size // 2 - (1 if kernel_size % 2 == 0 else 0)


def alias_free_down(factor, kernel_size, filter_name):
    """The prototype of alias-free-torch's ``DownSample1d(r, K)``: ``y[t] = sum_k h[k]
    x_e[t r + k - left]`` (edge-replicated ``x_e``, ``left`` = :func:`alias_free_down_left`).

    alias-free-torch: ``h`` = :func:`kaiser_sinc_filter` ``(0.5 / r, 0.6 / r, K)``,
    ``left = K // 2 - (1 if K is even else 0)`` (its ``LowPassFilter1d``: replicate padding
    ``(left, K // 2)``, then a stride-``r`` conv; no read goes past that padding).
    ``"sinc_bank"``: :func:`sinc_prototype` ``(r, ceil(K / (2 r)))`` (unit DC gain), centred.
    """
    r, kernel_size, filter_name = _alias_free_args(factor, kernel_size, filter_name)
    if filter_name == "sinc_bank":
        return sinc_prototype(r, _sinc_bank_half_width(kernel_size, r))
    return kaiser_sinc_filter(0.5 / r, 0.6 / r, kernel_size)


def phase_decimator_geometry(prototype_length, left, factor):
    """``(before, after)`` of :func:`phase_decimator`: the phase steps it reads before and
    after step ``t``."""
    factor = check.positive_int(factor, "factor")
    steps = [(k - left) // factor for k in range(prototype_length)]
    return max(-min(steps), 0), max(max(steps), 0)


def phase_decimator(prototype, left, factor):
    """The decimator ``y[t] = sum_k prototype[k] v[t r + k - left]`` read from the ``r``
    phases of ``v`` (``A[i, tau] = v[tau r + i]``) instead of ``v`` itself:
    ``y[t] = sum_{i, n} W[n, i] A[i, t + n - before]``. Returns ``W``, ``(taps, r)``, with
    ``(before, after)`` = :func:`phase_decimator_geometry`."""
    r = check.positive_int(factor, "factor")
    before, after = phase_decimator_geometry(len(prototype), left, r)
    bank = np.zeros((before + after + 1, r))
    for k, weight in enumerate(prototype):
        step, phase = divmod(k - left, r)
        bank[step + before, phase] += weight
    return bank


# --- interpolation + convolution, composed --------------------------------------------------

def interpolation_composition(bank, pad, factor, kernel_size):
    """The fixed map from a ``K``-tap output-rate kernel to its input-rate phase kernels.

    With ``u`` the interpolation of ``x`` by the polyphase ``bank`` (``(taps_b, r)``, input
    padded by ``pad = (lb, rb)``: ``u[t*r + i] = sum_n bank[n, i] x[t + n - lb]``) and ``y``
    the "same" convolution of ``u`` with ``w`` (``K`` taps, left padding ``p = (K - 1) // 2``):
    ``y[t*r + i] = sum_d W_i[d] x[t + d - left]``, where
    ``W_i[d] = sum_{k, n : floor((i + k - p) / r) + n - lb = d - left} w[k] bank[n, (i+k-p) % r]``.

    Returns ``(M, (left, right))``: ``M`` has shape ``(K, D, r)`` with ``D = left + right +
    1``, so that ``W[d, c, i, f] = sum_k M[k, d, i] w[k, c, f]``
    (:func:`upsample1d.kernels.compose_interpolation_kernel`). This equals the interpolation
    followed by the convolution of ``x`` zero-padded, wherever the convolution's window lies
    inside the interpolated signal. Within a few input steps of each end it differs when the
    interpolator has its own edge handling (linear: replicated edges) or reaches past the
    ends (sinc), because the direct form pads the *interpolated* signal with zeros:
    :func:`interpolation_edge_corrections` gives the difference. For nearest interpolation
    (one tap, no padding) it is exact everywhere.
    """
    bank = np.asarray(bank, np.float64)
    taps_b, r = bank.shape
    if check.positive_int(factor, "factor") != r:
        raise ValueError(f"`bank` has {r} phases, `factor` is {factor}: they must agree.")
    lb, _ = pad
    p = (kernel_size - 1) // 2
    left, right = interpolation_composition_pad(pad, r, kernel_size)
    composition = np.zeros((kernel_size, left + right + 1, r))
    for k in range(kernel_size):
        for i in range(r):
            step, phase = divmod(i + k - p, r)
            for n in range(taps_b):
                composition[k, step + n - lb + left, i] += bank[n, phase]
    return composition, (left, right)


def interpolation_composition_pad(pad, factor, kernel_size):
    """The ``(left, right)`` input padding of :func:`interpolation_composition`'s phase
    kernels, from the interpolator's ``pad`` alone."""
    lb, rb = pad
    p = (kernel_size - 1) // 2
    return lb - (-p) // factor, (factor - 1 + kernel_size - 1 - p) // factor + rb


def interpolation_edge_corrections(bank, pad, edge, kernel_size):
    """What the fused form gets wrong at the two ends, as fixed maps of the end samples.

    The fused form (:func:`interpolation_composition`) convolves ``u_zero``, the interpolation
    of the input *zero*-padded, and ``u_zero`` goes on past the ends of the signal. The direct
    form convolves ``u``, the interpolation with the interpolator's own ``edge``
    (``"replicate"`` or ``"zeros"``), and zero outside ``[0, T r)``. The two differ only in
    the samples within a few input steps of each end, each difference a fixed combination of
    the first (last) few input samples. So, with ``w`` the ``(K, C_in, F)`` kernel and ``T``
    input steps:

    - ``direct[j] = fused[j] + sum_{e, k} head[j, e, k] x[e] @ w[k]`` for ``j < J_head``;
    - ``direct[T r - J_tail + j] = fused[T r - J_tail + j]
      + sum_{e, k} tail[j, e, k] x[T - E_tail + e] @ w[k]`` for ``j < J_tail``;
    - ``direct == fused`` elsewhere.

    Returns ``(head, tail)``, of shapes ``(J_head, E_head, K)`` and ``(J_tail, E_tail, K)``,
    either None where that end needs no correction (nearest). Valid for
    ``T >= max(E_head, E_tail)`` and ``T r >= J_head + J_tail``.
    """
    bank = np.asarray(bank, np.float64)
    r = bank.shape[1]
    lb, rb = pad
    p = (kernel_size - 1) // 2
    q = kernel_size - 1 - p
    before, after = _interpolation_edge_differences(bank, pad, edge, p, q)
    head = np.zeros((p + lb * r, before.shape[1], kernel_size))
    for j in range(head.shape[0]):
        for k in range(kernel_size):
            if j + k - p < lb * r:
                head[j, :, k] = before[j + k]
    tail = np.zeros((rb * r + q, after.shape[1], kernel_size))
    for j in range(tail.shape[0]):
        for k in range(kernel_size):
            m = j - tail.shape[0] + k - p  # relative to T r
            if m >= -rb * r:
                tail[j, :, k] = after[m + rb * r]
    return _trimmed(head, front=False), _trimmed(tail, front=True)


def _interpolation_edge_differences(bank, pad, edge, p, q):
    """``u - u_zero`` at ``m = -p .. lb*r - 1`` (head) and at ``T r + m`` for
    ``m = -rb*r .. q - 1`` (tail), as combinations of ``x[e]`` (head) and
    ``x[T - width + e]`` (tail)."""
    taps_b, r = bank.shape
    lb, rb = pad
    width = taps_b + lb + rb + 1  # x samples an end can involve, before trimming
    before = np.zeros((p + lb * r, width))
    after = np.zeros((rb * r + q, width))
    for m in range(-p, lb * r):
        t, i = divmod(m, r)
        for n in range(taps_b):
            e = t + n - lb
            if e >= 0:
                before[m + p, e] -= bank[n, i]  # u_zero
            if m >= 0 and (e >= 0 or edge == "replicate"):
                before[m + p, max(e, 0)] += bank[n, i]  # u inside the signal
    for m in range(-rb * r, q):
        t, i = divmod(m, r)
        for n in range(taps_b):
            e = t + n - lb  # x[T + e]
            if e < 0:
                after[m + rb * r, width + e] -= bank[n, i]
            if m < 0 and (e < 0 or edge == "replicate"):
                after[m + rb * r, width + min(e, -1)] += bank[n, i]
    return before, after


def _trimmed(correction, front):
    """A copy of ``correction`` without the all-zero outputs and samples away from its end of
    the signal (``front=True`` trims the front: for the tail, whose end is its last row and
    column), or None if it is all zero."""
    correction = np.where(np.abs(correction) < 1e-15, 0.0, correction)
    rows = np.flatnonzero(np.abs(correction).sum(axis=(1, 2)))
    columns = np.flatnonzero(np.abs(correction).sum(axis=(0, 2)))
    if not rows.size:
        return None
    if front:
        return np.ascontiguousarray(correction[rows.min():, columns.min():])
    return np.ascontiguousarray(correction[: rows.max() + 1, : columns.max() + 1])


# --- any rational ratio (resample_1d) --------------------------------------------------------

# name -> (zero crossings per side, rolloff (cutoff / the lower Nyquist), Kaiser beta)
RESAMPLE_PRESETS = {
    "poly": (10, 1.0, 5.0),  # scipy.signal.resample_poly's default window
    "kaiser_fast": (24, 0.8682120388377784, 9.90322),  # resampy 0.4's kaiser_fast
    "kaiser_best": (50, 0.9173473712608761, 12.9846),  # resampy 0.4's kaiser_best
    # cutoff near the lower Nyquist, stopband from there on: soxr HQ's and VHQ's depths
    "hq": (90, 0.945, 14.2),
    "vhq": (128, 0.945, 20.2),
}


def resample_prototype(up, down, zero_crossings, rolloff, kaiser_beta):
    """The low-pass of resampling by ``up / down``: a Kaiser-windowed sinc at ``up`` times the
    input rate, cutoff ``rolloff / max(up, down)`` of that rate's Nyquist, ``2 N + 1`` taps with
    ``N = zero_crossings * max(up, down)``, DC gain ``up``.

    ``h = firwin(2 N + 1, rolloff / max(up, down), window=("kaiser", kaiser_beta)) * up``;
    with ``(10, 1.0, 5.0)`` (the ``"poly"`` preset) that is ``scipy.signal.resample_poly``'s.
    ``up / down`` must be in lowest terms, as ``resample_poly`` reduces it (320/294 is 160/147,
    whose filter has half the taps and half the gain).

    Example:
    >>> from upsample1d.filters import resample_prototype
    >>> h = resample_prototype(3, 2, 10, 1.0, 5.0)
    >>> h.shape, round(float(h.sum()), 12)
    ((61,), 3.0)
    """
    up = check.positive_int(up, "up")
    down = check.positive_int(down, "down")
    if math.gcd(up, down) > 1:
        raise ValueError(f"`up` and `down` must be in lowest terms, got up={up}, down={down}: "
                         f"pass up={up // math.gcd(up, down)}, down={down // math.gcd(up, down)}.")
    zero_crossings = check.positive_int(zero_crossings, "zero_crossings")
    rolloff = check.rolloff(rolloff)
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    rate = max(up, down)
    half = zero_crossings * rate
    cutoff = rolloff / rate
    m = np.arange(2 * half + 1) - half
    h = cutoff * np.sinc(cutoff * m) * kaiser_window(2 * half + 1, kaiser_beta)
    return h / h.sum() * up


def rational_geometry(prototype_length, centre, up, down):
    """``(left, taps)`` of :func:`rational_bank`: input samples read before a block's first
    one, and the taps each block's window spans."""
    k_min = -((prototype_length - 1 - centre) // up)
    k_max = ((up - 1) * down + centre) // up
    return -k_min, k_max - k_min + 1


def rational_bank(prototype, centre, up, down):
    """Resampling by ``up / down`` as a bank ``(taps, up)`` read with stride ``down``:
    ``y[b up + i] = sum_t bank[t, i] x_e[b down + t - left]`` equals
    ``y[n] = sum_s prototype[n down - s up + centre] x_e[s]`` (upsample by ``up``, filter,
    keep every ``down``-th sample: ``scipy.signal.upfirdn`` aligned as ``resample_poly``), with
    ``(left, taps)`` = :func:`rational_geometry`. Output phase ``i`` of block ``b`` reads the
    window ``b down - left .. b down - left + taps - 1``; taps outside a phase's own reach are
    zero."""
    prototype = np.asarray(prototype, np.float64)
    left, taps = rational_geometry(len(prototype), centre, up, down)
    t = np.arange(taps)[:, None] - left
    index = np.arange(up)[None, :] * down - t * up + centre
    inside = (index >= 0) & (index < len(prototype))
    return np.where(inside, prototype[np.clip(index, 0, len(prototype) - 1)], 0.0)
