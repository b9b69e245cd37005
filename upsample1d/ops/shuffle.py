"""The 1-D pixel shuffle and its inverse.

Every upsampler in this package ends in :func:`depth_to_space_1d`: a filter bank produces
``r`` phases per input sample as channels, and the shuffle moves them into time.

Element order, with ``r = block_size`` and ``C`` the output channels
(``0 <= i < r``, ``0 <= c < C``), written in channels_last indexing:

- ``mode="DCR"`` (TensorFlow's ``depth_to_space`` / ``batch_to_space`` order, block index
  major): ``out[b, t*r + i, c] == in[b, t, i*C + c]``
- ``mode="CRD"`` (PyTorch's ``PixelShuffle`` order, channel major):
  ``out[b, t*r + i, c] == in[b, t, c*r + i]``

The order depends on ``mode`` only, never on ``data_format``. (``keras.ops.depth_to_space``
is different: in 2-D its order is TensorFlow's with channels_last and PyTorch's with
channels_first.)
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

DATA_FORMATS = ("channels_last", "channels_first")
MODES = ("DCR", "CRD")


def check_factor(value, name="block_size"):
    """Return ``value`` as an int, or raise if it is not a positive integer (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be a positive int, got {value!r} of type {type(value).__name__}."
        )
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {name}={value!r}.")
    return int(value)


def check_data_format(data_format):
    if data_format is None:
        return keras.config.image_data_format()
    if not isinstance(data_format, str) or data_format.lower() not in DATA_FORMATS:
        raise ValueError(
            f"`data_format` must be one of {DATA_FORMATS}, got data_format={data_format!r}."
        )
    return data_format.lower()


def check_mode(mode):
    if not isinstance(mode, str) or mode.upper() not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}, got mode={mode!r}.")
    return mode.upper()


def shuffled_shape(shape, block_size, data_format, inverse):
    """Output shape of the shuffle (``inverse=False``) or unshuffle, with ``None`` kept.

    Raises a ValueError naming the offending size wherever that size is static.
    """
    op = "space_to_depth_1d" if inverse else "depth_to_space_1d"
    if len(shape) != 3:
        raise ValueError(
            f"{op} expects a rank-3 input (batch, time, channels) or (batch, channels, time), "
            f"got shape {tuple(shape)} of rank {len(shape)}."
        )
    batch = shape[0]
    if data_format == "channels_last":
        time, channels = shape[1], shape[2]
    else:
        time, channels = shape[2], shape[1]
    r = block_size
    if inverse:
        if time is not None and time % r:
            raise ValueError(
                f"{op}: the time axis ({time}) must be divisible by block_size={r}; "
                f"input shape {tuple(shape)}, data_format={data_format!r}."
            )
        time = None if time is None else time // r
        channels = None if channels is None else channels * r
    else:
        if channels is not None and channels % r:
            raise ValueError(
                f"{op}: the channel axis ({channels}) must be divisible by block_size={r}; "
                f"input shape {tuple(shape)}, data_format={data_format!r}."
            )
        time = None if time is None else time * r
        channels = None if channels is None else channels // r
    if data_format == "channels_last":
        return (batch, time, channels)
    return (batch, channels, time)


def _check_all(x, block_size, data_format, mode, inverse):
    block_size = check_factor(block_size)
    data_format = check_data_format(data_format)
    mode = check_mode(mode)
    shuffled_shape(tuple(x.shape), block_size, data_format, inverse)
    return block_size, data_format, mode


# XLA's CPU transposes of 16-bit floats (jax 0.10, TF 2.21) can quiet signalling NaNs and
# flush subnormals for some shapes; float32/64 and ints move untouched.
_INT_OF_SAME_WIDTH = {"float16": "int16", "bfloat16": "int16"}


