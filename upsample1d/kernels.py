"""Kernel arithmetic: the polyphase (input-rate) form of every learned upsampler.

Every upsampler here is a filter bank at the input rate followed by the shuffle. This module
turns the kernels of the other forms into that one, exactly, and back:

- a transposed convolution with stride ``factor`` (Keras ``Conv1DTranspose`` layout
  ``(K, C_out, C_in)``, ``padding="same"``) is a "same"-padded stride-1 convolution to
  ``factor * C_out`` channels followed by :func:`~upsample1d.ops.depth_to_space_1d`
  (Shi et al. 2016): :func:`transposed_to_subpixel_kernel` and its inverse
  :func:`subpixel_to_transposed_kernel`;
- interpolation by ``factor`` followed by a ``K``-tap convolution at the output rate is a
  convolution at the input rate whose phase ``i`` holds ``w`` folded through the
  interpolator's bank: :func:`compose_interpolation_kernel` applies the fixed map
  :func:`upsample1d.filters.interpolation_composition` (NumPy filter design, with its edge
  corrections, lives in :mod:`upsample1d.filters`).

Functions take and return tensors (``keras.ops``) unless they say NumPy. Nothing here knows
a layer; the layers use these functions.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check

# --- transposed <-> subpixel ---------------------------------------------------------------

def transposed_geometry(kernel_size, factor):
    """Taps and paddings of the subpixel form of a transposed conv with this kernel and stride.

    A transposed conv (``padding="same"``: output ``j`` is full-output sample
    ``j + p`` with ``p = max(K - r, 0) // 2``, Keras' and TensorFlow's rule) equals a
    "same"-padded stride-1 conv of ``taps + extra_left + extra_right`` taps whose output
    ``t*r + i`` is ``sum_k x[t - k] @ W[k*r + i + p]``: phase ``i`` holds every ``r``-th tap
    of ``W``, reversed in time. The kernel is zero-padded by ``front`` / ``back`` taps so that
    it reshapes into ``(taps, r, ...)``, and the re-indexed kernel by ``extra_left`` /
    ``extra_right`` zero taps so that "same" padding centres it. ``taps`` is ``K / r`` for odd
    ``K / r``, ``K / r + 1`` for even ``K / r``; a partial overlap (``K`` not a multiple of
    ``r``) gets whatever covers its taps. Returns a dict of those five ints.
    """
    # a kernel shorter than the stride is not cropped: its full output is shorter than
    # T * r, and "same" pads it at the end
    crop = max(kernel_size - factor, 0) // 2
    k_max = (kernel_size - 1 - crop) // factor  # most past input step reaching an output
    k_min = -((factor - 1 + crop) // factor)  # most future input step (negative)
    left, right = k_max, -k_min
    # A "same" padded conv of N taps pads ((N-1)//2, N//2): add zero taps until it matches.
    return {
        "taps": left + right + 1,
        "extra_left": max(right - left - 1, 0),
        "extra_right": max(left - right, 0),
        "front": -(k_min * factor + crop),
        "back": (k_max + 1) * factor + crop - kernel_size,
    }


def subpixel_kernel_size(kernel_size, factor):
    """Taps of the "same"-padded subpixel conv equal to a transposed conv (kernel, stride)."""
    g = transposed_geometry(check.positive_int(kernel_size, "kernel_size"),
                            check.positive_int(factor, "factor"))
    return g["taps"] + g["extra_left"] + g["extra_right"]


def _transposed_to_subpixel(kernel, factor, mode, geometry):
    kernel_size, c_out, c_in = kernel.shape
    g = geometry
    w = _backend.pad(kernel, [[g["front"], g["back"]], [0, 0], [0, 0]])
    w = ops.flip(ops.reshape(w, (g["taps"], factor, c_out, c_in)), axis=0)
    w = ops.transpose(w, (0, 3, 1, 2) if mode == "DCR" else (0, 3, 2, 1))
    w = ops.reshape(w, (g["taps"], c_in, factor * c_out))
    if g["extra_left"] or g["extra_right"]:
        w = _backend.pad(w, [[g["extra_left"], g["extra_right"]], [0, 0], [0, 0]])
    return w


def transposed_to_subpixel_kernel(kernel, factor, mode="DCR"):
    """Re-index a transposed-conv kernel ``(K, C_out, C_in)`` (stride ``factor``) into the
    ``(N, C_in, factor * C_out)`` kernel of the equivalent "same"-padded subpixel conv whose
    output is shuffled with ``mode``; ``N`` is :func:`subpixel_kernel_size`. Tensors in and
    out (variables too), so gradients flow through it.

    Example:
    >>> import numpy as np
    >>> from upsample1d.kernels import transposed_to_subpixel_kernel
    >>> tuple(transposed_to_subpixel_kernel(np.ones((8, 2, 3), "float32"), 4).shape)
    (3, 3, 8)
    """
    factor = check.positive_int(factor, "factor")
    mode = check.mode(mode)
    if len(kernel.shape) != 3:
        raise ValueError(f"`kernel` must have shape (K, C_out, C_in), got {tuple(kernel.shape)}.")
    return _transposed_to_subpixel(kernel, factor, mode,
                                   transposed_geometry(int(kernel.shape[0]), factor))


def subpixel_to_transposed_kernel(kernel, factor, mode="DCR"):
    """Inverse of :func:`transposed_to_subpixel_kernel`, on NumPy arrays: a subpixel kernel
    ``(N, C_in, factor * C_out)`` ("same" padding) to a transposed-conv kernel
    ``(K, C_out, C_in)`` with stride ``factor`` and ``K = N * factor`` for odd ``N``; for even
    ``N``, ``K = (N + 1) * factor`` and the last ``factor`` taps are zero."""
    r = check.positive_int(factor, "factor")
    mode = check.mode(mode)
    kernel = np.asarray(kernel)
    if kernel.ndim != 3:
        raise ValueError(f"`kernel` must have shape (N, C_in, factor * C_out), got "
                         f"{kernel.shape}.")
    taps, c_in, depth = kernel.shape
    if depth % r:
        raise ValueError(f"the subpixel kernel's last dimension ({depth}) must be a multiple "
                         f"of factor={r}.")
    c_out = depth // r
    if taps % 2 == 0:  # pads (N/2 - 1, N/2) == N + 1 taps padded (N/2, N/2), first tap zero
        kernel = np.concatenate([np.zeros_like(kernel[:1]), kernel])
        taps += 1
    kernel_size = taps * r
    w = kernel.reshape((taps, c_in, r, c_out) if mode == "DCR" else (taps, c_in, c_out, r))
    w = w.transpose((0, 2, 3, 1) if mode == "DCR" else (0, 3, 2, 1))
    return np.ascontiguousarray(w[::-1].reshape(kernel_size, c_out, c_in))


# --- interpolation + conv -------------------------------------------------------------------

def compose_interpolation_kernel(kernel, composition):
    """``(K, C_in, F)`` output-rate kernel -> ``(D, C_in, r * F)`` input-rate kernel (phase
    ``i`` of channel ``f`` at ``i * F + f``, the DCR order), through the
    ``(K, D, r)`` ``composition`` of :func:`upsample1d.filters.interpolation_composition`.
    Tensors in and out."""
    taps, depth, r = composition.shape
    _, c_in, filters = kernel.shape
    composition = ops.convert_to_tensor(composition, dtype=kernel.dtype) \
        if not ops.is_tensor(composition) else composition
    w = ops.einsum("kdi,kcf->dcif", composition, kernel)
    return ops.reshape(w, (depth, c_in, r * filters))


# --- the polyphase view ---------------------------------------------------------------------

def centred_phase_kernels(kernel, factor, mode, left):
    """NumPy ``(factor, N, C_in, F)`` phase kernels from an input-rate kernel ``(D, C_in,
    factor * F)`` whose output ``t`` reads ``x[t + d - left]``, zero-padded so that phase
    ``i``'s output ``t`` reads ``x[t + n - (N - 1) // 2]`` ("same" padding)."""
    kernel = np.asarray(kernel, np.float64)
    depth, c_in, channels = kernel.shape
    right = depth - 1 - left
    size = max(2 * left + 1, 2 * right)
    front, back = (size - 1) // 2 - left, size // 2 - right
    kernel = np.pad(kernel, [(front, back), (0, 0), (0, 0)])
    filters = channels // factor
    if mode == "DCR":
        phases = kernel.reshape(size, c_in, factor, filters)
    else:
        phases = kernel.reshape(size, c_in, filters, factor).transpose(0, 1, 3, 2)
    return np.ascontiguousarray(phases.transpose(2, 0, 1, 3))


# --- strided <-> space_to_depth (downsampling) ----------------------------------------------

def strided_padding(kernel_size, factor):
    """Left zero padding of a strided conv in :class:`~upsample1d.layers.StridedConv1D`'s
    alignment: ``max(K - r, 0) // 2``, output ``t`` reading ``x[t*r - p .. t*r - p + K - 1]``.

    That is Keras' ``padding="same"`` (TensorFlow's rule, left = total // 2) whenever ``r``
    divides the length; Keras' own left padding moves with ``T mod r`` otherwise, this one
    does not.
    """
    r = check.positive_int(factor, "factor")
    return max(check.positive_int(kernel_size, "kernel_size") - r, 0) // 2


def _strided_blocks(kernel_size, r):
    """Blocks of ``r`` input samples before (``left``) and after (``right``) block ``t`` that
    a strided kernel reaches, and the taps of the "same"-padded conv at the output rate that
    covers them (zero taps added so that its padding ``((N-1)//2, N//2)`` lines up)."""
    p = strided_padding(kernel_size, r)
    left, right = -((-p) // r), (kernel_size - 1 - p) // r
    taps = left + right + 1 + max(right - left - 1, 0) + max(left - right, 0)
    return p, taps


def space_to_depth_kernel_size(kernel_size, factor):
    """Taps ``N`` (at the output rate) of the space_to_depth conv equal to a strided conv with
    this kernel size and stride ``factor`` (see :func:`strided_to_space_to_depth_kernel`).

    Example:
    >>> from upsample1d.kernels import space_to_depth_kernel_size
    >>> [space_to_depth_kernel_size(k, 4) for k in (1, 4, 6, 8, 12)]
    [1, 1, 3, 3, 3]
    """
    r = check.positive_int(factor, "factor")
    return _strided_blocks(check.positive_int(kernel_size, "kernel_size"), r)[1]


def _phase_layout(w, mode):
    """``(N, r, C, F)`` -> ``(N, r*C, F)`` with input channel ``i*C + c`` (DCR) or
    ``c*r + i`` (CRD), the order of :func:`~upsample1d.ops.space_to_depth_1d`."""
    taps, r, c_in, filters = w.shape
    if mode == "CRD":
        w = w.transpose(0, 2, 1, 3)
    return np.ascontiguousarray(w.reshape(taps, r * c_in, filters))


def strided_to_space_to_depth_kernel(kernel, factor, mode="DCR"):
    """Re-index a strided-conv kernel ``(K, C_in, F)`` (stride ``factor``, padding
    :func:`strided_padding`) into the ``(N, factor * C_in, F)`` kernel of the equal
    "same"-padded conv at the output rate after :func:`~upsample1d.ops.space_to_depth_1d`
    with ``mode``; ``N`` is :func:`space_to_depth_kernel_size`. NumPy in and out.

    Tap ``k`` reads input ``t*r + k - p``, i.e. phase ``i`` of block ``t + m`` with
    ``(m, i) = divmod(k - p, r)``; it becomes tap ``m + (N - 1) // 2`` of the output-rate
    conv, input channel ``i*C_in + c`` (DCR) or ``c*r + i`` (CRD). Taps no input reaches are
    zero. Exact: no value is changed, only moved.

    Example:
    >>> import numpy as np
    >>> from upsample1d.kernels import strided_to_space_to_depth_kernel
    >>> strided_to_space_to_depth_kernel(np.ones((8, 2, 5)), 4).shape
    (3, 8, 5)
    """
    r = check.positive_int(factor, "factor")
    mode = check.mode(mode)
    kernel = np.asarray(kernel)
    if kernel.ndim != 3:
        raise ValueError(f"`kernel` must have shape (K, C_in, F), got {kernel.shape}.")
    size, c_in, filters = kernel.shape
    p, taps = _strided_blocks(size, r)
    q = (taps - 1) // 2
    w = np.zeros((taps, r, c_in, filters), kernel.dtype)
    for k in range(size):
        m, i = divmod(k - p, r)
        w[m + q, i] = kernel[k]
    return _phase_layout(w, mode)


def space_to_depth_to_strided_kernel(kernel, factor, mode="DCR"):
    """Inverse of :func:`strided_to_space_to_depth_kernel`, on NumPy arrays: the kernel
    ``(N, factor * C_in, F)`` of a "same"-padded conv after space_to_depth (``mode``) to the
    kernel ``(K, C_in, F)`` of the equal strided conv, ``K`` the smallest size whose
    :func:`strided_padding` covers it: ``N * factor`` for odd ``N``, up to
    ``(N + 1) * factor - 1`` for even ``N`` (its extra taps zero).

    Example:
    >>> import numpy as np
    >>> from upsample1d.kernels import space_to_depth_to_strided_kernel
    >>> space_to_depth_to_strided_kernel(np.ones((3, 8, 5)), 4).shape
    (12, 2, 5)
    """
    r = check.positive_int(factor, "factor")
    mode = check.mode(mode)
    kernel = np.asarray(kernel)
    if kernel.ndim != 3:
        raise ValueError(f"`kernel` must have shape (N, factor * C_in, F), got "
                         f"{kernel.shape}.")
    taps, depth, filters = kernel.shape
    if depth % r:
        raise ValueError(f"the space_to_depth kernel's input dimension ({depth}) must be a "
                         f"multiple of factor={r}.")
    c_in = depth // r
    if mode == "DCR":
        w = kernel.reshape(taps, r, c_in, filters)
    else:
        w = kernel.reshape(taps, c_in, r, filters).transpose(0, 2, 1, 3)
    q = (taps - 1) // 2
    size = taps * r  # covers (taps - q) * r samples from t*r on and q * r before it
    while not (strided_padding(size, r) >= q * r
               and size - strided_padding(size, r) >= (taps - q) * r):
        size += 1
    p = strided_padding(size, r)
    out = np.zeros((size, c_in, filters), kernel.dtype)
    for n in range(taps):
        for i in range(r):
            out[(n - q) * r + i + p] = w[n, i]
    return out
