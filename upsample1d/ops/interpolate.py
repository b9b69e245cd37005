"""Fixed (non-learned) upsamplers: nearest, linear and windowed-sinc interpolation.

Each is a filter bank applied at the input rate followed by the shuffle: phase ``i`` of output
step ``t`` is ``y[t*r + i] = sum_n bank[n, i] * x_padded[t + n]``, computed per channel as a
convolution with ``r`` outputs and then the shuffle (channels folded into the batch, or one
depthwise conv on torch: see ``_backend.DEPTHWISE_BANKS``). Nothing is computed on a
zero-stuffed signal.

The public functions validate once and call the private primitives (``_nearest``,
``_linear``, ``_sinc``, ``_polyphase``), which the layers call directly.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.ops.shuffle import _depth_to_space


def _prepare(x, factor, data_format, name, floating):
    """Validate the arguments; return (x as a tensor or KerasTensor, factor, data_format)."""
    factor = check.positive_int(factor, "factor")
    data_format = check.data_format(data_format)
    if not isinstance(x, keras.KerasTensor):
        x = _backend.as_tensor(x)
    check.rank3_shape(x.shape, name)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if floating and "float" not in dtype:
        raise TypeError(f"{name} needs a floating-point input, got dtype {dtype}.")
    return x, factor, data_format


class _ResampleOp(keras.Operation):
    """Symbolic form of the fixed resampling ops (gives KerasTensors their shape); subclasses
    give the output length, :meth:`output_time`."""

    def __init__(self, primitive, factor, data_format, *, name=None, **options):
        super().__init__(name=name)
        self.primitive = primitive
        self.factor = factor
        self.data_format = data_format
        self.options = options

    def call(self, x):
        return self.primitive(x, self.factor, self.data_format, **self.options)

    def output_time(self, time):
        raise NotImplementedError

    def compute_output_spec(self, x):
        shape = list(x.shape)
        axis = check.time_axis(self.data_format)
        shape[axis] = None if shape[axis] is None else self.output_time(shape[axis])
        return keras.KerasTensor(tuple(shape), dtype=x.dtype)

    @classmethod
    def run(cls, x, primitive, factor, data_format, **options):
        """``primitive(x, factor, data_format, **options)``: symbolically for a KerasTensor,
        else on ``x``'s device."""
        if isinstance(x, keras.KerasTensor):
            return cls(primitive, factor, data_format, **options).symbolic_call(x)
        with _backend.device_scope(x):
            return primitive(x, factor, data_format, **options)


class _UpsampleOp(_ResampleOp):
    def output_time(self, time):
        return time * self.factor


_run = _UpsampleOp.run


# --- nearest --------------------------------------------------------------------------------

def _nearest(x, r, data_format):
    batch = ops.shape(x)[0]
    if data_format == "channels_last":
        _, time, channels = ops.shape(x)
        x = ops.broadcast_to(ops.expand_dims(x, 2), (batch, time, r, channels))
        return ops.reshape(x, (batch, time * r, channels))
    _, channels, time = ops.shape(x)
    x = ops.broadcast_to(ops.expand_dims(x, 3), (batch, channels, time, r))
    return ops.reshape(x, (batch, channels, time * r))


