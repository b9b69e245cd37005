"""PyTorch references: view/permute pixel shuffle, channels_first as PyTorch users write it."""

import numpy as np
import torch


def _tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    x = np.ascontiguousarray(x)
    if x.dtype.name == "bfloat16":  # ml_dtypes' bfloat16: same bits, reinterpreted
        return torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(x)


def _numpy(y):
    if y.dtype == torch.bfloat16:
        import ml_dtypes

        return y.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return y.numpy()


def depth_to_space_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    x = _tensor(x)
    if data_format == "channels_last":
        x = x.permute(0, 2, 1)
    b, depth, t = x.shape
    r = block_size
    c = depth // r
    if mode == "CRD":  # PyTorch's PixelShuffle order
        y = x.reshape(b, c, r, t).permute(0, 1, 3, 2)
    else:
        y = x.reshape(b, r, c, t).permute(0, 2, 3, 1)
    y = y.reshape(b, c, t * r)
    if data_format == "channels_last":
        y = y.permute(0, 2, 1)
    return _numpy(y.contiguous()) if as_numpy else y


def space_to_depth_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    x = _tensor(x)
    if data_format == "channels_last":
        x = x.permute(0, 2, 1)
    b, c, t = x.shape
    r = block_size
    y = x.reshape(b, c, t // r, r)
    y = y.permute(0, 1, 3, 2) if mode == "CRD" else y.permute(0, 3, 1, 2)
    y = y.reshape(b, c * r, t // r)
    if data_format == "channels_last":
        y = y.permute(0, 2, 1)
    return _numpy(y.contiguous()) if as_numpy else y
