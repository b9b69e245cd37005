"""Exact weight conversion between transposed and subpixel convolutions (Shi et al. 2016).

A transposed conv with stride ``r`` and kernel ``K`` (Keras ``Conv1DTranspose`` layout
``(K, C_out, C_in)``, ``padding="same"``, i.e. output ``j`` is full-output sample
``j + (K - r) // 2``) equals a stride-1 conv with ``N`` taps to ``r * C_out`` channels
(``padding="same"``) followed by :func:`depth_to_space_1d`: output ``t*r + i`` is
``sum_k x[t - k] @ W[k*r + i + p]`` with ``p = (K - r) // 2``, so phase ``i`` of the subpixel
kernel holds every ``r``-th tap of ``W``, reversed in time. ``N`` is ``K / r`` for odd
``K / r``, ``K / r + 1`` for even ``K / r`` (the phases straddle one extra input step), and
for a partial overlap (``K`` not a multiple of ``r``) whatever covers the taps, zero taps
padding it to a centred window.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from upsample1d.ops.shuffle import check_factor, check_mode


def _geometry(kernel_size, factor):
    """Taps and padding of the subpixel form of a transposed conv with this kernel/stride."""
    crop = (kernel_size - factor) // 2
    k_max = (kernel_size - 1 - crop) // factor  # most past input step reaching an output
    k_min = -((factor - 1 + crop) // factor)  # most future input step (negative)
    left, right = k_max, -k_min
    # A "same" padded conv of N taps pads ((N-1)//2, N//2): add zero taps until it matches.
    extra_right = max(left - right, 0)
    extra_left = max(right - left - 1, 0)
    front = -(k_min * factor + crop)
    back = (k_max + 1) * factor + crop - kernel_size
    return {
        "taps": left + right + 1,
        "extra_left": extra_left,
        "extra_right": extra_right,
        "front": front,
        "back": back,
    }


def subpixel_kernel_size(kernel_size, factor):
    """Taps of the ``padding="same"`` subpixel conv equal to a transposed conv (kernel, stride)."""
    g = _geometry(kernel_size, factor)
    return g["taps"] + g["extra_left"] + g["extra_right"]


def transposed_to_subpixel_kernel(kernel, factor, mode="DCR"):
    """Re-index a transposed-conv kernel ``(K, C_out, C_in)`` (stride ``factor``) into the
    ``(N, C_in, factor * C_out)`` kernel of the equivalent "same"-padded subpixel conv whose
    output is shuffled with ``mode``. Works on tensors and variables (keras.ops)."""
    r = check_factor(factor, "factor")
    mode = check_mode(mode)
    kernel_size, c_out, c_in = kernel.shape
    g = _geometry(kernel_size, r)
    w = ops.pad(kernel, [[g["front"], g["back"]], [0, 0], [0, 0]])
    w = ops.flip(ops.reshape(w, (g["taps"], r, c_out, c_in)), axis=0)
    w = ops.transpose(w, (0, 3, 1, 2) if mode == "DCR" else (0, 3, 2, 1))
    w = ops.reshape(w, (g["taps"], c_in, r * c_out))
    if g["extra_left"] or g["extra_right"]:
        w = ops.pad(w, [[g["extra_left"], g["extra_right"]], [0, 0], [0, 0]])
    return w


def subpixel_to_transposed_kernel(kernel, factor, mode="DCR"):
    """Inverse of :func:`transposed_to_subpixel_kernel`, on NumPy arrays: a subpixel kernel
    ``(N, C_in, factor * C_out)`` ("same" padding) to a transposed-conv kernel
    ``(K, C_out, C_in)`` with stride ``factor`` and ``K = N * factor`` for odd ``N``; for even
    ``N``, ``K = (N + 1) * factor`` and the last ``factor`` taps are zero."""
    r = check_factor(factor, "factor")
    mode = check_mode(mode)
    kernel = np.asarray(kernel)
    taps, c_in, depth = kernel.shape
    if depth % r:
        raise ValueError(f"the subpixel kernel's last dimension ({depth}) must be a multiple "
                         f"of factor={r}.")
    c_out = depth // r
    if taps % 2 == 0:  # pads (N/2 - 1, N/2) == N + 1 taps padded (N/2, N/2), first tap zero
        kernel = np.concatenate([np.zeros_like(kernel[:1]), kernel])
        taps += 1
    kernel_size = taps * r
    g = _geometry(kernel_size, r)
    assert g["taps"] == taps and g["front"] == g["back"] == 0, g
    w = kernel.reshape((taps, c_in, r, c_out) if mode == "DCR" else (taps, c_in, c_out, r))
    w = w.transpose((0, 2, 3, 1) if mode == "DCR" else (0, 3, 2, 1))
    return np.ascontiguousarray(w[::-1].reshape(kernel_size, c_out, c_in))


def to_subpixel(layer):
    """A built :class:`SubpixelConv1D` computing exactly what the built
    :class:`TransposedConvUpsample1D` ``layer`` computes (weights converted)."""
    from upsample1d.layers.upsamplers import SubpixelConv1D

    kernel = ops.convert_to_numpy(
        transposed_to_subpixel_kernel(layer.kernel, layer.factor, "DCR"))
    new = SubpixelConv1D(layer.filters, layer.factor, kernel_size=kernel.shape[0], mode="DCR",
                         data_format=layer.data_format, use_bias=layer.use_bias,
                         dtype=layer.dtype_policy)
    new.build(_input_shape(kernel.shape[1], layer.data_format))
    weights = [kernel]
    if layer.use_bias:
        weights.append(np.tile(ops.convert_to_numpy(layer.bias), layer.factor))
    new.set_weights(weights)
    return new


def to_transposed(layer, implementation="polyphase"):
    """A built :class:`TransposedConvUpsample1D` computing exactly what the built
    :class:`SubpixelConv1D` ``layer`` computes. Raises ValueError if the subpixel layer has a
    bias that differs between phases (a transposed conv has one bias per output channel)."""
    from upsample1d.layers.upsamplers import TransposedConvUpsample1D

    kernel = subpixel_to_transposed_kernel(ops.convert_to_numpy(layer.kernel), layer.factor,
                                           layer.mode)
    new = TransposedConvUpsample1D(layer.filters, layer.factor, kernel_size=kernel.shape[0],
                                   implementation=implementation,
                                   data_format=layer.data_format, use_bias=layer.use_bias,
                                   dtype=layer.dtype_policy)
    new.build(_input_shape(kernel.shape[2], layer.data_format))
    weights = [kernel]
    if layer.use_bias:
        bias = ops.convert_to_numpy(layer.bias)
        phases = bias.reshape((layer.factor, -1) if layer.mode == "DCR" else (-1, layer.factor))
        phases = phases if layer.mode == "DCR" else phases.T
        if not np.all(phases == phases[:1]):
            raise ValueError("this SubpixelConv1D has a bias that differs between phases; a "
                             "transposed conv has one bias per channel and cannot match it.")
        weights.append(phases[0])
    new.set_weights(weights)
    return new


def _input_shape(channels, data_format):
    return (None, None, channels) if data_format == "channels_last" else (None, channels, None)