def upsample_nearest_1d(x, factor, data_format="channels_last"):
    """Repeat every time step ``factor`` times: ``out[b, t*r + i, c] = x[b, t, c]``.

    Shapes: channels_last ``(B, T, C) -> (B, T*r, C)``; channels_first
    ``(B, C, T) -> (B, C, T*r)``. The identity filter bank tiled ``r`` times followed by the
    shuffle, which here collapses to broadcast + reshape (no gather, no repeat). Equal to
    ``keras.layers.UpSampling1D`` and to torch ``F.interpolate(mode="nearest")``; any dtype.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_nearest_1d
    >>> convert_to_numpy(upsample_nearest_1d([[[1.0], [2.0]]], 2))[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    x, r, data_format = _prepare(x, factor, data_format, "upsample_nearest_1d", False)
    return _run(x, _nearest, r, data_format)


# --- polyphase banks ------------------------------------------------------------------------

def _replicate_pad(x, left, right, axis):
    # keras.ops.pad has no "edge" mode on every backend: concatenate the edge samples.
    head = (slice(None),) * axis
    first, last = x[head + (slice(0, 1),)], x[head + (slice(-1, None),)]
    if x.shape[axis] is None:
        # A length known only at run time may be 0 (a TF graph): the padded length must
        # still be left + right, so an empty edge sample is taken as a zero.
        widths = [[0, 0]] * 3
        first = ops.pad(first, [*widths[:axis], [0, 1], *widths[axis + 1:]])
        last = ops.pad(last, [*widths[:axis], [1, 0], *widths[axis + 1:]])
        first, last = first[head + (slice(0, 1),)], last[head + (slice(-1, None),)]
    parts = [ops.repeat(first, left, axis=axis)] if left else []
    parts.append(x)
    if right:
        parts.append(ops.repeat(last, right, axis=axis))
    return ops.concatenate(parts, axis=axis) if len(parts) > 1 else x


def pad_time(x, left, right, data_format, edge):
    """Pad the time axis by ``left`` / ``right`` steps: ``edge="zeros"`` or ``"replicate"``."""
    axis = check.time_axis(data_format)
    if not (left or right):
        return x
    if edge == "replicate":
        return _replicate_pad(x, left, right, axis)
    widths = [[0, 0], [0, 0], [0, 0]]
    widths[axis] = [left, right]
    return ops.pad(x, widths)


def _polyphase(x, bank, pad, data_format, edge, key):
    """The bank on every channel, then the shuffle. ``key`` identifies ``bank`` for the
    constant cache (None: not cached). XLA backends fold the channels into the batch and run
    one single-channel conv with ``r`` outputs; torch runs a depthwise conv (see
    ``_backend.DEPTHWISE_BANKS``)."""
    taps, r = bank.shape
    axis = check.time_axis(data_format)
    if x.shape[axis] == 0:
        return x  # (B, 0, C) stays (B, 0, C): nothing to interpolate
    if data_format == "channels_last":
        x = ops.transpose(x, (0, 2, 1))
    batch, channels, time = ops.shape(x)
    if _backend.DEPTHWISE_BANKS:
        x = pad_time(x, pad[0], pad[1], "channels_first", edge)
        depthwise = np.broadcast_to(bank[:, None, :], (taps, channels, r))
        kernel = _backend.constant(depthwise, x.dtype, like=x,
                                   key=None if key is None else (key, channels))
        y = ops.depthwise_conv(x, kernel, padding="valid", data_format="channels_first")
        y = _depth_to_space(y, r, "channels_first", "CRD")  # channel c*r + i is phase i of c
    else:
        x = ops.reshape(x, (batch * channels, time, 1))
        x = pad_time(x, pad[0], pad[1], "channels_last", edge)
        kernel = _backend.constant(bank[:, None, :], x.dtype, like=x, key=key)
        y = _depth_to_space(ops.conv(x, kernel, padding="valid"), r, "channels_last", "DCR")
        y = ops.reshape(y, (batch, channels, time * r))
    return ops.transpose(y, (0, 2, 1)) if data_format == "channels_last" else y


def polyphase_upsample_1d(x, bank, pad, data_format="channels_last", edge="zeros"):
    """Apply a fixed polyphase filter bank to every channel, then shuffle the phases into time.

    ``bank`` has shape ``(taps, r)``; with ``x`` padded by ``pad = (left, right)`` steps,
    ``out[b, t*r + i, c] = sum_n bank[n, i] * x_padded[b, t + n, c]``; ``taps`` must equal
    ``left + right + 1``, which keeps the length at ``T*r``. ``edge`` is ``"zeros"`` or
    ``"replicate"`` (the edge samples repeated). Shapes as in :func:`upsample_linear_1d`.

    On JAX and TensorFlow the channels are folded into the batch and the bank runs as one
    single-channel conv with ``r`` outputs, then the shuffle; on torch, whose CPU convolution
    runs thousands of one-channel signals slowly, as one depthwise conv
    (``_backend.DEPTHWISE_BANKS``). The same multiply-adds either way.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import polyphase_upsample_1d
    >>> bank = np.array([[1.0, 0.5], [0.0, 0.5]])          # x[t], then (x[t] + x[t+1]) / 2
    >>> y = polyphase_upsample_1d([[[0.0], [2.0]]], bank, (0, 1))
    >>> convert_to_numpy(y)[0, :, 0].tolist()
    [0.0, 1.0, 2.0, 1.0]
    """
    edge = check.choice(edge, "edge", ("zeros", "replicate"))
    bank = np.asarray(bank, np.float64)
    if bank.ndim != 2 or 0 in bank.shape:
        raise ValueError(f"`bank` must have shape (taps, factor) with taps and factor >= 1, "
                         f"got shape {bank.shape}.")
    taps, r = bank.shape
    try:
        left, right = pad
    except (TypeError, ValueError):
        raise ValueError(f"`pad` must be a pair (left, right) of ints >= 0, got pad={pad!r}."
                         ) from None
    left, right = (check.non_negative_int(p, "pad") for p in (left, right))
    if taps != left + right + 1:
        raise ValueError(f"a bank of {taps} taps needs left + right padding of {taps - 1}, "
                         f"got pad={tuple(pad)}.")
    x, r, data_format = _prepare(x, r, data_format, "polyphase_upsample_1d", True)
    # A caller's bank is converted on every call (key None: not cached).
    return _run(x, lambda x, r, data_format: _polyphase(x, bank, (left, right), data_format,
                                                        edge, None), r, data_format)


_BANKS = {}


def _cached_bank(key, make):
    """``make()``, computed once per ``key`` and kept read-only (under torch.compile a bank
    not yet kept is computed in the trace and not kept)."""
    bank = _BANKS.get(key)
    if bank is None and _backend.compiling():
        return make()
    if bank is None:
        bank = _BANKS[key] = make()
        if isinstance(bank, tuple):
            bank[0].flags.writeable = False
        else:
            bank.flags.writeable = False  # cached: shared by every call
    return bank


def linear_bank(factor):
    """The ``(3, r)`` bank of half-pixel linear interpolation on an input padded by (1, 1).

    Output ``j = t*r + i`` sits at input position ``t + d_i`` with ``d_i = (i + 0.5)/r - 0.5``;
    it mixes ``x[t-1], x[t]`` (``d_i < 0``) or ``x[t], x[t+1]`` (``d_i >= 0``). NumPy,
    read-only (cached).

    Example:
    >>> from upsample1d.ops import linear_bank
    >>> linear_bank(2).tolist()
    [[0.25, 0.0], [0.75, 0.75], [0.0, 0.25]]
    """
    return _linear_bank_of(check.positive_int(factor, "factor"))


def _linear_bank_of(r):
    return _cached_bank(("linear", r), lambda: _linear_bank(r))


def _linear_bank(r):
    bank = np.zeros((3, r))
    for i in range(r):
        d = (i + 0.5) / r - 0.5
        if d < 0:
            bank[0, i], bank[1, i] = -d, 1 + d
        else:
            bank[1, i], bank[2, i] = 1 - d, d
    return bank


def _linear(x, r, data_format):
    return _polyphase(x, _linear_bank_of(r), (1, 1), data_format, "replicate", ("linear", r))


def upsample_linear_1d(x, factor, data_format="channels_last"):
    """Linear interpolation with half-pixel centres and clamped edges.

    Output ``j`` reads input position ``(j + 0.5)/r - 0.5``, clamped to ``[0, T-1]``: equal to
    torch ``F.interpolate(mode="linear", align_corners=False)`` and TF
    ``tf.image.resize(method="bilinear")``. Computed as a 3-tap polyphase bank
    (:func:`linear_bank`) at the input rate on the edge-replicated input, then the shuffle.
    Shapes: channels_last ``(B, T, C) -> (B, T*r, C)``; channels_first
    ``(B, C, T) -> (B, C, T*r)``. Floating-point inputs only.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_linear_1d
    >>> convert_to_numpy(upsample_linear_1d([[[0.0], [4.0]]], 2))[0, :, 0].tolist()
    [0.0, 1.0, 3.0, 4.0]
    """
    x, r, data_format = _prepare(x, factor, data_format, "upsample_linear_1d", True)
    return _run(x, _linear, r, data_format)


def sinc_bank(factor, half_width=10, kaiser_beta=5.0):
    """The polyphase bank of a Kaiser-windowed sinc low-pass at the input Nyquist.

    The prototype is ``h = firwin(2*L + 1, 1/r, window=("kaiser", beta)) * r`` with
    ``L = half_width * r`` (scipy's ``resample_poly`` design), centred: output ``t*r + i`` is
    ``sum_k x[t - k] * h[k*r + i + L]``. Returns ``(bank, (left, right))`` with the bank laid
    out for :func:`polyphase_upsample_1d` (``bank[n, i]`` multiplies ``x[t + n - left]``).
    NumPy, read-only (cached).

    Example:
    >>> from upsample1d.ops import sinc_bank
    >>> bank, pad = sinc_bank(4)
    >>> bank.shape, pad
    ((21, 4), (10, 10))
    """
    r = check.positive_int(factor, "factor")
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return _sinc_bank_of(r, half_width, kaiser_beta)


def _sinc_bank_of(r, half_width, kaiser_beta):
    return _cached_bank(("sinc", r, half_width, kaiser_beta),
                        lambda: _sinc_bank(r, half_width, kaiser_beta))


def sinc_prototype(factor, half_width=10, kaiser_beta=5.0):
    """The Kaiser-windowed sinc low-pass with cutoff ``1 / factor`` (of Nyquist), unit DC gain.

    ``h[k]`` for ``k = 0 .. 2L`` with ``L = half_width * factor``, centred on ``k = L``:
    ``h = firwin(2*L + 1, 1/factor, window=("kaiser", kaiser_beta))``, scipy's
    ``resample_poly`` design. :func:`sinc_bank` (upsampling, gain ``factor``) and
    :func:`~upsample1d.ops.downsample_sinc_1d` (decimation, gain 1) are both built from it.
    NumPy float64, read-only (cached).

    Example:
    >>> from upsample1d.ops import sinc_prototype
    >>> h = sinc_prototype(2)
    >>> h.shape, round(float(h.sum()), 12), int(h.argmax())
    ((41,), 1.0, 20)
    """
    r = check.positive_int(factor, "factor")
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return _sinc_prototype_of(r, half_width, kaiser_beta)


def _sinc_prototype_of(r, half_width, kaiser_beta):
    return _cached_bank(("sinc_prototype", r, half_width, kaiser_beta),
                        lambda: _sinc_prototype(r, half_width, kaiser_beta))


def _sinc_prototype(r, half_width, kaiser_beta):
    length = half_width * r
    m = np.arange(2 * length + 1) - length
    h = np.sinc(m / r) / r * np.kaiser(2 * length + 1, kaiser_beta)
    return h / h.sum()  # unit gain at DC, as firwin(scale=True)


def _sinc_bank(r, half_width, kaiser_beta):
    length = half_width * r
    # gain r: unit gain at DC per phase on average, as firwin(scale=True) * r
    h = _sinc_prototype_of(r, half_width, kaiser_beta) * r
    taps = 2 * half_width + 1
    bank = np.zeros((taps, r))
    for n in range(taps):
        k = half_width - n
        for i in range(r):
            index = k * r + i + length
            if 0 <= index <= 2 * length:
                bank[n, i] = h[index]
    return bank, (half_width, half_width)


def _sinc(x, r, data_format, half_width=10, kaiser_beta=5.0):
    bank, pad = _sinc_bank_of(r, half_width, kaiser_beta)
    return _polyphase(x, bank, pad, data_format, "zeros", ("sinc", r, half_width, kaiser_beta))


def upsample_sinc_1d(x, factor, data_format="channels_last", half_width=10, kaiser_beta=5.0):
    """Band-limited upsampling with a Kaiser-windowed sinc (zero padding at the edges).

    With the defaults, equal to ``scipy.signal.resample_poly(x, factor, 1)`` along time: the
    low-pass ``firwin(20*r + 1, 1/r, window=("kaiser", 5.0))`` scaled by ``r``, run as ``r``
    polyphase branches of ``2*half_width + 1`` taps at the input rate (:func:`sinc_bank`),
    then the shuffle. Flat to within 1 dB up to 0.9 x input Nyquist (-0.66 dB there). Like
    scipy's, the ``r`` phases' DC gains differ by up to ~0.1% (the prototype is normalised as a
    whole, not per phase), which leaves a tone at ``fs_in`` about 69 dB below a constant
    input (factor 4): far below anything audible, kept for exact parity with scipy.
    Shapes as in :func:`upsample_linear_1d`; floating-point inputs only.

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.ops import upsample_sinc_1d
    >>> convert_to_numpy(upsample_sinc_1d([[[1.0]] * 64], 2)).shape
    (1, 128, 1)
    """
    x, r, data_format = _prepare(x, factor, data_format, "upsample_sinc_1d", True)
    half_width = check.positive_int(half_width, "half_width")
    kaiser_beta = check.non_negative_number(kaiser_beta, "kaiser_beta")
    return _run(x, _sinc, r, data_format, half_width=half_width, kaiser_beta=kaiser_beta)


# name -> (bank (NumPy) and padding for a factor, edge mode), for the layers
def interpolation_bank(method, factor):
    """``(bank, (left, right), edge)`` of a fixed interpolator (``"nearest"``, ``"linear"``,
    ``"sinc"``, default options) in the layout of :func:`polyphase_upsample_1d`."""
    method = check.choice(method, "method", INTERPOLATIONS)
    if method == "nearest":
        return np.ones((1, factor)), (0, 0), "zeros"
    if method == "linear":
        return linear_bank(factor), (1, 1), "replicate"
    bank, pad = sinc_bank(factor)
    return bank, pad, "zeros"


# name -> private primitive (x, factor, data_format) -> upsampled x
INTERPOLATIONS = {"nearest": _nearest, "linear": _linear, "sinc": _sinc}
