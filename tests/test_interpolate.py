"""Nearest, linear and sinc interpolation against the framework-native versions."""

import keras
import ml_dtypes
import numpy as np
import pytest
from conftest import bits, has_module, random_bits, to_backend, to_numpy

import backends
from upsample1d.ops import (
    linear_bank,
    polyphase_upsample_1d,
    sinc_bank,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)

FACTORS = (1, 2, 3, 4, 5, 8)
TIMES = (1, 2, 7, 100)
FORMATS = ("channels_last", "channels_first")
FRAMEWORKS = [pytest.param(name, marks=() if has_module(name) else pytest.mark.skip(
    reason=f"{name} is not installed")) for name in ("torch", "tensorflow", "jax")]


def signal(time, data_format, dtype=np.float32, seed=0, channels=3):
    x = np.random.default_rng(seed).normal(size=(2, time, channels)).astype(dtype)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def assert_close(got, expected, rtol):
    """|got - expected| <= rtol * max(|expected|, scale): relative, with the signal's scale
    as the floor so values near zero are not judged on noise."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape
    scale = np.max(np.abs(expected)) if expected.size else 1.0
    error = np.abs(got - expected) / np.maximum(np.abs(expected), scale)
    assert error.max(initial=0) <= rtol, f"max relative error {error.max():.3g} > {rtol}"


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_nearest_is_exact_repetition(factor, data_format):
    for dtype in (np.float32, ml_dtypes.bfloat16, np.int32, bool):
        x = random_bits((2, 7, 3) if data_format == "channels_last" else (2, 3, 7), dtype)
        expected = backends.load("numpy").upsample_nearest_1d(x, factor, data_format)
        got = upsample_nearest_1d(to_backend(x), factor, data_format)
        np.testing.assert_array_equal(bits(got), bits(expected))


@pytest.mark.parametrize("factor", FACTORS)
def test_nearest_equals_keras_upsampling1d(factor):
    x = signal(50, "channels_last")
    expected = keras.layers.UpSampling1D(factor)(to_backend(x))
    np.testing.assert_array_equal(to_numpy(upsample_nearest_1d(to_backend(x), factor)),
                                  to_numpy(expected))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_nearest_equals_native(framework, factor, data_format):
    x = signal(33, data_format)
    expected = backends.load(framework).upsample_nearest_1d(x, factor, data_format)
    np.testing.assert_array_equal(to_numpy(upsample_nearest_1d(to_backend(x), factor,
                                                               data_format)), expected)


@pytest.mark.parametrize("time", TIMES)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_linear_matches_exact_reference(factor, data_format, time):
    """Within 1e-6 relative of half-pixel linear interpolation computed in float64, edges
    included."""
    x = signal(time, data_format)
    expected = backends.load("numpy").upsample_linear_1d(x.astype(np.float64), factor,
                                                         data_format)
    assert_close(to_numpy(upsample_linear_1d(to_backend(x), factor, data_format)), expected,
                 1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_linear_matches_native(framework, factor, data_format):
    """torch F.interpolate(linear, align_corners=False), tf.image.resize(bilinear),
    jax.image.resize(linear). torch in float64 agrees within 1e-6 relative. In float32 the
    natives round their source coordinates (scale * (j + 0.5) - 0.5 in float32; TF does so
    even for float64 input), which costs up to ~1e-5 relative at j ~ 500 for factors that are
    not powers of two: there the bound is 3e-5."""
    native = backends.load(framework)
    x = signal(100, data_format)
    got = to_numpy(upsample_linear_1d(to_backend(x), factor, data_format))
    if framework == "torch":
        assert_close(got, native.upsample_linear_1d(x.astype(np.float64), factor, data_format),
                     1e-6)
    power_of_two = factor & (factor - 1) == 0
    assert_close(got, native.upsample_linear_1d(x, factor, data_format),
                 1e-6 if power_of_two else 3e-5)


@pytest.mark.parametrize("time", TIMES)
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("factor", FACTORS)
def test_sinc_matches_resample_poly(factor, data_format, time):
    x = signal(time, data_format)
    expected = backends.load("numpy").upsample_sinc_1d(x.astype(np.float64), factor,
                                                       data_format)
    assert_close(to_numpy(upsample_sinc_1d(to_backend(x), factor, data_format)), expected,
                 1e-5)


def test_sinc_bank_is_scipy_firwin():
    from scipy.signal import firwin

    for factor in (2, 3, 4):
        bank, (left, right) = sinc_bank(factor)
        h = firwin(20 * factor + 1, 1 / factor, window=("kaiser", 5.0)) * factor
        assert left == right == 10
        # tap n, phase i multiplies x[t + n - 10] and is h[(10 - n)*r + i + 10r]
        for n in range(21):
            for i in range(factor):
                index = (20 - n) * factor + i
                expected = h[index] if index <= 20 * factor else 0.0
                assert bank[n, i] == pytest.approx(expected, abs=1e-15)


def test_linear_bank_phases_sum_to_one():
    for factor in FACTORS:
        np.testing.assert_allclose(linear_bank(factor).sum(axis=0), 1.0)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_interpolation_keeps_float_dtype(dtype):
    x = keras.ops.cast(to_backend(signal(9, "channels_last")), dtype)
    for op in (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d):
        assert keras.backend.standardize_dtype(op(x, 2).dtype) == dtype


def test_symbolic_shapes():
    x = keras.KerasTensor((None, None, 4))
    for op in (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d):
        assert tuple(op(x, 3).shape) == (None, None, 4)
        assert tuple(op(keras.KerasTensor((2, 4, 5)), 3, "channels_first").shape) == (2, 4, 15)
    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, upsample_sinc_1d(upsample_linear_1d(inputs, 2), 2))
    assert model.predict(np.ones((1, 6, 2), np.float32), verbose=0).shape == (1, 24, 2)


def test_gradients_flow():
    from conftest import vjp

    x = to_backend(signal(12, "channels_last"))
    g = to_backend(np.ones((2, 36, 3), np.float32))
    for op in (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d):
        grad = to_numpy(vjp(lambda v, op=op: op(v, 3), x, g))
        # each input sample feeds outputs whose weights sum to about factor (edges differ)
        assert grad.shape == (2, 12, 3)
        np.testing.assert_allclose(grad[:, 4:-4], 3.0, rtol=2e-2)


@pytest.mark.parametrize("op", [upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d])
def test_errors(op):
    x = np.zeros((1, 4, 2), np.float32)
    with pytest.raises(ValueError, match="factor=0"):
        op(x, 0)
    with pytest.raises(TypeError, match="factor"):
        op(x, 2.5)
    with pytest.raises(ValueError, match="data_format='NCW'"):
        op(x, 2, "NCW")
    with pytest.raises(ValueError, match=r"rank-3 input.*\(4, 2\)"):
        op(np.zeros((4, 2), np.float32), 2)


@pytest.mark.parametrize("op", [upsample_linear_1d, upsample_sinc_1d])
def test_integer_input_refused_by_filters(op):
    with pytest.raises(TypeError, match="floating-point input, got dtype int32"):
        op(np.zeros((1, 4, 2), np.int32), 2)


def test_sinc_and_polyphase_argument_errors():
    x = np.zeros((1, 4, 2), np.float32)
    with pytest.raises(ValueError, match="half_width=0"):
        upsample_sinc_1d(x, 2, half_width=0)
    with pytest.raises(ValueError, match="kaiser_beta=-1"):
        upsample_sinc_1d(x, 2, kaiser_beta=-1)
    with pytest.raises(ValueError, match="pad=\\(0, 0\\)"):
        polyphase_upsample_1d(to_backend(x), np.ones((3, 2)), (0, 0))
    with pytest.raises(ValueError, match="edge='wrap'"):
        polyphase_upsample_1d(to_backend(x), np.ones((3, 2)), (1, 1), edge="wrap")
