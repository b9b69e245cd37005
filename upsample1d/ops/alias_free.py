"""Alias-free resampling: the filters of alias-free-torch (BigVGAN), exact, on every backend.

alias-free-torch 0.0.6 (``UpSample1d`` / ``DownSample1d`` / ``Activation1d``, used by BigVGAN,
Lee et al. 2023) upsamples with a grouped ``conv_transpose1d`` of a Kaiser-windowed sinc and
low-passes with a strided grouped ``conv1d``, both on replicate-padded inputs. Here the same
numbers come out of the package's two polyphase primitives, with no zero-stuffed signal and no
discarded outputs:

- up: the ``K``-tap filter as ``r`` phases at the input rate, then the shuffle
  (:func:`upsample1d.ops.interpolate._polyphase`, ``edge="replicate"``);
- down: the input folded into ``r`` phases, one convolution at the output rate
  (:func:`upsample1d.ops.downsample._polyphase_downsample`, ``edge="replicate"``).

Two filter designs (``filter=``): ``"alias_free_torch"`` (default), alias-free-torch's
:func:`kaiser_sinc_filter` with cutoff ``0.5 / r`` and half-width ``0.6 / r`` (drop-in parity
with BigVGAN checkpoints); ``"sinc_bank"``, this package's :func:`~upsample1d.ops.sinc_bank`
design (Kaiser beta 5, cutoff at the input Nyquist, ``2 * ceil(K / (2 r)) * r + 1`` taps).
"""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.ops.downsample import _polyphase_downsample
from upsample1d.ops.interpolate import (
    _polyphase,
    _prepare,
    pad_time,
    sinc_bank,
    sinc_prototype,
)

FILTERS = ("alias_free_torch", "sinc_bank")


_DESIGNS = {}


def _cached(make):
    """``make(*args)`` computed once per arguments (a dict, which compilers trace through)."""

    @functools.wraps(make)
    def cached(*args):
        key = (make.__name__, *args)
        value = _DESIGNS.get(key)
        if value is None:
            value = _DESIGNS[key] = make(*args)
        return value

    return cached


def kaiser_sinc_filter(cutoff, half_width, kernel_size):
    """alias-free-torch's ``kaiser_sinc_filter1d``: a Kaiser-windowed sinc low-pass, sum 1.

    ``h[n] = 2 fc w[n] sinc(2 fc t_n)``, normalised to ``sum(h) == 1``, with ``fc = cutoff``
    (cycles per sample), ``t_n = n - K // 2 (+ 0.5 for even K)``, ``w`` the symmetric Kaiser
    window of ``K`` points whose beta follows Kaiser's formula for the attenuation
    ``A = 2.285 (K // 2 - 1) pi (4 half_width) + 7.95`` dB. Returns ``(K,)`` float64 NumPy
    (the reference builds it in float32).

    Example:
    >>> from upsample1d.ops import kaiser_sinc_filter
    >>> h = kaiser_sinc_filter(0.25, 0.3, 12)
    >>> h.shape, round(float(h.sum()), 12), bool(abs(h - h[::-1]).max() < 1e-15)
    ((12,), 1.0, True)
    """
    cutoff = check.non_negative_number(cutoff, "cutoff")
    if cutoff > 0.5:
        raise ValueError(f"`cutoff` must be in [0, 0.5] (cycles per sample), got "
                         f"cutoff={cutoff!r}.")
    half_width = check.non_negative_number(half_width, "half_width")
    kernel_size = check.positive_int(kernel_size, "kernel_size")
    return _kaiser_sinc(cutoff, half_width, kernel_size).copy()


@_cached
def _kaiser_sinc(cutoff, half_width, kernel_size):
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
        h = np.zeros(kernel_size)
    else:
        h = 2 * cutoff * np.kaiser(kernel_size, beta) * np.sinc(2 * cutoff * time)
        h /= h.sum()
    h.flags.writeable = False
    return h


