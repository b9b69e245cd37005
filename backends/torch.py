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


def _interpolate(x, factor, data_format, mode, **kwargs):
    import torch.nn.functional as F

    x = _tensor(x)
    if data_format == "channels_last":
        x = x.permute(0, 2, 1)
    y = F.interpolate(x, scale_factor=factor, mode=mode, **kwargs)
    if data_format == "channels_last":
        y = y.permute(0, 2, 1)
    return _numpy(y.contiguous())


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    return _interpolate(x, factor, data_format, "nearest")


def upsample_linear_1d(x, factor, data_format="channels_last"):
    return _interpolate(x, factor, data_format, "linear", align_corners=False)


def conv_transpose_1d(x, kernel, stride, data_format="channels_last"):
    """nn.ConvTranspose1d with the Keras kernel (K, C_out, C_in), cropped like padding="same"
    (the full output, then (K - stride) // 2 dropped on the left; output_padding cannot
    express every case, e.g. stride 1 with an even kernel)."""
    x = _tensor(x)
    kernel = torch.from_numpy(np.ascontiguousarray(np.transpose(kernel, (2, 1, 0))))
    size, c_out, c_in = np.shape(np.transpose(kernel.numpy(), (2, 1, 0)))
    layer = torch.nn.ConvTranspose1d(c_in, c_out, size, stride=stride, bias=False,
                                     dtype=kernel.dtype)
    with torch.no_grad():
        layer.weight.copy_(kernel)
        if data_format == "channels_last":
            x = x.permute(0, 2, 1)
        y = layer(x.to(kernel.dtype))
        crop = (size - stride) // 2
        y = y[:, :, crop:crop + x.shape[2] * stride]
        if data_format == "channels_last":
            y = y.permute(0, 2, 1)
    return _numpy(y.contiguous())
