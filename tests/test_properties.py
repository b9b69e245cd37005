"""Property tests (hypothesis) over random shapes, factors, modes and data formats.

Reproducible in CI: ``derandomize=True`` (examples derived from the test itself), modest
``max_examples``, no deadline (first calls compile kernels on some backends).
"""

import keras
import numpy as np
from conftest import BACKEND, bits, to_backend, vjp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upsample1d.layers import (
    InterpolationUpsample1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
)
from upsample1d.ops import (
    depth_to_space_1d,
    space_to_depth_1d,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
FORMATS = st.sampled_from(["channels_last", "channels_first"])
MODES = st.sampled_from(["DCR", "CRD"])
FACTORS = st.integers(1, 5)
INTERPOLATIONS = {"nearest": upsample_nearest_1d, "linear": upsample_linear_1d,
                  "sinc": upsample_sinc_1d}


def layout(array_btc, data_format):
    """(B, T, C) NumPy array in ``data_format``."""
    return array_btc if data_format == "channels_last" else np.swapaxes(array_btc, 1, 2)


def as_btc(x, data_format):
    x = np.asarray(keras.ops.convert_to_numpy(x))
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2)


def normal(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ----------------------------------------------------------------------------- round trips
@SETTINGS
@given(batch=st.integers(1, 3), time=st.integers(1, 6), channels=st.integers(1, 4), r=FACTORS,
       data_format=FORMATS, mode=MODES, seed=st.integers(0, 2**16))
def test_inverse_round_trips(batch, time, channels, r, data_format, mode, seed):
    x = layout(normal((batch, time, channels * r), seed), data_format)
    up = depth_to_space_1d(to_backend(x), r, data_format, mode)
    np.testing.assert_array_equal(bits(space_to_depth_1d(up, r, data_format, mode)), bits(x))
    y = layout(normal((batch, time * r, channels), seed + 1), data_format)
    down = space_to_depth_1d(to_backend(y), r, data_format, mode)
    np.testing.assert_array_equal(bits(depth_to_space_1d(down, r, data_format, mode)), bits(y))


# ----------------------------------------------------------------------------- composition
@SETTINGS
@given(time=st.integers(1, 4), channels=st.integers(1, 3), r1=FACTORS, r2=FACTORS,
       data_format=FORMATS)
def test_dcr_shuffles_compose(time, channels, r1, r2, data_format):
    """DCR: shuffling by ``r1`` then by ``r2`` is one shuffle by ``r1*r2``, in either order.

    With ``C`` output channels, the first shuffle (``r1``, ``r2*C`` channels out) then the
    second give ``out[(t*r1 + i1)*r2 + i2, c] = x[t, (i1*r2 + i2)*C + c]``, and the single
    shuffle by ``R = r1*r2`` with ``i = i1*r2 + i2`` gives the same element: in DCR the phase
    index is the more significant digit on both sides (in channels_last the three ops are all
    plain reshapes). The order does not depend on data_format, so neither does this. The same
    holds for space_to_depth_1d (the inverses, composed in reverse order).
    """
    x = layout(np.arange(2 * time * r1 * r2 * channels, dtype=np.int32)
               .reshape(2, time, r1 * r2 * channels), data_format)
    once = depth_to_space_1d(to_backend(x), r1 * r2, data_format, "DCR")
    for a, b in ((r1, r2), (r2, r1)):
        twice = depth_to_space_1d(depth_to_space_1d(to_backend(x), a, data_format, "DCR"), b,
                                  data_format, "DCR")
        np.testing.assert_array_equal(bits(twice), bits(once))
        folded = space_to_depth_1d(space_to_depth_1d(once, a, data_format, "DCR"), b,
                                   data_format, "DCR")
        np.testing.assert_array_equal(bits(folded), bits(x))


@SETTINGS
@given(time=st.integers(1, 4), channels=st.integers(1, 3), r1=st.integers(2, 4),
       r2=st.integers(2, 4), data_format=FORMATS)
def test_crd_shuffles_compose_with_reversed_phase_digits(time, channels, r1, r2, data_format):
    """CRD: shuffling by ``r1`` then ``r2`` is *not* one shuffle by ``r1*r2``, in either order.

    The composite gives ``out[(t*r1 + i1)*r2 + i2, c] = x[t, c*r1*r2 + i2*r1 + i1]`` while the
    single CRD shuffle reads ``x[t, c*r1*r2 + i1*r2 + i2]``: in CRD the phase digit that ends up
    most significant in time is the least significant in channels. So the composite equals the
    single CRD shuffle by ``r1*r2`` after the two phase digits of the channel axis are swapped,
    i.e. channels viewed as ``(C, r2, r1)`` transposed to ``(C, r1, r2)``; checked here, along
    with the inequality for ``r1, r2 >= 2`` (PyTorch's PixelShuffle has the same property).
    """
    x_btc = np.arange(2 * time * r1 * r2 * channels, dtype=np.int32).reshape(
        2, time, r1 * r2 * channels)
    twice = depth_to_space_1d(depth_to_space_1d(to_backend(layout(x_btc, data_format)), r1,
                                                data_format, "CRD"), r2, data_format, "CRD")
    swapped = x_btc.reshape(2, time, channels, r2, r1).swapaxes(3, 4).reshape(x_btc.shape)
    once = depth_to_space_1d(to_backend(layout(swapped, data_format)), r1 * r2, data_format,
                             "CRD")
    np.testing.assert_array_equal(bits(twice), bits(once))
    plain = depth_to_space_1d(to_backend(layout(x_btc, data_format)), r1 * r2, data_format,
                              "CRD")
    assert not np.array_equal(bits(twice), bits(plain))


# ----------------------------------------------------------------------------- linearity
@SETTINGS
@given(name=st.sampled_from(["nearest", "linear", "sinc", "d2s", "s2d"]), r=FACTORS,
       time=st.integers(1, 12), channels=st.integers(1, 3), data_format=FORMATS,
       a=st.floats(-3, 3), b=st.floats(-3, 3), seed=st.integers(0, 2**16))
def test_fixed_upsamplers_are_linear(name, r, time, channels, data_format, a, b, seed):
    if name in INTERPOLATIONS:
        def op(v):
            return INTERPOLATIONS[name](v, r, data_format)
        shape = (2, time, channels)
    elif name == "d2s":
        def op(v):
            return depth_to_space_1d(v, r, data_format, "CRD")
        shape = (2, time, channels * r)
    else:
        def op(v):
            return space_to_depth_1d(v, r, data_format, "CRD")
        shape = (2, time * r, channels)
    x, y = (layout(normal(shape, seed + k), data_format) for k in (0, 1))
    a, b = np.float32(a), np.float32(b)
    mixed = as_btc(op(to_backend(a * x + b * y)), data_format)
    separate = a * as_btc(op(to_backend(x)), data_format) + b * as_btc(op(to_backend(y)),
                                                                     data_format)
    np.testing.assert_allclose(mixed, separate, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------- time shift
def _shift_cases(r, data_format):
    """(name, function, input channels, shift of the output per input step, edge margin)."""
    keras.utils.set_random_seed(r)
    cases = [
        ("nearest", lambda v: upsample_nearest_1d(v, r, data_format), 2, r, 0),
        ("linear", lambda v: upsample_linear_1d(v, r, data_format), 2, r, r),
        ("sinc", lambda v: upsample_sinc_1d(v, r, data_format, half_width=4), 2, r, 5 * r),
        ("d2s", lambda v: depth_to_space_1d(v, r, data_format, "DCR"), 2 * r, r, 0),
    ]
    for layer in (SubpixelConv1D(2, r, kernel_size=3, data_format=data_format),
                  TransposedConvUpsample1D(2, r, data_format=data_format),
                  InterpolationUpsample1D(2, r, method="linear", kernel_size=3,
                                          data_format=data_format)):
        cases.append((type(layer).__name__, layer, 2, r, 4 * r))
    return cases


@settings(max_examples=6, deadline=None, derandomize=True, database=None)
@given(r=st.integers(1, 4), data_format=FORMATS, seed=st.integers(0, 2**16))
def test_equivariant_to_a_one_sample_time_shift(r, data_format, seed):
    """Delaying the input by one sample delays the output by ``r`` samples, away from edges
    (and a delay of ``r`` input samples is one output step of space_to_depth)."""
    time = 16
    for name, fn, channels, shift, margin in _shift_cases(r, data_format):
        x = normal((2, time + 1, channels), seed)
        early = as_btc(fn(to_backend(layout(x[:, 1:], data_format))), data_format)
        late = as_btc(fn(to_backend(layout(x[:, :-1], data_format))), data_format)
        stop = early.shape[1] - shift - margin
        np.testing.assert_allclose(early[:, margin:stop], late[:, margin + shift:stop + shift],
                                   rtol=1e-5, atol=1e-5, err_msg=name)
    x = normal((2, (time + 1) * r, 2), seed)
    early = as_btc(space_to_depth_1d(to_backend(layout(x[:, r:], data_format)), r, data_format),
                   data_format)
    late = as_btc(space_to_depth_1d(to_backend(layout(x[:, :-r], data_format)), r,
                                    data_format), data_format)
    np.testing.assert_array_equal(early[:, :-1], late[:, 1:])


# ----------------------------------------------------------------------------- gradients
def _float_dtype():
    if BACKEND == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            return np.float32, 1e-2, 2e-3  # dtype, step, relative tolerance
    return np.float64, 1e-4, 1e-7


@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(name=st.sampled_from(sorted(INTERPOLATIONS)), r=FACTORS, time=st.integers(1, 8),
       data_format=FORMATS, seed=st.integers(0, 2**16))
def test_interpolation_gradients_match_finite_differences(name, r, time, data_format, seed):
    """Directional derivatives of ``sum(op(x) * g)`` along random ``v`` against central
    differences (float64; float32 with looser tolerances on JAX without x64)."""
    dtype, step, tolerance = _float_dtype()
    rng = np.random.default_rng(seed)
    shape = (2, time, 3) if data_format == "channels_last" else (2, 3, time)
    x = rng.normal(size=shape).astype(dtype)

    def op(v):
        return INTERPOLATIONS[name](v, r, data_format)

    out_shape = tuple(op(to_backend(x)).shape)
    g = rng.normal(size=out_shape).astype(dtype)

    def loss(v):
        return float(np.sum(np.asarray(keras.ops.convert_to_numpy(op(to_backend(v)))) * g,
                            dtype=np.float64))

    grad = np.asarray(keras.ops.convert_to_numpy(vjp(op, to_backend(x), to_backend(g))))
    assert grad.dtype == dtype and grad.shape == x.shape
    for k in range(3):
        v = np.random.default_rng(seed + 10 + k).normal(size=shape).astype(dtype)
        numeric = (loss(x + step * v) - loss(x - step * v)) / (2 * step)
        analytic = float(np.sum(grad.astype(np.float64) * v))
        scale = np.sqrt(np.sum(grad.astype(np.float64) ** 2) * np.sum(v.astype(np.float64) ** 2))
        assert abs(numeric - analytic) <= tolerance * max(scale, 1.0), (numeric, analytic)
