"""Downsampling: the fixed ops (sinc, average, decimation, any prototype) against scipy, numpy,
Keras and torch; the learned layers (strided, space_to_depth, filtered, Downsample1D) against
loops and keras.layers.Conv1D, their exact conversions, shapes, serialization, compilers and
demucs_like's downsampler switch."""

import warnings

import keras
import ml_dtypes
import numpy as np
import pytest
from conftest import (
    BACKEND,
    bits,
    compile_fn,
    has_module,
    random_bits,
    sampled_grid,
    to_backend,
    to_numpy,
    vjp,
)
from test_interpolate import assert_close

from upsample1d import kernels
from upsample1d.layers import (
    DOWNSAMPLERS,
    Downsample1D,
    FilteredDownsample1D,
    SpaceToDepthConv1D,
    StridedConv1D,
)
from upsample1d.models import demucs_like
from upsample1d.ops import (
    decimate_1d,
    downsample_average_1d,
    downsample_sinc_1d,
    polyphase_downsample_1d,
    sinc_bank,
    sinc_prototype,
    space_to_depth_1d,
)

FACTORS = (1, 2, 3, 4, 5, 8)
TIMES = (1, 2, 7, 33, 100, 101)
FORMATS = ("channels_last", "channels_first")
OPS = (downsample_sinc_1d, downsample_average_1d, decimate_1d)
# JAX without x64 holds float64 as float32: test there in float32, at float32 tolerance.
FLOAT = np.float32 if BACKEND == "jax" else np.float64
EXACT = 1e-5 if FLOAT == np.float32 else 1e-12
# (factor, kernel_size) of strided convs: kernel shorter than, equal to, a multiple of and
# not a multiple of the factor, and stride 1.
STRIDED_CASES = [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (3, 3),
                 (3, 4), (3, 6), (3, 8), (4, 2), (4, 4), (4, 6), (4, 8), (4, 9), (4, 12)]


def signal(time, data_format, dtype=np.float32, channels=3, seed=0, batch=2):
    x = np.random.default_rng(seed).normal(size=(batch, time, channels)).astype(dtype)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def time_axis(data_format):
    return 1 if data_format == "channels_last" else 2


def channels_last(x, data_format):
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2)


def conv_same(x, kernel, data_format):
    """keras.ops.conv, "same", run channels_last (the reference, not the code under test)."""
    if data_format == "channels_last":
        return keras.ops.conv(x, kernel, padding="same")
    y = keras.ops.conv(keras.ops.transpose(x, (0, 2, 1)), kernel, padding="same")
    return keras.ops.transpose(y, (0, 2, 1))


