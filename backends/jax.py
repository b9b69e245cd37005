"""JAX references: jnp reshapes and lax transposes.

The permutation runs on the bit patterns (``lax.bitcast_convert_type`` to unsigned ints):
XLA's CPU transpose of bfloat16 can flush subnormals and quiet signalling NaNs for some
shapes (seen with jax 0.10.2), and a reference for a bit-exact test must not change bits.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def _as_bits(x):
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return x, None
    return lax.bitcast_convert_type(x, jnp.dtype(f"uint{8 * x.dtype.itemsize}")), x.dtype


def _from_bits(y, dtype):
    return y if dtype is None else lax.bitcast_convert_type(y, dtype)


def depth_to_space_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    y = _depth_to_space(jnp.asarray(x), block_size, data_format, mode)
    return np.asarray(y) if as_numpy else y


def space_to_depth_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    y = _space_to_depth(jnp.asarray(x), block_size, data_format, mode)
    return np.asarray(y) if as_numpy else y


@partial(jax.jit, static_argnums=(1, 2, 3))
def _depth_to_space(x, block_size, data_format, mode):
    x, dtype = _as_bits(x)
    if data_format == "channels_first":
        x = lax.transpose(x, (0, 2, 1))
    b, t, depth = x.shape
    r = block_size
    c = depth // r
    if mode == "DCR":
        y = x.reshape(b, t, r, c)
    else:
        y = lax.transpose(x.reshape(b, t, c, r), (0, 1, 3, 2))
    y = y.reshape(b, t * r, c)
    if data_format == "channels_first":
        y = lax.transpose(y, (0, 2, 1))
    return _from_bits(y, dtype)


@partial(jax.jit, static_argnums=(1, 2, 3))
def _space_to_depth(x, block_size, data_format, mode):
    x, dtype = _as_bits(x)
    if data_format == "channels_first":
        x = lax.transpose(x, (0, 2, 1))
    b, t, c = x.shape
    r = block_size
    y = x.reshape(b, t // r, r, c)
    if mode == "CRD":
        y = lax.transpose(y, (0, 1, 3, 2))
    y = y.reshape(b, t // r, c * r)
    if data_format == "channels_first":
        y = lax.transpose(y, (0, 2, 1))
    return _from_bits(y, dtype)


def _resize(x, factor, data_format, method):
    import jax

    x = jnp.asarray(x)
    axis = 1 if data_format == "channels_last" else 2
    shape = list(x.shape)
    shape[axis] *= factor
    return np.asarray(jax.image.resize(x, shape, method=method))


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    return _resize(x, factor, data_format, "nearest")


def upsample_linear_1d(x, factor, data_format="channels_last"):
    return _resize(x, factor, data_format, "linear")


def conv_transpose_1d(x, kernel, stride, data_format="channels_last"):
    """lax.conv_transpose on the full output, cropped to T*stride from (K - stride) // 2."""
    x = jnp.asarray(x)
    if data_format == "channels_first":
        x = jnp.swapaxes(x, 1, 2)
    # (K, C_out, C_in) is the kernel of the forward conv C_out -> C_in ("WIO"), transposed.
    kernel = jnp.asarray(kernel, x.dtype)
    size = kernel.shape[0]
    full = lax.conv_transpose(x, kernel, (stride,), [(size - 1, size - 1)],
                              dimension_numbers=("NWC", "WIO", "NWC"), transpose_kernel=True)
    crop = (size - stride) // 2
    y = full[:, crop:crop + x.shape[1] * stride]
    if data_format == "channels_first":
        y = jnp.swapaxes(y, 1, 2)
    return np.asarray(y)
