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

The public functions validate their arguments once per distinct call, and the input's static
shape once per ``(shape, dtype, arguments)``, keeping the resulting plan (the reshape and
transpose shapes) as einops keeps its recipes; the layers and the polyphase engine call the
unchecked primitives :func:`depth_to_space` and :func:`space_to_depth` (arguments already
canonical), which skip the argument checks.
"""

from __future__ import annotations

import keras
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d._cache import Cache

# XLA's CPU transposes of 16-bit floats (jax 0.10, TF 2.21) can quiet signalling NaNs and
# flush subnormals for some shapes; float32/64 and ints move untouched.
_INT_OF_SAME_WIDTH = {"float16": "int16", "bfloat16": "int16"}


def shuffled_shape(shape, block_size, data_format, inverse):
    """Output shape of the shuffle (``inverse=False``) or unshuffle, with ``None`` kept.

    ``block_size`` and ``data_format`` must be canonical (see :mod:`upsample1d._validation`).
    Raises a ValueError naming the offending size wherever that size is static.
    """
    op = "space_to_depth_1d" if inverse else "depth_to_space_1d"
    shape = check.rank3_shape(shape, op)
    batch = shape[0]
    time, channels = shape[check.time_axis(data_format)], shape[check.channel_axis(data_format)]
    r = block_size
    if inverse:
        if time is not None and time % r:
            raise ValueError(
                f"{op}: the time axis ({time}) must be divisible by block_size={r}; "
                f"input shape {shape}, data_format={data_format!r}."
            )
        time = None if time is None else time // r
        channels = None if channels is None else channels * r
    else:
        if channels is not None and channels % r:
            raise ValueError(
                f"{op}: the channel axis ({channels}) must be divisible by block_size={r}; "
                f"input shape {shape}, data_format={data_format!r}."
            )
        time = None if time is None else time * r
        channels = None if channels is None else channels // r
    if data_format == "channels_last":
        return (batch, time, channels)
    return (batch, channels, time)


def _plan(shape, r, data_format, mode, inverse):
    """``(inner_shape, axes, out_shape)`` of the rearrangement; ``axes`` is None where a
    reshape alone does it. ``shape`` holds ints or run-time sizes; the batch is always given
    explicitly (a -1 cannot stand for it when the tensor is empty)."""
    batch = shape[0]
    if data_format == "channels_last":
        _, time, depth = shape
        if inverse:
            out_shape = (batch, time // r, depth * r)
            if mode == "DCR":  # x[b, t*r + i, c] already sits at flat position t*(r*C) + i*C + c
                return None, None, out_shape
            return (batch, time // r, r, depth), (0, 1, 3, 2), out_shape
        channels = depth // r
        out_shape = (batch, time * r, channels)
        if mode == "DCR":  # in[b, t, i*C + c] already sits at flat position (t*r + i)*C + c
            return None, None, out_shape
        return (batch, time, channels, r), (0, 1, 3, 2), out_shape
    _, depth, time = shape
    if inverse:
        inner_shape = (batch, depth, time // r, r)
        axes = (0, 3, 1, 2) if mode == "DCR" else (0, 1, 3, 2)
        return inner_shape, axes, (batch, depth * r, time // r)
    channels = depth // r
    out_shape = (batch, channels, time * r)
    if mode == "DCR":
        return (batch, r, channels, time), (0, 2, 3, 1), out_shape
    return (batch, channels, r, time), (0, 1, 3, 2), out_shape


_PLANS = Cache(1024)


def _cached_plan(x, r, data_format, mode, inverse):
    """``(inner_shape, axes, out_shape, as_ints)`` for ``x``: :func:`_plan` for its static
    shape, checked and kept per (shape, dtype, arguments); sizes unknown while tracing (a TF
    graph with ``None`` time, torch's symbolic sizes) are read at run time, every time."""
    key = plan = None
    if not _backend.compiling():  # TorchDynamo would guard on the cache (_backend.compiling)
        try:
            key = (tuple(x.shape), x.dtype, r, data_format, mode, inverse)
            plan = _PLANS.get(key)
        except TypeError:  # unhashable symbolic sizes
            key = None
    if plan is not None:
        return plan
    shuffled_shape(x.shape, r, data_format, inverse)  # static sizes: a clear error here
    as_ints = keras.backend.standardize_dtype(x.dtype) in _INT_OF_SAME_WIDTH
    if key is None or any(size is None for size in key[0]):
        return (*_plan(ops.shape(x), r, data_format, mode, inverse), as_ints)
    return _PLANS.put(key, (*_plan(key[0], r, data_format, mode, inverse), as_ints))


def _rearrange(x, inner_shape, axes, out_shape, as_ints):
    """reshape -> transpose -> reshape (a reshape alone where ``axes`` is None); with
    ``as_ints``, 16-bit floats are moved as int16.

    Moved as ints, every bit survives and the views cost nothing. An int view has no
    gradient, so the gradient is given explicitly: the same rearrangement run backwards,
    which is itself exact. (Only for 16-bit floats, since bit views do not export to ONNX.)
    """
    if axes is None:
        return _backend.reshape(x, out_shape)
    if not as_ints:
        return _backend.reshape(
            _backend.transpose(_backend.reshape(x, inner_shape), axes), out_shape)
    dtype = keras.backend.standardize_dtype(x.dtype)

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
            return _rearrange(upstream, transposed_inner, inverse_axes, in_shape, True)

        return ops.view(y, dtype), grad

    return rearrange(x)


def depth_to_space(x, r, data_format, mode):
    """The shuffle, unchecked: arguments already canonical (see the module doc)."""
    plan = _cached_plan(x, r, data_format, mode, inverse=False)
    x = _backend.check_divisible(x, check.channel_axis(data_format), r, "depth_to_space_1d",
                                 "channel", data_format)
    return _rearrange(x, *plan)


def space_to_depth(x, r, data_format, mode):
    """The inverse shuffle, unchecked: arguments already canonical."""
    plan = _cached_plan(x, r, data_format, mode, inverse=True)
    x = _backend.check_divisible(x, check.time_axis(data_format), r, "space_to_depth_1d",
                                 "time", data_format)
    return _rearrange(x, *plan)


_ARGUMENTS = Cache(1024)


def _arguments(block_size, data_format, mode):
    """Canonical ``(block_size, data_format, mode)``, validated once per distinct call."""
    key = (type(block_size), block_size, data_format, mode)
    try:
        return _ARGUMENTS[key]
    except (KeyError, TypeError):  # new, or unhashable (and then invalid)
        pass
    arguments = (check.positive_int(block_size, "block_size"), check.data_format(data_format),
                 check.mode(mode))
    # None follows keras.config, which may change; TorchDynamo would guard on a write
    if data_format is not None and not _backend.compiling():
        _ARGUMENTS.put(key, arguments)
    return arguments


# Registered: a functional model built from the public ops holds this operation, and
# load_model finds it by its registered name.
@keras.saving.register_keras_serializable(package="upsample1d")
class _ShuffleOp(keras.Operation):
    """Symbolic form of the shuffles (gives KerasTensors their shape)."""

    def __init__(self, block_size, data_format, mode, inverse, *, name=None):
        super().__init__(name=name)
        self.block_size, self.data_format, self.mode = _arguments(block_size, data_format, mode)
        self.inverse = inverse

    def call(self, x):
        primitive = space_to_depth if self.inverse else depth_to_space
        return primitive(x, self.block_size, self.data_format, self.mode)

    def compute_output_spec(self, x):
        shape = shuffled_shape(x.shape, self.block_size, self.data_format, self.inverse)
        return keras.KerasTensor(shape, dtype=x.dtype)

    def get_config(self):
        return {"name": self.name, "block_size": self.block_size,
                "data_format": self.data_format, "mode": self.mode, "inverse": self.inverse}


# (tensor type, shape, dtype, the call's own arguments, inverse) -> the rearrangement as a
# function of x, for calls whose arguments and static shape were checked and whose plan is
# backend-native reshapes (no 16-bit int view): a repeated call costs one dict lookup more
# than the native reshape. The public functions look it up themselves, since each Python call
# level costs about as much as the lookup.
_CHECKED_CALLS = Cache(1024)


def _runner(inner_shape, axes, out_shape):
    reshape, transpose = _backend.reshape, _backend.transpose
    if axes is None:
        return lambda x: reshape(x, out_shape)
    return lambda x: reshape(transpose(reshape(x, inner_shape), axes), out_shape)


def _public(x, block_size, data_format, mode, inverse):
    """The checked call: validates, runs, and keeps a runner for the next identical call."""
    if isinstance(x, keras.KerasTensor):
        return _ShuffleOp(block_size, data_format, mode, inverse).symbolic_call(x)
    tensor = _backend.as_tensor(x)
    r, data_format_, mode_ = _arguments(block_size, data_format, mode)
    with _backend.device_scope(tensor):
        primitive = space_to_depth if inverse else depth_to_space
        y = primitive(tensor, r, data_format_, mode_)
    inner_shape, axes, out_shape, as_ints = _cached_plan(tensor, r, data_format_, mode_, inverse)
    # Kept only for tensor input of a static shape (NumPy input goes through as_tensor every
    # time) and a fixed data_format (None follows keras.config, which may change).
    # (Not while TorchDynamo traces: it guards on this dict, and a write during the trace
    # breaks its own guard.)
    if (tensor is x and None not in tuple(x.shape) and not as_ints and data_format is not None
            and block_size.__class__ is int and not _backend.compiling()):
        try:
            key = (x.__class__, x.shape, x.dtype, block_size, data_format, mode, inverse)
            hash(key)
        except TypeError:  # unhashable arguments or symbolic sizes
            return y
        _CHECKED_CALLS.put(key, _runner(inner_shape, axes, out_shape))
    return y


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
    is :func:`space_to_depth_1d` with the same arguments. An empty time axis gives an empty
    result of the right shape. A torch tensor stays on its device.

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
    >>> x = np.arange(6, dtype="int32").reshape(1, 1, 6)    # one step, 6 = r*C channels
    >>> convert_to_numpy(depth_to_space_1d(x, 2))[0].tolist()           # r=2, C=3
    [[0, 1, 2], [3, 4, 5]]
    >>> convert_to_numpy(depth_to_space_1d(x, 2, mode="CRD"))[0].tolist()
    [[0, 2, 4], [1, 3, 5]]
    """
    try:
        run = _CHECKED_CALLS.get((x.__class__, x.shape, x.dtype, block_size, data_format,
                                  mode, False))
    except (AttributeError, TypeError):  # not a tensor, or unhashable arguments
        run = None
    # A new call is checked (errors name the argument), then kept. Entries are for int block
    # sizes only; 2.0 == 2 and True == 1 find them too, and must be refused.
    if run is None or block_size.__class__ is not int:
        return _public(x, block_size, data_format, mode, inverse=False)
    return run(x)


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
    >>> x = np.arange(6, dtype="int32").reshape(1, 2, 3)    # 2 steps, C=3
    >>> convert_to_numpy(space_to_depth_1d(x, 2))[0].tolist()
    [[0, 1, 2, 3, 4, 5]]
    >>> convert_to_numpy(space_to_depth_1d(x, 2, mode="CRD"))[0].tolist()
    [[0, 3, 1, 4, 2, 5]]
    """
    try:
        run = _CHECKED_CALLS.get((x.__class__, x.shape, x.dtype, block_size, data_format,
                                  mode, True))
    except (AttributeError, TypeError):
        run = None
    if run is None or block_size.__class__ is not int:
        return _public(x, block_size, data_format, mode, inverse=True)
    return run(x)