def strided_reference(x, kernel, factor, data_format):
    """out[t] = sum_k x[t*r + k - p] @ kernel[k], p = max(K - r, 0) // 2, zeros outside;
    ceil(T / r) outputs. Loops in float64."""
    x = channels_last(np.asarray(x, np.float64), data_format)
    kernel = np.asarray(kernel, np.float64)
    size = kernel.shape[0]
    p = max(size - factor, 0) // 2
    batch, time, _ = x.shape
    out = np.zeros((batch, -(-time // factor), kernel.shape[2]))
    for t in range(out.shape[1]):
        for k in range(size):
            j = t * factor + k - p
            if 0 <= j < time:
                out[:, t] += x[:, j] @ kernel[k]
    return channels_last(out, data_format)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- sinc
def test_sinc_prototype_is_scipy_firwin():
    from scipy.signal import firwin

    impulse = np.zeros(21)
    impulse[10] = 1.0  # factor 1: no filter (firwin refuses a cutoff at Nyquist)
    np.testing.assert_allclose(sinc_prototype(1), impulse, rtol=0, atol=1e-15)
    for factor, half_width, beta in ((2, 10, 5.0), (3, 4, 8.0), (4, 10, 5.0)):
        expected = firwin(2 * half_width * factor + 1, 1 / factor, window=("kaiser", beta))
        got = sinc_prototype(factor, half_width, beta)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


def test_sinc_bank_is_built_from_the_prototype():
    h = sinc_prototype(4) * 4
    bank, _ = sinc_bank(4)
    assert bank[10, 0] == h[40] and bank[1, 3] == h[79] and bank[0, 3] == 0


@pytest.mark.parametrize(("factor", "data_format", "time"), sampled_grid(
    [(f, df, t) for f in FACTORS for df in FORMATS for t in TIMES]))
def test_sinc_equals_resample_poly(factor, data_format, time):
    """scipy.signal.resample_poly(x, 1, factor) along time, edges and odd lengths included:
    within 1e-12 in float64 (torch, TF), 1e-5 in float32 (JAX)."""
    from scipy.signal import resample_poly

    x = signal(time, data_format, FLOAT)
    expected = resample_poly(x.astype(np.float64), 1, factor, axis=time_axis(data_format))
    got = to_numpy(downsample_sinc_1d(to_backend(x), factor, data_format))
    assert got.dtype == FLOAT
    assert_close(got, expected, EXACT)


def test_sinc_options_equal_resample_poly_with_that_filter():
    from scipy.signal import firwin, resample_poly

    x = signal(50, "channels_last", FLOAT)
    for factor, half_width, beta in ((2, 4, 8.0), (3, 6, 0.0)):
        h = firwin(2 * half_width * factor + 1, 1 / factor, window=("kaiser", beta))
        expected = resample_poly(x.astype(np.float64), 1, factor, axis=1, window=h)
        got = downsample_sinc_1d(to_backend(x), factor, half_width=half_width,
                                 kaiser_beta=beta)
        assert_close(to_numpy(got), expected, EXACT)


def test_sinc_down_is_the_adjoint_of_sinc_up():
    """<down(x), y> == <x, up(y)> / factor: one prototype, zero edges on both sides."""
    from upsample1d.ops import upsample_sinc_1d

    for factor in (2, 3):
        x = signal(12 * factor, "channels_last", FLOAT)
        y = signal(12, "channels_last", FLOAT, seed=1)
        down = to_numpy(downsample_sinc_1d(to_backend(x), factor)).astype(np.float64)
        up = to_numpy(upsample_sinc_1d(to_backend(y), factor)).astype(np.float64)
        lhs, rhs = np.sum(down * y), np.sum(x * up) / factor
        assert abs(lhs - rhs) <= 10 * EXACT * np.sqrt(x.size), (lhs, rhs)


def test_sinc_suppresses_what_would_alias():
    """Factor 4: a tone above the output Nyquist (0.125 cycles per input sample) is removed
    (> 45 dB down) instead of aliasing; one well below it passes."""
    t = np.arange(4096)
    low = np.sin(2 * np.pi * 0.05 * t)  # 0.4 x the output Nyquist: passes
    high = np.sin(2 * np.pi * 0.2 * t)  # 1.6 x the output Nyquist: would alias to 0.05
    for tone, passes in ((low, True), (high, False)):
        x = to_backend(tone[None, :, None].astype(np.float32))
        y = to_numpy(downsample_sinc_1d(x, 4))[0, 100:-100, 0]
        rms = np.sqrt(np.mean(y ** 2))
        if passes:
            assert 0.68 < rms < 0.73  # a unit sine's rms, 0.707
        else:
            assert rms < 0.707 * 10 ** (-45 / 20)


# ----------------------------------------------------------------------------- average
def average_reference(x, factor, data_format):
    """Mean of each block of ``factor`` samples, the last one over the samples it has."""
    x = channels_last(np.asarray(x, np.float64), data_format)
    blocks = [x[:, s:s + factor].mean(axis=1) for s in range(0, x.shape[1], factor)]
    out = np.stack(blocks, axis=1) if blocks else np.zeros((x.shape[0], 0, x.shape[2]))
    return channels_last(out, data_format)


@pytest.mark.parametrize(("factor", "data_format", "time"), sampled_grid(
    [(f, df, t) for f in FACTORS for df in FORMATS for t in TIMES]))
def test_average_equals_block_means(factor, data_format, time):
    x = signal(time, data_format, FLOAT)
    got = to_numpy(downsample_average_1d(to_backend(x), factor, data_format))
    assert_close(got, average_reference(x, factor, data_format), EXACT)


@pytest.mark.parametrize("factor", FACTORS)
def test_average_equals_keras_average_pooling(factor):
    x = signal(10 * factor, "channels_last")
    expected = keras.layers.AveragePooling1D(factor)(to_backend(x))
    assert_close(to_numpy(downsample_average_1d(to_backend(x), factor)), to_numpy(expected),
                 1e-6)


@pytest.mark.skipif(not has_module("torch"), reason="torch is not installed")
@pytest.mark.parametrize("time", (9, 10, 11, 12))
def test_average_equals_torch_avg_pool_ceil_mode(time):
    import torch

    x = signal(time, "channels_first", np.float64)
    expected = torch.nn.functional.avg_pool1d(torch.from_numpy(x), 4, ceil_mode=True).numpy()
    got = downsample_average_1d(to_backend(x.astype(FLOAT)), 4, "channels_first")
    assert_close(to_numpy(got), expected, EXACT)


# ----------------------------------------------------------------------------- decimation
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_decimate_is_exact_for_every_dtype(factor, data_format):
    """x[:, ::factor] bit for bit (NaN payloads, -0.0, subnormals), any dtype, odd lengths."""
    for dtype in (np.float32, np.float16, ml_dtypes.bfloat16, np.int32, bool):
        for time in (7, 16):
            shape = (2, time, 3) if data_format == "channels_last" else (2, 3, time)
            x = random_bits(shape, dtype, seed=time)
            expected = x[:, ::factor] if data_format == "channels_last" else x[:, :, ::factor]
            got = decimate_1d(to_backend(x), factor, data_format)
            np.testing.assert_array_equal(bits(got), bits(np.ascontiguousarray(expected)))


def test_decimate_is_phase_zero_of_space_to_depth():
    x = to_backend(signal(12, "channels_last"))
    folded = to_numpy(space_to_depth_1d(x, 4))
    np.testing.assert_array_equal(to_numpy(decimate_1d(x, 4)), folded[:, :, :3])


# ----------------------------------------------------------------------------- any prototype
@pytest.mark.parametrize("edge", ["zeros", "replicate"])
@pytest.mark.parametrize(("factor", "taps", "left"), [(2, 5, None), (3, 4, 0), (3, 7, 5),
                                                      (4, 3, 1), (1, 4, 2), (5, 12, 9)])
def test_polyphase_downsample_equals_filter_then_stride(factor, taps, left, edge):
    """A full-rate correlation with the prototype, then every factor-th sample."""
    rng = np.random.default_rng(taps)
    prototype = rng.normal(size=taps)
    lead = (taps - 1) // 2 if left is None else left
    for time in (1, 6, 13):
        x = signal(time, "channels_last", FLOAT)
        mode = "constant" if edge == "zeros" else "edge"
        padded = np.pad(x.astype(np.float64), [(0, 0), (lead, taps), (0, 0)], mode=mode)
        full = sum(prototype[k] * padded[:, k:k + time] for k in range(taps))
        got = polyphase_downsample_1d(to_backend(x), prototype, factor, left=left, edge=edge)
        assert_close(to_numpy(got), full[:, ::factor], EXACT)


# ----------------------------------------------------------------------------- ops, common
@pytest.mark.parametrize("op", OPS)
def test_ops_on_empty_time(op):
    for data_format, shape in (("channels_last", (2, 0, 3)), ("channels_first", (2, 3, 0))):
        y = op(to_backend(np.zeros(shape, np.float32)), 4, data_format)
        assert tuple(y.shape) == shape


@pytest.mark.parametrize("op", OPS)
def test_ops_symbolic_shapes(op):
    assert tuple(op(keras.KerasTensor((None, None, 4)), 3).shape) == (None, None, 4)
    assert tuple(op(keras.KerasTensor((2, 4, 7)), 3, "channels_first").shape) == (2, 4, 3)
    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, op(op(inputs, 2), 3))
    y = model.predict(signal(13, "channels_last", channels=2), verbose=0)
    assert y.shape == (2, 3, 2)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_ops_keep_float_dtype(dtype):
    x = keras.ops.cast(to_backend(signal(9, "channels_last")), dtype)
    for op in OPS:
        assert keras.backend.standardize_dtype(op(x, 2).dtype) == dtype


def test_ops_gradients():
    x = to_backend(signal(12, "channels_last"))
    g = to_backend(np.ones((2, 4, 3), np.float32))
    np.testing.assert_allclose(to_numpy(vjp(lambda v: downsample_average_1d(v, 3), x, g)),
                               1 / 3, rtol=1e-6)
    picked = to_numpy(vjp(lambda v: decimate_1d(v, 3), x, g))
    np.testing.assert_array_equal(picked[:, ::3], 1.0)
    assert picked.sum() == 2 * 4 * 3
    # each input sample feeds outputs whose sinc taps sum to about 1 / factor
    grad = to_numpy(vjp(lambda v: downsample_sinc_1d(v, 3), x, g))
    assert grad.shape == (2, 12, 3) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad[:, 4:-4].mean(), 1 / 3, rtol=0.1)


SLOW_ON_TORCH = [pytest.mark.slow] if BACKEND == "torch" else []


@pytest.mark.parametrize("part", [pytest.param("ops", marks=SLOW_ON_TORCH),
                                  pytest.param("layers", marks=SLOW_ON_TORCH)])
def test_compiled_matches_eager(part):
    """jax.jit, XLA tf.function, torch.compile (aot_eager: Dynamo + AOTAutograd). On torch
    Dynamo's tracing takes ~50 s (ops) and ~2 min (layers) on 2 CPU cores: slow there; the
    default torch run compiles the ops in tests/test_compile.py."""
    layers = [] if part == "ops" else [
        Downsample1D(4, 3, method=m, use_bias=True, bias_initializer="random_normal",
                     data_format=df) for m in DOWNSAMPLERS for df in FORMATS]
    xs = {df: to_backend(signal(16, df, channels=2)) for df in FORMATS}
    for layer in layers:
        layer(xs[layer.downsampler.data_format])

    def fn(x_last, x_first):
        outs = [] if layers else [
            op(x, 3, df) for op in OPS for df, x in (("channels_last", x_last),
                                                     ("channels_first", x_first))]
        outs += [layer(x_last if layer.downsampler.data_format == "channels_last" else x_first)
                 for layer in layers]
        return outs

    eager = [to_numpy(y) for y in fn(xs["channels_last"], xs["channels_first"])]
    if BACKEND == "torch":  # as tests/test_compile.py: the constant banks break the graph
        import torch

        compiled = torch.compile(fn, backend="aot_eager", dynamic=False)
    else:
        compiled = compile_fn(fn)
    got = [to_numpy(y) for y in compiled(xs["channels_last"], xs["channels_first"])]
    for a, b in zip(eager, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_tf_function_with_unknown_batch_and_time():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function input signatures are TensorFlow-only")
    import tensorflow as tf

    layers = {m: Downsample1D(3, 4, method=m) for m in DOWNSAMPLERS}
    for layer in layers.values():
        layer.build((None, None, 2))

    def everything(x):
        return [downsample_sinc_1d(x, 4), downsample_average_1d(x, 4), decimate_1d(x, 4),
                *[layer(x) for layer in layers.values()]]

    traced = tf.function(everything, input_signature=[tf.TensorSpec((None, None, 2))])
    for batch, time in ((1, 8), (2, 9), (3, 15), (1, 1)):
        x = signal(time, "channels_last", channels=2, batch=batch)
        for got, want in zip(traced(x), everything(tf.constant(x)), strict=True):
            assert tuple(got.shape) == (batch, -(-time // 4), got.shape[2])
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert len(traced._list_all_concrete_functions()) == 1


# ----------------------------------------------------------------------------- strided
@pytest.mark.parametrize(("factor", "kernel_size", "data_format"), sampled_grid(
    [(f, k, df) for f, k in STRIDED_CASES for df in FORMATS], every=2))
def test_strided_matches_loops(factor, kernel_size, data_format):
    layer = quiet(StridedConv1D, 4, factor, kernel_size=kernel_size, data_format=data_format,
                  use_bias=True, bias_initializer="random_normal")
    for time in (2 * factor, 2 * factor + 1):  # "same" conv, and the padded path
        x = signal(time, data_format)
        got = to_numpy(layer(to_backend(x)))
        bias = to_numpy(layer.bias)
        bias = bias if data_format == "channels_last" else bias[:, None]
        expected = strided_reference(x, to_numpy(layer.kernel), factor, data_format) + bias
        assert_close(got, expected, 1e-5)
        assert layer.compute_output_shape(x.shape) == got.shape


@pytest.mark.parametrize("data_format", FORMATS)
def test_strided_equals_keras_conv1d_when_factor_divides(data_format):
    for factor, kernel_size in [(2, 4), (4, 8), (3, 9), (4, 3), (3, 5)]:
        layer = quiet(StridedConv1D, 5, factor, kernel_size=kernel_size, use_bias=True,
                      data_format=data_format, bias_initializer="random_normal")
        native = keras.layers.Conv1D(5, kernel_size, strides=factor, padding="same")
        x_last = signal(6 * factor, "channels_last")
        native.build(x_last.shape)
        layer.build(x_last.shape if data_format == "channels_last" else
                    np.swapaxes(x_last, 1, 2).shape)
        native.set_weights(layer.get_weights())
        expected = channels_last(to_numpy(native(to_backend(x_last))), data_format)
        x = to_backend(np.ascontiguousarray(channels_last(x_last, data_format)))
        assert_close(to_numpy(layer(x)), expected, 1e-6)


def test_strided_default_kernel_and_short_kernel_warning():
    assert StridedConv1D(4, 3).kernel_size == 6
    with pytest.warns(UserWarning, match="kernel_size=2 is shorter than factor=4"):
        StridedConv1D(4, 4, kernel_size=2)


# ----------------------------------------------------------------------------- space_to_depth
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_space_to_depth_conv_is_fold_then_conv(mode, data_format):
    layer = SpaceToDepthConv1D(3, 4, kernel_size=3, mode=mode, data_format=data_format,
                               use_bias=True, bias_initializer="random_normal")
    x = to_backend(signal(12, data_format, channels=2))
    y = layer(x)
    expected = conv_same(space_to_depth_1d(x, 4, data_format, mode), layer.kernel, data_format)
    bias = to_numpy(layer.bias) if data_format == "channels_last" else \
        to_numpy(layer.bias)[:, None]
    assert_close(to_numpy(y), to_numpy(expected) + bias, 1e-6)
    # a length the factor does not divide: zero-padded to whole blocks
    x_odd = signal(10, data_format, channels=2)
    padded = np.pad(x_odd, [(0, 0), (0, 2), (0, 0)] if data_format == "channels_last"
                    else [(0, 0), (0, 0), (0, 2)])
    assert_close(to_numpy(layer(to_backend(x_odd))), to_numpy(layer(to_backend(padded))),
                 1e-6)


# ----------------------------------------------------------------------------- conversion
@pytest.mark.parametrize(("factor", "kernel_size", "use_bias"), sampled_grid(
    [(f, k, b) for f, k in STRIDED_CASES for b in (False, True)], every=2))
def test_conversion_both_ways_keeps_outputs(factor, kernel_size, use_bias):
    """Both folding orders; a length every factor divides (12) and one most do not (11)."""
    strided = quiet(StridedConv1D, 4, factor, kernel_size=kernel_size, use_bias=use_bias,
                    bias_initializer="random_normal")
    for mode, time in (("DCR", 12), ("CRD", 11)):
        x = to_backend(signal(time, "channels_last"))
        y = to_numpy(strided(x))
        folded = SpaceToDepthConv1D.from_strided(strided, mode=mode)
        assert folded.kernel_size == kernels.space_to_depth_kernel_size(kernel_size, factor)
        assert folded.mode == mode and folded.use_bias == use_bias
        assert_close(to_numpy(folded(x)), y, 1e-5)
        back = StridedConv1D.from_space_to_depth(folded)
        assert_close(to_numpy(back(x)), y, 1e-5)


@pytest.mark.parametrize(("kernel_size", "mode", "data_format"), sampled_grid(
    [(k, m, df) for k in (1, 2, 3, 4) for m in ("DCR", "CRD") for df in FORMATS], every=2))
def test_space_to_depth_to_strided(kernel_size, mode, data_format):
    folded = SpaceToDepthConv1D(3, 4, kernel_size=kernel_size, mode=mode,
                                data_format=data_format)
    x = to_backend(signal(13, data_format, channels=2))
    y = to_numpy(folded(x))
    strided = StridedConv1D.from_space_to_depth(folded)
    odd = kernel_size % 2
    assert strided.kernel_size == (4 * kernel_size if odd else 4 * kernel_size + 3)
    assert strided.data_format == data_format
    assert_close(to_numpy(strided(x)), y, 1e-5)
    # and back: the same kernel again (the strided kernel's extra taps are zeros)
    again = SpaceToDepthConv1D.from_strided(strided, mode=mode)
    np.testing.assert_array_equal(to_numpy(again.kernel)[-kernel_size:] if not odd else
                                  to_numpy(again.kernel), to_numpy(folded.kernel))


def test_kernel_conversions_are_permutations():
    rng = np.random.default_rng(0)
    for factor, size in STRIDED_CASES:
        kernel = rng.normal(size=(size, 2, 3))
        folded = kernels.strided_to_space_to_depth_kernel(kernel, factor, "crd")
        assert np.count_nonzero(folded) == kernel.size
        np.testing.assert_array_equal(np.sort(folded[folded != 0]), np.sort(kernel.ravel()))
        back = kernels.space_to_depth_to_strided_kernel(folded, factor, "CRD")
        assert np.count_nonzero(back) == kernel.size


def test_conversions_refuse_other_layers():
    with pytest.raises(TypeError, match="built StridedConv1D"):
        SpaceToDepthConv1D.from_strided(SpaceToDepthConv1D(2, 2))
    with pytest.raises(TypeError, match="built SpaceToDepthConv1D"):
        StridedConv1D.from_space_to_depth(StridedConv1D(2, 2))
    with pytest.raises(ValueError, match="multiple of factor=4"):
        kernels.space_to_depth_to_strided_kernel(np.ones((3, 6, 2)), 4)
    unbuilt = Downsample1D(2, 2, method="strided")
    with pytest.raises(TypeError, match="built StridedConv1D"):
        SpaceToDepthConv1D.from_strided(unbuilt)
    unbuilt.build((None, None, 3))
    assert SpaceToDepthConv1D.from_strided(unbuilt).kernel_size == 3


# ----------------------------------------------------------------------------- filtered
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(("method", "op"), [("sinc", downsample_sinc_1d),
                                            ("average", downsample_average_1d)])
def test_filtered_is_op_then_conv(method, op, data_format):
    layer = FilteredDownsample1D(4, 3, method=method, kernel_size=3, data_format=data_format)
    x = to_backend(signal(16, data_format))
    y = layer(x)
    expected = conv_same(op(x, 3, data_format), layer.kernel, data_format)
    assert_close(to_numpy(y), to_numpy(expected), 1e-6)


# ----------------------------------------------------------------------------- all layers
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("method", list(DOWNSAMPLERS))
def test_layers_shapes_and_empty_time(method, data_format):
    layer = Downsample1D(5, 4, method=method, data_format=data_format)
    shape = (None, None, 3) if data_format == "channels_last" else (None, 3, None)
    symbolic = layer(keras.Input(shape[1:]))
    expected = (None, None, 5) if data_format == "channels_last" else (None, 5, None)
    assert tuple(symbolic.shape) == expected
    for time in (0, 1, 9, 16):
        x = signal(time, data_format)
        y = layer(to_backend(x))
        out = -(-time // 4)
        want = (2, out, 5) if data_format == "channels_last" else (2, 5, out)
        assert tuple(y.shape) == want == layer.compute_output_shape(x.shape)
        assert np.all(np.isfinite(to_numpy(y)))


@pytest.mark.parametrize("method", list(DOWNSAMPLERS))
def test_downsample1d_by_name_round_trips(method, tmp_path):
    inputs = keras.Input((None, 3))
    outputs = Downsample1D(4, 2, method=method.upper(), use_bias=True,
                           bias_initializer="random_normal")(inputs)
    model = keras.Model(inputs, outputs)
    config = model.layers[-1].get_config()
    assert config["method"] == method and config["filters"] == 4 and config["factor"] == 2
    x = signal(13, "channels_last")
    expected = model.predict(x, verbose=0)
    assert expected.shape == (2, 7, 4)
    path = tmp_path / f"{method}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    restored = Downsample1D.from_config(config)
    assert restored.get_config() == config
    assert type(restored.downsampler) is type(model.layers[-1].downsampler)


@pytest.mark.parametrize("cls", [StridedConv1D, SpaceToDepthConv1D, FilteredDownsample1D])
def test_layer_config_round_trip(cls):
    layer = cls(4, 3, kernel_size=5, data_format="channels_first", use_bias=True,
                kernel_regularizer="l2", name="down")
    config = layer.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert keras.saving.get_registered_name(cls) == f"upsample1d>{cls.__name__}"


def test_mixed_precision_bfloat16():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        for method in DOWNSAMPLERS:
            layer = Downsample1D(3, 2, method=method, use_bias=True)
            y = layer(signal(9, "channels_last"))
            assert keras.backend.standardize_dtype(y.dtype) == "bfloat16", method
            assert all(keras.backend.standardize_dtype(v.dtype) == "float32"
                       for v in layer.weights)
            assert np.all(np.isfinite(to_numpy(keras.ops.cast(y, "float32"))))
    finally:
        keras.config.set_dtype_policy(previous)


def test_layers_refuse_integer_input_and_unknown_channels():
    with pytest.raises(TypeError, match="floating-point input, got dtype int32"):
        Downsample1D(2, 2, method="sinc")(np.zeros((1, 4, 2), np.int32))
    for layer in (StridedConv1D(2, 2), SpaceToDepthConv1D(2, 2), FilteredDownsample1D(2, 2)):
        with pytest.raises(ValueError, match="known channel dimension"):
            layer.build((None, None, None))


# ----------------------------------------------------------------------------- demucs_like
def _audio(batch, length):
    t = np.arange(length) / 32.0
    phase = np.random.default_rng(0).uniform(0, 2 * np.pi, size=(batch, 1, 1))
    return (0.5 * np.sin(t[None, :, None] + phase)).astype("float32")


def test_demucs_like_default_downsampler_is_unchanged():
    model = demucs_like("subpixel", length=64, depth=2, channels=4, lstm_layers=0)
    same = demucs_like("subpixel", length=64, depth=2, channels=4, lstm_layers=0,
                       downsampler="Strided")
    assert model.name == same.name == "demucs_like_subpixel"
    assert [type(layer) for layer in model.layers] == [type(layer) for layer in same.layers]
    assert model.get_config() == same.get_config()
    conv = model.get_layer("encoder0_conv")
    assert type(conv) is keras.layers.Conv1D and conv.strides == (4,)


@pytest.mark.parametrize("downsampler", ["space_to_depth", "sinc", "average"])
def test_demucs_like_downsampler_builds_trains_and_saves(downsampler, tmp_path):
    keras.utils.set_random_seed(0)
    model = demucs_like("subpixel", length=64, depth=2, channels=4, lstm_layers=0,
                        downsampler=downsampler, bias=False, first_relu=False)
    assert model.name == f"demucs_like_subpixel_down_{downsampler}_modified"
    down = model.get_layer("encoder1_down")
    assert isinstance(down, Downsample1D) and down.method == downsampler
    assert down.filters == 8 and down.downsampler.use_bias is False
    with pytest.raises(ValueError):
        model.get_layer("encoder0_relu")  # first_relu=False
    x = _audio(2, 64)
    model.compile(optimizer=keras.optimizers.SGD(1e-2), loss="mse")
    loss = model.train_on_batch(x, x)
    assert np.isfinite(loss)
    want = to_numpy(model(x))
    path = tmp_path / "demucs.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(to_numpy(loaded(x)), want, rtol=1e-5, atol=1e-6)


def test_demucs_like_downsampler_options_factory_and_errors():
    model = demucs_like("nearest", length=64, depth=2, channels=4, lstm_layers=0,
                        downsampler="space_to_depth", downsampler_options={"kernel_size": 1})
    assert model.get_layer("encoder0_down").downsampler.kernel_size == 1
    model = demucs_like("nearest", length=64, depth=2, channels=4, lstm_layers=0,
                        downsampler=lambda filters, factor, name: keras.layers.Conv1D(
                            filters, factor, strides=factor, name=name))
    assert model.name == "demucs_like_nearest_down_custom"
    assert model.output_shape == (None, 64, 1)
    with pytest.raises(ValueError, match="downsampler='pool'"):
        demucs_like("nearest", length=64, depth=2, downsampler="pool")
