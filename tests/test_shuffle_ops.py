"""Properties of the shuffle ops: round trips, dtypes, gradients, symbolic shapes, compilers,
errors."""

import itertools

import keras
import numpy as np
import pytest
from conftest import (
    BACKEND,
    DTYPES,
    bits,
    compile_fn,
    keras_device,
    random_bits,
    requires_gpu,
    to_backend,
    vjp,
)

from upsample1d.ops import (
    depth_to_space_1d,
    space_to_depth_1d,
)

FORMATS = ("channels_last", "channels_first")
MODES = ("DCR", "CRD")
FORMAT_MODES = list(itertools.product(FORMATS, MODES))


def shape_for(data_format, batch, time, depth):
    return (batch, time, depth) if data_format == "channels_last" else (batch, depth, time)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize(("data_format", "mode"), FORMAT_MODES)
def test_round_trip_keeps_every_bit(dtype, data_format, mode):
    if dtype == "float64" and BACKEND == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX has no float64 unless jax_enable_x64 is set")
    x = random_bits(shape_for(data_format, 2, 5, 12), DTYPES[dtype], seed=1)
    y = depth_to_space_1d(to_backend(x), 3, data_format, mode)
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    back = space_to_depth_1d(y, 3, data_format, mode)
    np.testing.assert_array_equal(bits(back), bits(x))
    folded = space_to_depth_1d(to_backend(x), 5, data_format, mode)
    np.testing.assert_array_equal(bits(depth_to_space_1d(folded, 5, data_format, mode)), bits(x))


def test_nan_and_negative_zero_survive():
    x = np.array([[[np.nan, -0.0, np.inf, -np.inf, 1e-45, -1.0]]], np.float32)
    y = depth_to_space_1d(to_backend(x), 2)
    np.testing.assert_array_equal(bits(y).ravel(), bits(x).ravel())


@pytest.mark.parametrize(("data_format", "mode"), FORMAT_MODES)
def test_index_formula(data_format, mode):
    r, channels, time = 3, 2, 4
    x = np.arange(2 * time * r * channels, dtype=np.int32).reshape(2, time, r * channels)
    got = keras.ops.convert_to_numpy(
        depth_to_space_1d(to_backend(np.swapaxes(x, 1, 2) if data_format == "channels_first"
                                     else x), r, data_format, mode))
    if data_format == "channels_first":
        got = np.swapaxes(got, 1, 2)
    for b, t, i, c in itertools.product(range(2), range(time), range(r), range(channels)):
        source = i * channels + c if mode == "DCR" else c * r + i
        assert got[b, t * r + i, c] == x[b, t, source]


def test_channels_last_dcr_is_a_view_in_torch():
    if BACKEND != "torch":
        pytest.skip("views are a torch notion")
    x = to_backend(np.zeros((2, 3, 8), np.float32))
    assert depth_to_space_1d(x, 4).data_ptr() == x.data_ptr()


def test_block_size_one_is_identity():
    x = random_bits((2, 3, 5), np.float32)
    for data_format, mode in FORMAT_MODES:
        np.testing.assert_array_equal(bits(depth_to_space_1d(to_backend(x), 1, data_format,
                                                             mode)), bits(x))


@pytest.mark.parametrize(("data_format", "mode"), FORMAT_MODES)
def test_gradient_is_the_inverse_op(data_format, mode):
    x = to_backend(np.random.default_rng(0).normal(size=shape_for(data_format, 2, 5, 8))
                   .astype(np.float32))
    g = to_backend(np.random.default_rng(1).normal(size=shape_for(data_format, 2, 20, 2))
                   .astype(np.float32))
    grad = vjp(lambda v: depth_to_space_1d(v, 4, data_format, mode), x, g)
    np.testing.assert_array_equal(bits(grad), bits(space_to_depth_1d(g, 4, data_format, mode)))
    grad = vjp(lambda v: space_to_depth_1d(v, 4, data_format, mode), g, x)
    np.testing.assert_array_equal(bits(grad), bits(depth_to_space_1d(x, 4, data_format, mode)))


@pytest.mark.parametrize(("data_format", "mode"), FORMAT_MODES)
def test_compiled_matches_eager(data_format, mode):
    x = random_bits(shape_for(data_format, 2, 6, 8), np.float32, seed=3)

    def up_down(v):
        return depth_to_space_1d(v, 4, data_format, mode), space_to_depth_1d(v, 2, data_format,
                                                                             mode)

    eager = up_down(to_backend(x))
    compiled = compile_fn(up_down)(to_backend(x))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_array_equal(bits(a), bits(b))


