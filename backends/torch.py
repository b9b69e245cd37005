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


# --- alias-free-torch 0.0.6 (BigVGAN's anti-aliased activation) references ------------------

def _alias_free_modules():
    import alias_free_torch  # pip install alias-free-torch==0.0.6 (the `test` extra)

    return alias_free_torch


def _channels_first(x, data_format):
    x = _tensor(x)
    return x.permute(0, 2, 1).contiguous() if data_format == "channels_last" else x


def _back(y, data_format):
    if data_format == "channels_last":
        y = y.permute(0, 2, 1)
    return _numpy(y.detach().contiguous())


def alias_free_upsample_1d(x, ratio, kernel_size=None, data_format="channels_last"):
    """alias_free_torch.UpSample1d(ratio, kernel_size) on ``x`` (NumPy in, NumPy out)."""
    module = _alias_free_modules().UpSample1d(ratio, kernel_size)
    with torch.no_grad():
        return _back(module(_channels_first(x, data_format)), data_format)


def alias_free_downsample_1d(x, ratio, kernel_size=None, data_format="channels_last"):
    """alias_free_torch.DownSample1d(ratio, kernel_size) on ``x``."""
    module = _alias_free_modules().DownSample1d(ratio, kernel_size)
    with torch.no_grad():
        return _back(module(_channels_first(x, data_format)), data_format)


class Snake(torch.nn.Module):
    """BigVGAN's Snake / SnakeBeta (activations.py), per-channel parameters on (B, C, T):
    ``x + 1 / (beta + 1e-9) * sin(alpha x) ** 2`` with ``beta = alpha`` for Snake; with
    ``alpha_logscale`` the parameters are logs (initial 0), exponentiated in forward."""

    def __init__(self, channels, alpha=1.0, use_beta=False, alpha_logscale=False):
        super().__init__()
        self.alpha_logscale = alpha_logscale
        init = torch.zeros(channels) * alpha if alpha_logscale else torch.ones(channels) * alpha
        self.alpha = torch.nn.Parameter(init.clone())
        self.beta = torch.nn.Parameter(init.clone()) if use_beta else None

    def forward(self, x):
        alpha = self.alpha.unsqueeze(0).unsqueeze(-1)
        beta = alpha if self.beta is None else self.beta.unsqueeze(0).unsqueeze(-1)
        if self.alpha_logscale:
            alpha, beta = torch.exp(alpha), torch.exp(beta)
        return x + (1.0 / (beta + 1e-9)) * torch.pow(torch.sin(x * alpha), 2)


def alias_free_activation_module(activation, up=2, down=2, up_kernel_size=12,
                                 down_kernel_size=12):
    """alias_free_torch.Activation1d around ``activation`` (a torch callable or module)."""
    return _alias_free_modules().Activation1d(activation, up, down, up_kernel_size,
                                              down_kernel_size)


def alias_free_activation_1d(x, activation, up=2, down=2, up_kernel_size=12,
                             down_kernel_size=12, data_format="channels_last", cotangent=None,
                             params=()):
    """Activation1d(activation, ...) on ``x``. With ``cotangent`` (same layout as the output),
    returns ``(y, dL/dx, [dL/dp for p in params])`` for ``L = sum(y * cotangent)``."""
    module = alias_free_activation_module(activation, up, down, up_kernel_size,
                                          down_kernel_size)
    x = _channels_first(x, data_format).detach().requires_grad_(cotangent is not None)
    if cotangent is None:
        with torch.no_grad():
            return _back(module(x), data_format)
    y = module(x)
    grads = torch.autograd.grad((y * _channels_first(cotangent, data_format)).sum(),
                                [x, *params])
    return (_back(y, data_format), _back(grads[0], data_format),
            [_numpy(g.detach()) for g in grads[1:]])
