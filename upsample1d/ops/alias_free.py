"""Alias-free resampling: the filters of alias-free-torch (BigVGAN), exact, on every backend.

alias-free-torch 0.0.6 (``UpSample1d`` / ``DownSample1d`` / ``Activation1d``, used by BigVGAN,
Lee et al. 2023) upsamples with a grouped ``conv_transpose1d`` of a Kaiser-windowed sinc and
low-passes with a strided grouped ``conv1d``, both on replicate-padded inputs. Here the same
numbers come out of the polyphase engine (:mod:`upsample1d.ops._polyphase`), with no
zero-stuffed signal and no discarded outputs:

- up: the ``K``-tap filter as ``r`` phases at the input rate, then the shuffle
  (:func:`~upsample1d.ops._polyphase.up`, ``edge="replicate"``);
- down: the input folded into ``r`` phases, one convolution at the output rate
  (:func:`~upsample1d.ops._polyphase.down`, ``edge="replicate"``);
- up, activation, down by one ratio: the activation on the upsampler's phases
  (:func:`~upsample1d.ops._polyphase.up_map_down`).

Two filter designs (``filter=``, :mod:`upsample1d.filters`): ``"alias_free_torch"``
(default), alias-free-torch's :func:`~upsample1d.filters.kaiser_sinc_filter` with cutoff
``0.5 / r`` and half-width ``0.6 / r`` (drop-in parity with BigVGAN checkpoints);
``"sinc_bank"``, this package's :func:`~upsample1d.ops.sinc_bank` design (Kaiser beta 5,
cutoff at the input Nyquist, ``2 * ceil(K / (2 r)) * r + 1`` taps).
"""

from __future__ import annotations

import upsample1d.ops._polyphase as engine
from upsample1d import _validation as check
from upsample1d import filters
from upsample1d.filters import default_kernel_size, kaiser_sinc_filter

FILTERS = filters.ALIAS_FREE_FILTERS

__all__ = ["FILTERS", "default_kernel_size", "downsample_alias_free_1d", "kaiser_sinc_filter",
           "upsample_alias_free_1d"]


# --- primitives (canonical arguments, no validation) ----------------------------------------

def _upsample(x, r, kernel_size, filter_name, data_format):
    """alias-free-torch's ``UpSample1d(r, K)`` on ``x``: ``T`` samples in, ``T * r`` out."""
    bank = engine.design(filters.alias_free_up, r, kernel_size, filter_name)
    (left, right), (rep_left, rep_right) = filters.alias_free_up_geometry(r, kernel_size,
                                                                          filter_name)
    if (rep_left, rep_right) == (left, right):
        return engine.up(x, bank, (left, right), "replicate", data_format)
    # a short filter reads past the reference's replicate padding, where it has zeros
    axis = check.time_axis(data_format)
    if x.shape[axis] == 0:
        return x
    x = engine.pad(x, rep_left, rep_right, data_format, "replicate")
    y = engine.up(x, bank, (left - rep_left, right - rep_right), "zeros", data_format)
    keep = slice(rep_left * r, -rep_right * r if rep_right else None)
    return y[:, keep] if axis == 1 else y[:, :, keep]


def _downsample(x, r, kernel_size, filter_name, data_format):
    """alias-free-torch's ``DownSample1d(r, K)`` on ``x``: ``T`` in, ``ceil(T / r)`` out."""
    prototype = engine.design(filters.alias_free_down, r, kernel_size, filter_name)
    left = filters.alias_free_down_left(r, kernel_size, filter_name)
    return engine.down(x, prototype, left, r, "replicate", data_format)


def _phase_decimator(r, kernel_size, filter_name):
    prototype = filters.alias_free_down(r, kernel_size, filter_name)
    return filters.phase_decimator(prototype, filters.alias_free_down_left(r, kernel_size,
                                                                           filter_name), r)


def phases_apply(time, r_up, r_down, up_kernel_size, filter_name):
    """Whether :func:`_activate` runs the activation at the upsampler's phases
    (:func:`upsample1d.ops._polyphase.up_map_down`): equal ratios, a static length ``time``
    of at least the upsampler's taps, and an upsampler whose padding is all edge copies."""
    if r_up != r_down or time is None:
        return False
    (left, right), replicate = filters.alias_free_up_geometry(r_up, up_kernel_size, filter_name)
    return replicate == (left, right) and time >= left + right + 1


def _activate(x, r_up, r_down, up_kernel_size, down_kernel_size, filter_name, fn, at_phases=True):
    """``downsample(fn(upsample(x)))`` on channels_first ``x`` (alias-free-torch's
    ``Activation1d``), ``fn`` taking a channels_first tensor. With ``at_phases`` (``fn`` acts
    on each sample of each channel alone) ``fn`` runs on the upsampler's phases where
    :func:`phases_apply`; else on the interleaved high-rate signal."""
    if not (at_phases and phases_apply(x.shape[2], r_up, r_down, up_kernel_size, filter_name)):
        v = fn(_upsample(x, r_up, up_kernel_size, filter_name, "channels_first"))
        return _downsample(v, r_down, down_kernel_size, filter_name, "channels_first")
    r = r_up
    bank = engine.design(filters.alias_free_up, r, up_kernel_size, filter_name)
    pad, _ = filters.alias_free_up_geometry(r, up_kernel_size, filter_name)
    phase_bank = engine.design(_phase_decimator, r, down_kernel_size, filter_name)
    prototype = engine.array(engine.design(filters.alias_free_down, r, down_kernel_size,
                                           filter_name))
    steps = filters.phase_decimator_geometry(
        len(prototype), filters.alias_free_down_left(r, down_kernel_size, filter_name), r)
    return engine.up_map_down(x, bank, pad, phase_bank, steps, fn)


# --- public ops -----------------------------------------------------------------------------

def _public(x, factor, kernel_size, data_format, filter, name, up):
    x, r, data_format = engine.prepare(x, factor, data_format, name)
    filter_name = check.choice(filter, "filter", FILTERS)
    kernel_size = default_kernel_size(r) if kernel_size is None else kernel_size
    kernel_size = check.alias_free_kernel_size(kernel_size, r, "kernel_size", filter_name, up)
    primitive = _upsample if up else _downsample
    return engine.run(x, primitive, r if up else 1, 1 if up else r, data_format, r,
                      kernel_size, filter_name, data_format)


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

    A NaN or infinite input sample reaches ``r`` times the bank's taps of outputs (14 for the
    default ``r = 2, K = 12``), where alias-free-torch's reaches ``K`` (12): one convolution
    runs every phase over the union of the phases' windows, whose corner taps are zero
    (:func:`upsample1d.filters.alias_free_up`). Finite inputs give the same numbers.

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