def _rearrange(x, inner_shape, axes, out_shape):
    """reshape -> transpose -> reshape; 16-bit floats are moved as int16.

    Moved as ints, every bit survives and the views cost nothing. An int view has no
    gradient, so the gradient is given explicitly: the same rearrangement run backwards,
    which is itself exact. (Only for 16-bit floats, since bit views do not export to ONNX.)
    """
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in _INT_OF_SAME_WIDTH:
        return ops.reshape(ops.transpose(ops.reshape(x, inner_shape), axes), out_shape)

    @ops.custom_gradient
    def rearrange(x):
        in_shape = ops.shape(x)
        y = ops.view(x, _INT_OF_SAME_WIDTH[dtype])
        y = ops.reshape(ops.transpose(ops.reshape(y, inner_shape), axes), out_shape)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            inverse_axes = tuple(axes.index(i) for i in range(len(axes)))
            transposed_inner = tuple(inner_shape[a] for a in axes)
            return _rearrange(upstream, transposed_inner, inverse_axes, in_shape)

        return ops.view(y, dtype), grad

    return rearrange(x)


def _depth_to_space(x, r, data_format, mode):
    # Sizes may be dynamic (TF graph mode): take them from ops.shape, and let -1 stand for batch.
    if data_format == "channels_last":
        _, time, depth = ops.shape(x)
        channels = depth // r
        out_shape = (-1, time * r, channels)
        if mode == "DCR":
            # in[b, t, i*C + c] already sits at flat position (t*r + i)*C + c.
            return ops.reshape(x, out_shape)
        return _rearrange(x, (-1, time, channels, r), (0, 1, 3, 2), out_shape)
    _, depth, time = ops.shape(x)
    channels = depth // r
    out_shape = (-1, channels, time * r)
    if mode == "DCR":
        return _rearrange(x, (-1, r, channels, time), (0, 2, 3, 1), out_shape)
    return _rearrange(x, (-1, channels, r, time), (0, 1, 3, 2), out_shape)


def _assert_time_divisible(x, r, data_format):
    """An unknown time axis (a TF graph traced with ``None`` time) escapes the static check and
    would fail in the reshape with a message naming neither the axis nor ``block_size``: check
    it when the graph runs. JAX and PyTorch always see concrete lengths, and keras.ops has no
    run-time assertion, so this is the package's one backend branch, TF only."""
    axis = 1 if data_format == "channels_last" else 2
    if keras.backend.backend() != "tensorflow" or x.shape[axis] is not None:
        return x
    import tensorflow as tf

    check = tf.debugging.assert_equal(
        tf.shape(x)[axis] % r, 0, message=f"space_to_depth_1d: the time axis must be divisible "
        f"by block_size={r} ({data_format}); got a length that is not")
    with tf.control_dependencies([check]):
        return tf.identity(x)


