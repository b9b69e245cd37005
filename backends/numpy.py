"""NumPy references: explicit index loops, slow and obviously right."""

import numpy as np


def _to_channels_last(x, data_format):
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2)


def depth_to_space_1d(x, block_size, data_format="channels_last", mode="DCR"):
    """out[b, t*r + i, c] = x[b, t, i*C + c] (DCR) or x[b, t, c*r + i] (CRD)."""
    x = _to_channels_last(np.asarray(x), data_format)
    r = block_size
    batch, time, depth = x.shape
    channels = depth // r
    out = np.empty((batch, time * r, channels), dtype=x.dtype)
    c = np.arange(channels)
    for t in range(time):
        for i in range(r):
            source = i * channels + c if mode == "DCR" else c * r + i
            out[:, t * r + i, :] = x[:, t, source]
    return _to_channels_last(out, data_format)


def space_to_depth_1d(x, block_size, data_format="channels_last", mode="DCR"):
    """out[b, t, i*C + c] (DCR) or out[b, t, c*r + i] (CRD) = x[b, t*r + i, c]."""
    x = _to_channels_last(np.asarray(x), data_format)
    r = block_size
    batch, time, channels = x.shape
    out = np.empty((batch, time // r, channels * r), dtype=x.dtype)
    c = np.arange(channels)
    for t in range(time // r):
        for i in range(r):
            target = i * channels + c if mode == "DCR" else c * r + i
            out[:, t, target] = x[:, t * r + i, :]
    return _to_channels_last(out, data_format)


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    """out[:, j] = x[:, j // r]."""
    x = _to_channels_last(np.asarray(x), data_format)
    out = np.stack([x[:, j // factor] for j in range(x.shape[1] * factor)], axis=1)
    return _to_channels_last(out, data_format)


def upsample_linear_1d(x, factor, data_format="channels_last"):
    """Half-pixel centres, clamped: src = (j + 0.5)/r - 0.5, in float64 arithmetic."""
    x = _to_channels_last(np.asarray(x), data_format)
    time = x.shape[1]
    out = np.empty((x.shape[0], time * factor, x.shape[2]), np.result_type(x, np.float64))
    for j in range(time * factor):
        src = min(max((j + 0.5) / factor - 0.5, 0.0), time - 1)
        low = int(np.floor(src))
        high = min(low + 1, time - 1)
        frac = src - low
        out[:, j] = (1 - frac) * x[:, low] + frac * x[:, high]
    return _to_channels_last(out.astype(x.dtype), data_format)


def upsample_sinc_1d(x, factor, data_format="channels_last"):
    """scipy.signal.resample_poly(x, factor, 1) along time (Kaiser beta 5, 10 zero crossings)."""
    from scipy.signal import resample_poly

    axis = 1 if data_format == "channels_last" else 2
    return resample_poly(np.asarray(x), factor, 1, axis=axis).astype(np.asarray(x).dtype)


def conv_transpose_1d(x, kernel, stride, data_format="channels_last"):
    """Transposed conv, kernel (K, C_out, C_in), output cropped to T*stride from
    (K - stride) // 2 ("same"): full[t*stride + k] += kernel[k] @ x[t]."""
    x = _to_channels_last(np.asarray(x, np.float64), data_format)
    kernel = np.asarray(kernel, np.float64)
    size, c_out, _ = kernel.shape
    batch, time, _ = x.shape
    full = np.zeros((batch, (time - 1) * stride + size, c_out))
    for t in range(time):
        for k in range(size):
            full[:, t * stride + k] += x[:, t] @ kernel[k].T
    crop = (size - stride) // 2
    return _to_channels_last(full[:, crop:crop + time * stride], data_format)


def _clipped(x, s):
    """x[:, s] with s clipped into [0, T): the signal with its edge samples repeated."""
    return x[:, min(max(s, 0), x.shape[1] - 1)]


def alias_free_upsample_1d(x, ratio, kernel_size, filter="alias_free_torch"):
    """alias-free-torch's UpSample1d (or the centred sinc_bank design), channels_last, as a
    sum over input samples: y[j] = sum_s w(j, s) * x_e[s], float64.

    alias_free_torch: w = r * h[j - s r + a], a = (K - r) // 2, x_e replicate-padded by
    p = K // r - 1 and zero beyond. sinc_bank: w = r * h[j - s r + L] (h centred, L = hw r),
    x_e replicate-padded without limit."""
    from upsample1d import filters

    x = np.asarray(x, np.float64)
    r, size = ratio, kernel_size
    if filter == "alias_free_torch":
        h = filters.kaiser_sinc_filter(0.5 / r, 0.6 / r, size)
        offset, reach = (size - r) // 2, size // r - 1
    else:
        half_width = -(-size // (2 * r))
        h = filters.sinc_prototype(r, half_width)
        offset, reach = half_width * r, None
    time = x.shape[1]
    out = np.zeros((x.shape[0], time * r, x.shape[2]))
    for j in range(time * r):
        for s in range(-len(h), time + len(h)):
            index = j - s * r + offset
            if not 0 <= index < len(h):
                continue
            if reach is not None and not -reach <= s < time + reach:
                continue
            out[:, j] += r * h[index] * _clipped(x, s)
    return out


def alias_free_downsample_1d(x, ratio, kernel_size, filter="alias_free_torch"):
    """alias-free-torch's DownSample1d (or the centred sinc_bank decimator), channels_last:
    y[t] = sum_k h[k] * x_e[t r + k - left], x_e replicate-padded, float64."""
    from upsample1d import filters

    x = np.asarray(x, np.float64)
    r, size = ratio, kernel_size
    if filter == "alias_free_torch":
        h = filters.kaiser_sinc_filter(0.5 / r, 0.6 / r, size)
        left = size // 2 - (1 if size % 2 == 0 else 0)
    else:
        half_width = -(-size // (2 * r))
        h, left = filters.sinc_prototype(r, half_width), half_width * r
    out_time = -(-x.shape[1] // r)
    out = np.zeros((x.shape[0], out_time, x.shape[2]))
    for t in range(out_time):
        for k, weight in enumerate(h):
            out[:, t] += weight * _clipped(x, t * r + k - left)
    return out


def alias_free_activation_1d(x, fn, up, down, up_kernel_size, down_kernel_size,
                             filter="alias_free_torch", data_format="channels_last"):
    """down(fn(up(x))), ``fn`` on a channels_last NumPy array (float64)."""
    x = _to_channels_last(np.asarray(x), data_format)
    v = fn(alias_free_upsample_1d(x, up, up_kernel_size, filter))
    y = alias_free_downsample_1d(v, down, down_kernel_size, filter)
    return _to_channels_last(y, data_format)
