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
