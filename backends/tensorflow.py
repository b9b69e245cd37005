"""TensorFlow references: the seed article's batch_to_space Subpixel1D and its inverse.

The permutation runs on the bit patterns (``tf.bitcast`` to unsigned ints): TensorFlow's CPU
transposes of bfloat16 can flush subnormals for some shapes (seen with TF 2.21), and a
reference for a bit-exact test must not change bits.
"""

import numpy as np
import tensorflow as tf


def _as_bits(x):
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        return x, None
    return tf.bitcast(x, {2: tf.uint16, 4: tf.uint32, 8: tf.uint64}[x.dtype.size]), x.dtype


def _from_bits(y, dtype, as_numpy):
    y = y if dtype is None else tf.bitcast(y, dtype)
    return y.numpy() if as_numpy else y


def _dcr_channel_order(depth, r, mode):
    # CRD input channel c*r + i holds what DCR keeps at i*C + c: gather it there first.
    channels = depth // r
    if mode == "DCR":
        return None
    return [c * r + i for i in range(r) for c in range(channels)]


def subpixel1d_seed(x, r):
    """The seed article's layer body: (B, T, C*r) -> (C*r, T, B), batch_to_space, back."""
    x = tf.transpose(x, [2, 1, 0])
    x = tf.batch_to_space(x, [r], [[0, 0]])
    return tf.transpose(x, [2, 1, 0])


def depth_to_space_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    x, dtype = _as_bits(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 1])
    order = _dcr_channel_order(x.shape[-1], block_size, mode)
    if order is not None:
        x = tf.gather(x, order, axis=2)
    y = subpixel1d_seed(x, block_size)
    if data_format == "channels_first":
        y = tf.transpose(y, [0, 2, 1])
    return _from_bits(y, dtype, as_numpy)


def space_to_depth_1d(x, block_size, data_format="channels_last", mode="DCR", as_numpy=True):
    x, dtype = _as_bits(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 1])
    y = tf.transpose(x, [2, 1, 0])
    y = tf.space_to_batch(y, [block_size], [[0, 0]])
    y = tf.transpose(y, [2, 1, 0])
    order = _dcr_channel_order(y.shape[-1], block_size, mode)
    if order is not None:
        y = tf.gather(y, np.argsort(order), axis=2)
    if data_format == "channels_first":
        y = tf.transpose(y, [0, 2, 1])
    return _from_bits(y, dtype, as_numpy)


def _resize(x, factor, data_format, method):
    x = tf.convert_to_tensor(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 1])
    image = x[:, :, None, :]  # time as height, width 1
    y = tf.image.resize(image, [x.shape[1] * factor, 1], method=method)[:, :, 0, :]
    y = tf.cast(y, x.dtype)
    if data_format == "channels_first":
        y = tf.transpose(y, [0, 2, 1])
    return y.numpy()


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    return _resize(x, factor, data_format, "nearest")


def upsample_linear_1d(x, factor, data_format="channels_last"):
    return _resize(x, factor, data_format, "bilinear")


def conv_transpose_1d(x, kernel, stride, data_format="channels_last"):
    """tf.nn.conv1d_transpose with padding SAME; kernel (K, C_out, C_in) as Conv1DTranspose."""
    x = tf.convert_to_tensor(x)
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 1])
    kernel = tf.convert_to_tensor(kernel, x.dtype)
    shape = [x.shape[0], x.shape[1] * stride, kernel.shape[1]]
    y = tf.nn.conv1d_transpose(x, kernel, shape, strides=stride, padding="SAME")
    if data_format == "channels_first":
        y = tf.transpose(y, [0, 2, 1])
    return y.numpy()