def default_kernel_size(factor):
    """alias-free-torch's default filter length for a ratio: ``int(6 * r // 2) * 2``."""
    return int(6 * factor // 2) * 2


# --- designs --------------------------------------------------------------------------------

@_cached
def _up_design(r, kernel_size, design):
    """``(bank, pad, replicate)``: the ``(taps, r)`` bank of :func:`_polyphase`, its padding
    ``(left, right)`` and how many of those samples are edge copies (the rest are zeros).

    alias-free-torch: ``y[t*r + i] = r * sum_s x_p[s] h[(t - s) r + i + a]``, ``a = (K - r)
    // 2``, with ``x_p`` the input replicate-padded by ``p = K // r - 1`` and zeros beyond:
    ``bank[n, i] = r h[(left - n) r + i + a]`` for ``left = (K - 1 - a) // r``,
    ``right = (r - 1 + a) // r``. For ``K >= 3 r`` (and most shorter filters) the bank reads
    no further than ``p`` samples beyond the ends, so the padding is replicate only.
    """
    if design == "sinc_bank":
        half_width = -(-kernel_size // (2 * r))
        bank, pad = sinc_bank(r, half_width)
        return bank, pad, pad
    h = _kaiser_sinc(0.5 / r, 0.6 / r, kernel_size)
    a = (kernel_size - r) // 2
    left, right = (kernel_size - 1 - a) // r, (r - 1 + a) // r
    bank = np.zeros((left + right + 1, r))
    for n in range(left + right + 1):
        for i in range(r):
            index = (left - n) * r + i + a
            if 0 <= index < kernel_size:
                bank[n, i] = r * h[index]
    p = kernel_size // r - 1
    bank.flags.writeable = False
    return bank, (left, right), (min(left, p), min(right, p))


@_cached
def _down_design(r, kernel_size, design):
    """``(prototype, left)`` of :func:`_polyphase_downsample`: ``y[t] = sum_k h[k]
    x_e[t r + k - left]`` (edge-replicated ``x_e``).

    alias-free-torch: ``h`` = :func:`kaiser_sinc_filter` ``(0.5 / r, 0.6 / r, K)``,
    ``left = K // 2 - (1 if K is even else 0)`` (its ``LowPassFilter1d``: replicate padding
    ``(left, K // 2)``, then a stride-``r`` conv; no read goes past that padding).
    ``"sinc_bank"``: :func:`~upsample1d.ops.sinc_prototype` (the design of
    :func:`~upsample1d.ops.sinc_bank`, unit DC gain), centred (``left = L``, ``2 L + 1`` taps).
    """
    if design == "sinc_bank":
        half_width = -(-kernel_size // (2 * r))
        return sinc_prototype(r, half_width), half_width * r
    h = _kaiser_sinc(0.5 / r, 0.6 / r, kernel_size)
    return h, kernel_size // 2 - (1 if kernel_size % 2 == 0 else 0)


def check_kernel_size(kernel_size, factor, name, design, up):
    """``kernel_size`` as an int, or an error naming ``name``: alias-free-torch's upsampler
    needs ``K > r`` (with ``K <= r`` its final crop is empty or negative)."""
    kernel_size = check.positive_int(kernel_size, name)
    if up and design == "alias_free_torch" and kernel_size <= factor:
        raise ValueError(f"`{name}` must be larger than the ratio ({factor}) for the "
                         f"alias_free_torch filter (alias-free-torch's UpSample1d returns no "
                         f"samples otherwise), got {name}={kernel_size}.")
    return kernel_size


# --- primitives (canonical arguments, no validation) ----------------------------------------

def _upsample(x, r, kernel_size, design, data_format):
    """alias-free-torch's ``UpSample1d(r, K)`` on ``x``: ``T`` samples in, ``T * r`` out."""
    bank, (left, right), (rep_left, rep_right) = _up_design(r, kernel_size, design)
    key = ("alias_free_up", design, r, kernel_size)
    if (rep_left, rep_right) == (left, right):
        return _polyphase(x, bank, (left, right), data_format, "replicate", key)
    # a short filter reads past the reference's replicate padding, where it has zeros
    axis = check.time_axis(data_format)
    if x.shape[axis] == 0:
        return x
    x = pad_time(x, rep_left, rep_right, data_format, "replicate")
    y = _polyphase(x, bank, (left - rep_left, right - rep_right), data_format, "zeros", key)
    keep = slice(rep_left * r, -rep_right * r if rep_right else None)
    return y[:, keep] if axis == 1 else y[:, :, keep]


def _downsample(x, r, kernel_size, design, data_format):
    """alias-free-torch's ``DownSample1d(r, K)`` on ``x``: ``T`` in, ``ceil(T / r)`` out."""
    prototype, left = _down_design(r, kernel_size, design)
    key = ("alias_free_down", design, r, kernel_size)
    return _polyphase_downsample(x, prototype, left, r, data_format, "replicate", key)


@_cached
def _phase_down_design(r, kernel_size, design):
    """The decimator of :func:`_down_design` read from the ``r`` phases of the signal
    (``A[i, tau] = v[tau r + i]``) instead of the signal itself:
    ``y[t] = sum_{i, n} W[n, i] A_e[i, t + n - before]``, ``W`` of shape ``(taps, r)``, where
    ``A_e`` is ``A`` extended by ``before`` / ``after`` steps that hold ``v``'s first / last
    sample in every phase (what the reference's replicate padding of ``v`` puts there).
    Returns ``(W, before, after)``."""
    prototype, left = _down_design(r, kernel_size, design)
    steps = [divmod(k - left, r) for k in range(len(prototype))]
    before = max(-min(s for s, _ in steps), 0)
    after = max(max(s for s, _ in steps), 0)
    bank = np.zeros((before + after + 1, r))
    for (step, phase), weight in zip(steps, prototype, strict=True):
        bank[step + before, phase] += weight
    bank.flags.writeable = False
    return bank, before, after


def fused_applies(x, r_up, r_down, up_kernel_size, design, data_format):
    """Whether :func:`_activate_at_phases` computes ``x``'s case: equal ratios, a static
    length of at least the upsampler's taps, and an upsampler whose padding is all edge
    copies."""
    if r_up != r_down:
        return False
    time = x.shape[check.time_axis(data_format)]
    bank, pad, replicate = _up_design(r_up, up_kernel_size, design)
    return time is not None and pad == replicate and time >= len(bank)


def _activate_at_phases(x, r, up_kernel_size, down_kernel_size, design, activate):
    """``downsample(activate(upsample(x)))`` for channels_first ``x`` and ``up = down = r``,
    never interleaving the high-rate signal ``v``: ``activate`` (pointwise, per channel, on
    a channels_first ``(B, C, N)`` tensor) runs on the upsampler's ``r`` phases, and the
    decimator reads the phases as they are (:func:`_phase_down_design`), extended at each
    end by the activated first / last sample of ``v``, which comes from the first / last
    few input samples. Saves the shuffle and the padded copy of ``v``, forward and backward;
    the same numbers to float rounding."""
    bank, (left, right), _ = _up_design(r, up_kernel_size, design)
    down, before, after = _phase_down_design(r, down_kernel_size, design)
    taps = len(bank)
    batch, channels = ops.shape(x)[:2]
    time = x.shape[2]  # static, >= taps (fused_applies)
    key = ("alias_free_phases", design, r, up_kernel_size, down_kernel_size)
    # The edges, read once: they make the replicate padding and v's first and last sample.
    head, tail = x[:, :, :taps], x[:, :, time - taps:]
    head = ops.concatenate([ops.repeat(head[:, :, :1], left, axis=2), head], axis=2)
    tail = ops.concatenate([tail, ops.repeat(tail[:, :, -1:], right, axis=2)], axis=2)
    x = ops.concatenate([head[:, :, :left], x, tail[:, :, taps:]], axis=2)
    ends = _backend.constant(np.stack([bank[:, 0], bank[:, r - 1]], axis=1), x.dtype,
                             like=x, key=(*key, "ends"))
    first = activate(ops.matmul(head[:, :, :taps], ends[:, :1]))  # (B, C, 1)
    last = activate(ops.matmul(tail[:, :, -taps:], ends[:, 1:]))
    if _backend.DEPTHWISE_BANKS:  # phases (B, C, r, T) from one depthwise conv
        up = _backend.constant(np.broadcast_to(bank[:, None, :], (taps, channels, r)),
                               x.dtype, like=x, key=(*key, "up", channels))
        phases = ops.depthwise_conv(x, up, padding="valid", data_format="channels_first")
        phases = ops.reshape(activate(ops.reshape(phases, (batch, channels, r * time))),
                             (batch, channels, r, time))
        edges = [ops.broadcast_to(ops.expand_dims(end, 2), (batch, channels, r, steps))
                 for end, steps in ((first, before), (last, after))]
        phases = ops.concatenate([edges[0], phases, edges[1]], axis=3)
        kernel = _backend.constant(
            np.broadcast_to(down.T[:, :, None, None], (r, len(down), channels, 1)),
            x.dtype, like=x, key=(*key, "down", channels))
        y = ops.depthwise_conv(phases, kernel, padding="valid", data_format="channels_first")
        return ops.reshape(y, (batch, channels, time))
    # phases (B*C, T, r): channels folded into the batch, one single-channel conv
    x = ops.reshape(x, (batch * channels, time + taps - 1, 1))
    up = _backend.constant(bank[:, None, :], x.dtype, like=x, key=(*key, "up"))
    phases = ops.conv(x, up, padding="valid")
    phases = ops.reshape(activate(ops.reshape(phases, (batch, channels, time * r))),
                         (batch * channels, time, r))
    edges = [ops.broadcast_to(ops.reshape(end, (batch * channels, 1, 1)),
                              (batch * channels, steps, r))
             for end, steps in ((first, before), (last, after))]
    phases = ops.concatenate([edges[0], phases, edges[1]], axis=1)
    kernel = _backend.constant(down[:, :, None], x.dtype, like=x, key=(*key, "down"))
    return ops.reshape(ops.conv(phases, kernel, padding="valid"), (batch, channels, time))


# --- public ops -----------------------------------------------------------------------------

class _AliasFreeOp(keras.Operation):
    """Symbolic form of the two ops (gives KerasTensors their shape)."""

    def __init__(self, primitive, factor, kernel_size, design, data_format, up, name=None):
        super().__init__(name=name)
        self.args = (primitive, factor, kernel_size, design, data_format)
        self.up = up

    def call(self, x):
        primitive, *args = self.args
        return primitive(x, *args)

    def compute_output_spec(self, x):
        _, r, _, _, data_format = self.args
        shape = list(x.shape)
        axis = check.time_axis(data_format)
        if shape[axis] is not None:
            shape[axis] = shape[axis] * r if self.up else -(-shape[axis] // r)
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)


def _public(x, factor, kernel_size, data_format, filter, name, up):
    x, r, data_format = _prepare(x, factor, data_format, name, True)
    design = check.choice(filter, "filter", FILTERS)
    kernel_size = default_kernel_size(r) if kernel_size is None else kernel_size
    kernel_size = check_kernel_size(kernel_size, r, "kernel_size", design, up)
    primitive = _upsample if up else _downsample
    if isinstance(x, keras.KerasTensor):
        return _AliasFreeOp(primitive, r, kernel_size, design, data_format, up).symbolic_call(x)
    with _backend.device_scope(x):
        return primitive(x, r, kernel_size, design, data_format)


def upsample_alias_free_1d(x, factor, kernel_size=None, data_format="channels_last",
                           filter="alias_free_torch"):
    """alias-free-torch's ``UpSample1d(factor, kernel_size)``: a windowed-sinc interpolator
    with replicated edges, exact, run as ``factor`` phases at the input rate.

    With ``h`` = :func:`kaiser_sinc_filter` ``(0.5 / r, 0.6 / r, K)`` (default
    ``K = 6 r``, as alias-free-torch), ``a = (K - r) // 2`` and ``x_p`` the input extended by
    ``p = K // r - 1`` copies of each edge sample (zeros beyond, never read for ``K >= 3 r``):
    ``out[b, t*r + i, c] = r * sum_s h[(t - s) * r + i + a] * x_p[b, s, c]``.
    ``filter="sinc_bank"`` uses :func:`~upsample1d.ops.sinc_bank` ``(r, ceil(K / (2 r)))``
    instead, edges replicated. Shapes: channels_last ``(B, T, C) -> (B, T*r, C)``;
    channels_first ``(B, C, T) -> (B, C, T*r)``. Floating-point inputs only; ``K > r``.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_alias_free_1d
    >>> y = convert_to_numpy(upsample_alias_free_1d([[[1.0]] * 8], 2))
    >>> y.shape, bool(abs(y - 1).max() < 1e-6)        # a constant stays constant
    ((1, 16, 1), True)
    """
    return _public(x, factor, kernel_size, data_format, filter, "upsample_alias_free_1d", True)


def downsample_alias_free_1d(x, factor, kernel_size=None, data_format="channels_last",
                             filter="alias_free_torch"):
    """alias-free-torch's ``DownSample1d(factor, kernel_size)``: low-pass at the output
    Nyquist and keep every ``factor``-th sample, exact, run at the output rate.

    With ``h`` = :func:`kaiser_sinc_filter` ``(0.5 / r, 0.6 / r, K)`` (default ``K = 6 r``),
    ``left = K // 2 - 1`` for even ``K`` (``K // 2`` for odd) and ``x_e`` the input with its
    edge samples repeated: ``out[b, t, c] = sum_k h[k] * x_e[b, t*r + k - left, c]``, for
    ``t < ceil(T / r)``. ``filter="sinc_bank"`` uses :func:`~upsample1d.ops.sinc_prototype`
    ``(r, ceil(K / (2 r)))`` (unit DC gain), centred.
    Shapes: channels_last ``(B, T, C) -> (B, ceil(T/r), C)``; channels_first
    ``(B, C, T) -> (B, C, ceil(T/r))``. Floating-point inputs only.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import downsample_alias_free_1d
    >>> y = convert_to_numpy(downsample_alias_free_1d([[[1.0]] * 9], 2))
    >>> y.shape, bool(abs(y - 1).max() < 1e-6)
    ((1, 5, 1), True)
    """
    return _public(x, factor, kernel_size, data_format, filter, "downsample_alias_free_1d",
                   False)