def _space_to_depth(x, r, data_format, mode):
    x = _assert_time_divisible(x, r, data_format)
    if data_format == "channels_last":
        _, time, channels = ops.shape(x)
        out_shape = (-1, time // r, channels * r)
        if mode == "DCR":
            return ops.reshape(x, out_shape)
        return _rearrange(x, (-1, time // r, r, channels), (0, 1, 3, 2), out_shape)
    _, channels, time = ops.shape(x)
    inner_shape = (-1, channels, time // r, r)
    out_shape = (-1, channels * r, time // r)
    return _rearrange(x, inner_shape, (0, 3, 1, 2) if mode == "DCR" else (0, 1, 3, 2), out_shape)


class DepthToSpace1D(keras.Operation):
    """Symbolic form of :func:`depth_to_space_1d` (gives KerasTensors their shape)."""

    def __init__(self, block_size, data_format="channels_last", mode="DCR", *, name=None):
        super().__init__(name=name)
        self.block_size = check_factor(block_size)
        self.data_format = check_data_format(data_format)
        self.mode = check_mode(mode)

    def call(self, x):
        return _depth_to_space(x, self.block_size, self.data_format, self.mode)

    def compute_output_spec(self, x):
        shape = shuffled_shape(tuple(x.shape), self.block_size, self.data_format, False)
        return keras.KerasTensor(shape, dtype=x.dtype)


class SpaceToDepth1D(keras.Operation):
    """Symbolic form of :func:`space_to_depth_1d` (gives KerasTensors their shape)."""

    def __init__(self, block_size, data_format="channels_last", mode="DCR", *, name=None):
        super().__init__(name=name)
        self.block_size = check_factor(block_size)
        self.data_format = check_data_format(data_format)
        self.mode = check_mode(mode)

    def call(self, x):
        return _space_to_depth(x, self.block_size, self.data_format, self.mode)

    def compute_output_spec(self, x):
        shape = shuffled_shape(tuple(x.shape), self.block_size, self.data_format, True)
        return keras.KerasTensor(shape, dtype=x.dtype)


def depth_to_space_1d(x, block_size, data_format="channels_last", mode="DCR"):
    """Move ``block_size`` channel groups into time: the 1-D pixel shuffle.

    Shapes (``r = block_size``):
    channels_last ``(B, T, C*r) -> (B, T*r, C)``;
    channels_first ``(B, C*r, T) -> (B, C, T*r)``.

    Index formula (channels_last indexing; channels_first is the same with the last two
    axes swapped):

    - ``mode="DCR"``: ``out[b, t*r + i, c] = x[b, t, i*C + c]`` (TensorFlow's order, as the
      ``tf.batch_to_space`` Subpixel1D of the seed article and Kuleshov et al. 2017);
    - ``mode="CRD"``: ``out[b, t*r + i, c] = x[b, t, c*r + i]`` (PyTorch's order).

    channels_last with DCR is a single reshape; the other three cases are reshape,
    one transpose, reshape. Every bit of every element is kept, for any dtype. The gradient
    is :func:`space_to_depth_1d` with the same arguments.

    Args:
        x: rank-3 tensor (or KerasTensor; batch and time may be ``None``).
        block_size: positive int ``r``; the channel axis must be divisible by it.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; ``None`` means
            ``keras.config.image_data_format()``.
        mode: ``"DCR"`` (default) or ``"CRD"``.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import depth_to_space_1d
    >>> x = np.arange(6).reshape(1, 1, 6)            # one step, 6 = r*C channels
    >>> convert_to_numpy(depth_to_space_1d(x, 2))[0].tolist()           # r=2, C=3
    [[0, 1, 2], [3, 4, 5]]
    >>> convert_to_numpy(depth_to_space_1d(x, 2, mode="CRD"))[0].tolist()
    [[0, 2, 4], [1, 3, 5]]
    """
    if isinstance(x, keras.KerasTensor):
        return DepthToSpace1D(block_size, data_format, mode).symbolic_call(x)
    x = ops.convert_to_tensor(x)
    r, data_format, mode = _check_all(x, block_size, data_format, mode, inverse=False)
    return _depth_to_space(x, r, data_format, mode)


def space_to_depth_1d(x, block_size, data_format="channels_last", mode="DCR"):
    """Fold ``block_size`` consecutive time steps into channels: the exact inverse of
    :func:`depth_to_space_1d` with the same ``block_size``, ``data_format`` and ``mode``.

    Shapes (``r = block_size``):
    channels_last ``(B, T*r, C) -> (B, T, C*r)``;
    channels_first ``(B, C, T*r) -> (B, C*r, T)``.

    Index formula (channels_last indexing):
    ``mode="DCR"``: ``out[b, t, i*C + c] = x[b, t*r + i, c]``;
    ``mode="CRD"``: ``out[b, t, c*r + i] = x[b, t*r + i, c]``.

    The time axis must be divisible by ``block_size``; nothing is padded or cropped.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import space_to_depth_1d
    >>> x = np.arange(6).reshape(1, 2, 3)            # 2 steps, C=3
    >>> convert_to_numpy(space_to_depth_1d(x, 2))[0].tolist()
    [[0, 1, 2, 3, 4, 5]]
    >>> convert_to_numpy(space_to_depth_1d(x, 2, mode="CRD"))[0].tolist()
    [[0, 3, 1, 4, 2, 5]]
    """
    if isinstance(x, keras.KerasTensor):
        return SpaceToDepth1D(block_size, data_format, mode).symbolic_call(x)
    x = ops.convert_to_tensor(x)
    r, data_format, mode = _check_all(x, block_size, data_format, mode, inverse=True)
    return _space_to_depth(x, r, data_format, mode)
