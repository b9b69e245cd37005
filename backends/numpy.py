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
