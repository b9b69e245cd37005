"""Bit-exact parity of the shuffle ops against the native references in ``backends/``.

Grid: block sizes {1, 2, 3, 4, 8} x channels {r, 3r, 64r} x time {1, 7, 4096} x batch {1, 3}
x both data formats x both modes, for both ops, x float32 / bfloat16 / int32.

The default run takes a third of the cells (a fixed sample that covers every op, block size,
data format and mode); ``-m slow`` runs the rest of the grid.

A shuffle is an index permutation, so each reference is run once per cell on ``arange`` and
gives the permutation it performs. The ops under test are then run on random bit patterns of
each dtype (NaN payloads, infinities, subnormals, -0.0) and must equal, bit for bit, the input
gathered through TensorFlow's permutation (the seed's ``batch_to_space`` layer) and through
PyTorch's. TensorFlow's permutations are stored in tests/fixtures (made by TF on the CPU), so
a GPU machine without TensorFlow still compares to TF's own output; where TF is installed the
live reference is checked against the fixtures as well.
"""

import functools
import os
import sys
import zlib

import numpy as np
import pytest
from conftest import BACKEND, DTYPES, bits, has_module, random_bits, to_backend

import backends
from upsample1d.ops import depth_to_space_1d, space_to_depth_1d
from upsample1d.ops.shuffle import shuffled_shape

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures"))
import make_tf_fixtures as fixtures  # noqa: E402

OPS = {"d2s": depth_to_space_1d, "s2d": space_to_depth_1d}
REFERENCE_FN = {"d2s": "depth_to_space_1d", "s2d": "space_to_depth_1d"}
CELLS = [(op, *cell) for op in OPS for cell in fixtures.grid()]
GRID_DTYPES = ("float32", "bfloat16", "int32")


def cell_id(cell):
    op, r, multiple, time, batch, data_format, mode = cell
    return f"{op}-r{r}-C{multiple}r-T{time}-B{batch}-{data_format[9:]}-{mode}"


def sampled(cell):
    """Whether ``cell`` is in the default run's fixed third of the grid."""
    return zlib.crc32(cell_id(cell).encode()) % 3 == 0


def marks(cell, *more):
    return (*more, *(() if sampled(cell) else (pytest.mark.slow,)))


def input_shape(cell):
    op, r, multiple, time, batch, data_format, _ = cell
    if op == "d2s":
        return fixtures.input_shape(r, multiple, time, batch, data_format)
    # space_to_depth_1d takes what depth_to_space_1d gives
    if data_format == "channels_last":
        return (batch, time * r, multiple)
    return (batch, multiple, time * r)


@functools.cache
def stored():
    return np.load(fixtures.PATH)


@functools.lru_cache(maxsize=8)
def permutation(reference, cell):
    """The flat source index of every output element, as ``reference`` computes it."""
    op, r, multiple, time, batch, data_format, mode = cell
    shape = input_shape(cell)
    if reference == "tf-fixture":
        out_shape = shuffled_shape(shape, r, data_format, inverse=op == "s2d")
        key = fixtures.key(op, r, multiple, time, batch, data_format, mode)
        return fixtures.decode(stored()[key], tuple(out_shape)).astype(np.int32)
    index = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    return getattr(backends.load(reference), REFERENCE_FN[op])(index, r, data_format, mode)


def reference_params():
    # Cell-major order, so the permutation cache serves each cell's references in turn.
    params = []
    for cell in CELLS:
        for name in ("tensorflow", "torch", "jax", "numpy"):
            skip = () if has_module(name) else (pytest.mark.skip(reason=f"{name} not installed"),)
            params.append(pytest.param(cell, name, marks=marks(cell, *skip),
                                       id=f"{cell_id(cell)}-{name}"))
    return params


def dtype_params():
    return [
        pytest.param(cell, dtype, marks=marks(cell), id=f"{cell_id(cell)}-{dtype}")
        for cell in CELLS
        for dtype in GRID_DTYPES
    ]


def test_the_sample_covers_every_op_block_size_format_and_mode():
    covered = {(op, r, df, mode) for op, r, _, _, _, df, mode in filter(sampled, CELLS)}
    assert covered == {(op, r, df, mode) for op, r, _, _, _, df, mode in CELLS}


@pytest.mark.parametrize(("cell", "reference"), reference_params())
def test_references_agree_with_tf_fixture(cell, reference):
    """Every native reference performs TF's permutation (numpy's loops: small cells only)."""
    if reference == "numpy" and cell[3] * cell[1] > 64:
        pytest.skip("the loop reference runs on small cells only")
    np.testing.assert_array_equal(permutation(reference, cell), permutation("tf-fixture", cell))


@functools.cache
def op_under_test(op, r, data_format, mode):
    """The op as users run it most: eagerly on TF and torch; on JAX jitted, as Keras runs every
    model there (eager JAX compiles each primitive separately, which would make this grid
    cost minutes; eager JAX is covered by test_shuffle_ops and test_properties)."""
    if BACKEND != "jax":
        return lambda x: OPS[op](x, r, data_format, mode)
    import jax

    return jax.jit(lambda x: OPS[op](x, r, data_format, mode))


@pytest.mark.parametrize(("cell", "dtype"), dtype_params())
def test_bit_exact_against_tf_and_torch(cell, dtype):
    op, r, _, _, _, data_format, mode = cell
    seed = zlib.crc32(f"{cell_id(cell)}-{dtype}".encode())
    x = random_bits(input_shape(cell), DTYPES[dtype], seed=seed)
    got = bits(op_under_test(op, r, data_format, mode)(to_backend(x)))
    flat = bits(x).ravel()
    np.testing.assert_array_equal(got, flat[permutation("tf-fixture", cell)], "vs TensorFlow")
    if has_module("torch"):
        np.testing.assert_array_equal(got, flat[permutation("torch", cell)], "vs PyTorch")