@pytest.mark.parametrize(("data_format", "mode"), FORMAT_MODES)
def test_symbolic_shapes_with_unknown_batch_and_time(data_format, mode):
    x = keras.KerasTensor(shape_for(data_format, None, None, 12), dtype="bfloat16")
    y = depth_to_space_1d(x, 4, data_format, mode)
    assert tuple(y.shape) == shape_for(data_format, None, None, 3)
    assert y.dtype == "bfloat16"
    z = space_to_depth_1d(x, 2, data_format, mode)
    assert tuple(z.shape) == shape_for(data_format, None, None, 24)
    known = keras.KerasTensor(shape_for(data_format, 2, 8, 12))
    assert tuple(depth_to_space_1d(known, 3, data_format, mode).shape) == shape_for(
        data_format, 2, 24, 4)
    assert tuple(space_to_depth_1d(known, 4, data_format, mode).shape) == shape_for(
        data_format, 2, 2, 48)


def test_functional_model_on_unknown_time_runs_several_lengths():
    inputs = keras.Input((None, 8))
    model = keras.Model(inputs, space_to_depth_1d(depth_to_space_1d(inputs, 4), 4))
    for time in (1, 5, 16):
        x = np.random.default_rng(time).normal(size=(2, time, 8)).astype(np.float32)
        np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_operations_are_private_keras_operations():
    from upsample1d.ops.shuffle import _ShuffleOp

    assert isinstance(_ShuffleOp(2, "channels_last", "DCR", False), keras.Operation)
    spec = _ShuffleOp(2, "channels_first", "crd", True).compute_output_spec(
        keras.KerasTensor((None, 3, 8)))
    assert tuple(spec.shape) == (None, 6, 4)
    # The 0.1 public names still work, with a deprecation warning.
    import upsample1d.ops

    with pytest.warns(DeprecationWarning, match="private since 0.2"):
        old = upsample1d.ops.SpaceToDepth1D
    assert tuple(old(2, "channels_first", "crd").compute_output_spec(
        keras.KerasTensor((None, 3, 8))).shape) == (None, 6, 4)


@requires_gpu
def test_runs_on_the_gpu_and_stays_there():
    x = to_backend(random_bits((2, 64, 32), np.float32))
    y = depth_to_space_1d(x, 4, "channels_first", "CRD")
    device = str(next(iter(y.devices())) if BACKEND == "jax" else y.device).lower()
    assert "gpu" in device or "cuda" in device, device
    assert keras_device() in device or device in keras_device()


# ----------------------------------------------------------------------------- errors
OPS = [depth_to_space_1d, space_to_depth_1d]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    ("block_size", "error", "words"),
    [
        (0, ValueError, "block_size=0"),
        (-2, ValueError, "block_size=-2"),
        (True, TypeError, "True"),
        (False, TypeError, "False"),
        (2.0, TypeError, "2.0"),
        ("2", TypeError, "'2'"),
        (None, TypeError, "None"),
    ],
)
def test_bad_block_size(op, block_size, error, words):
    with pytest.raises(error, match="block_size") as info:
        op(np.zeros((1, 4, 4), np.float32), block_size)
    assert words in str(info.value)
    with pytest.raises(error, match="block_size"):
        op(keras.KerasTensor((None, 4, 4)), block_size)


def test_numpy_integer_block_size_is_accepted():
    assert tuple(depth_to_space_1d(np.zeros((1, 2, 4), np.float32), np.int64(2)).shape) == (1, 4, 2)


@pytest.mark.parametrize("symbolic", [False, True])
def test_channels_not_divisible(symbolic):
    x = keras.KerasTensor((None, 5, 6)) if symbolic else np.zeros((1, 5, 6), np.float32)
    with pytest.raises(ValueError, match=r"channel axis \(6\) must be divisible by block_size=4"):
        depth_to_space_1d(x, 4)
    x = keras.KerasTensor((None, 6, 5)) if symbolic else np.zeros((1, 6, 5), np.float32)
    with pytest.raises(ValueError, match=r"channel axis \(6\) .*channels_first"):
        depth_to_space_1d(x, 4, "channels_first")


@pytest.mark.parametrize("symbolic", [False, True])
def test_time_not_divisible(symbolic):
    x = keras.KerasTensor((None, 7, 2)) if symbolic else np.zeros((1, 7, 2), np.float32)
    with pytest.raises(ValueError, match=r"time axis \(7\) must be divisible by block_size=2"):
        space_to_depth_1d(x, 2)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", [(4,), (4, 4), (1, 4, 4, 1)])
def test_rank_not_three(op, shape):
    with pytest.raises(ValueError, match=f"rank-3 input.*rank {len(shape)}"):
        op(np.zeros(shape, np.float32), 2)
    with pytest.raises(ValueError, match="rank-3"):
        op(keras.KerasTensor(shape), 2)


@pytest.mark.parametrize("op", OPS)
def test_unknown_data_format_and_mode(op):
    with pytest.raises(ValueError, match="data_format='NWC'"):
        op(np.zeros((1, 4, 4), np.float32), 2, data_format="NWC")
    with pytest.raises(ValueError, match="mode='RDC'"):
        op(np.zeros((1, 4, 4), np.float32), 2, mode="RDC")
    with pytest.raises(ValueError, match="mode=None"):
        op(keras.KerasTensor((1, 4, 4)), 2, mode=None)
