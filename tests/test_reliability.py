"""Nothing silently wrong (issue 21): every layer with weights refuses a channel count it was
not built for; the alias-free code compiles from a cold start under torch.compile; float64
stays float64 where the backend has it; Snake1D refuses integers alike on every backend; and
the reach of a non-finite sample through the alias-free upsampler is what its docstring says.
"""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import BACKEND, to_backend, to_numpy

import backends
import upsample1d.bigvgan as bigvgan_module
import upsample1d.layers as layers_module
from upsample1d.layers import (
    AliasFreeActivation1D,
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    Snake1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import downsample_alias_free_1d, upsample_alias_free_1d

FORMATS = ("channels_last", "channels_first")

# Every public layer with weights, in each configuration that reaches a different call path.
WEIGHTED = {
    "SubpixelConv1D": lambda df: SubpixelConv1D(3, 2, data_format=df),
    "TransposedConv-polyphase": lambda df: TransposedConvUpsample1D(3, 2, data_format=df),
    "TransposedConv-native": lambda df: TransposedConvUpsample1D(
        3, 2, data_format=df, implementation="native"),
    "Interpolation-nearest-fused": lambda df: InterpolationUpsample1D(
        3, 2, "nearest", data_format=df, implementation="fused"),
    "Interpolation-linear-fused": lambda df: InterpolationUpsample1D(
        3, 2, "linear", data_format=df, implementation="fused"),
    "Interpolation-sinc-direct": lambda df: InterpolationUpsample1D(
        2, 2, "sinc", data_format=df, implementation="direct"),
    "Upsample1D": lambda df: Upsample1D(3, 2, method="subpixel", data_format=df),
    "StridedConv1D": lambda df: StridedConv1D(3, 2, data_format=df),
    "SpaceToDepthConv1D": lambda df: SpaceToDepthConv1D(3, 2, data_format=df),
    "FilteredDownsample1D": lambda df: FilteredDownsample1D(3, 2, data_format=df),
    "Downsample1D": lambda df: Downsample1D(3, 2, method="average", data_format=df),
    "Snake1D": lambda df: Snake1D(data_format=df),
    "AliasFreeActivation1D-snake": lambda df: AliasFreeActivation1D("snake", data_format=df),
    "DilatedConv1D": lambda df: bigvgan_module.DilatedConv1D(3, 3, 2, data_format=df),
    "AMPBlock1D": lambda df: bigvgan_module.AMPBlock1D(2, data_format=df),
}


def _input(channels, data_format, time=16, dtype="float32"):
    x = np.random.default_rng(channels).normal(size=(2, time, channels)).astype(dtype)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def test_every_public_layer_with_weights_is_in_the_channel_check():
    """A new layer with weights must join WEIGHTED (and so the channel check below)."""
    covered = {type(make("channels_last")).__name__ for make in WEIGHTED.values()}
    public = [(layers_module, name) for name in layers_module.__all__]
    public += [(bigvgan_module, name) for name in ("DilatedConv1D", "AMPBlock1D")]
    for module, name in public:
        cls = getattr(module, name)
        if not (inspect.isclass(cls) and issubclass(cls, keras.layers.Layer)):
            continue
        params = inspect.signature(cls).parameters
        args = {"channels": [4], "activation": ["snake"], "filters": [3, 2], "block_size": [2],
                "up": [3, 2]}
        layer = cls(*next((v for k, v in args.items() if k in params), []))
        layer.build((2, 16, 4))
        if layer.weights:
            assert name in covered, f"{name} has weights but no row in WEIGHTED"


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("name", sorted(WEIGHTED))
def test_a_built_layer_refuses_other_channel_counts(name, data_format):
    """Built on 2 channels, a layer refuses 4 (which would run as a grouped convolution or
    broadcast per-channel weights without an error) and 3, naming the axis and both
    counts, as Keras' Conv1D does; 2 channels still run."""
    layer = WEIGHTED[name](data_format)
    layer(to_backend(_input(2, data_format)))
    axis = -1 if data_format == "channels_last" else 1
    for channels in (4, 3, 1):
        with pytest.raises(ValueError, match=rf"expected axis {axis} .* value 2"):
            layer(to_backend(_input(channels, data_format)))
    assert to_numpy(layer(to_backend(_input(2, data_format)))).shape[0] == 2


def test_the_channel_check_also_holds_in_a_functional_model():
    layer = SubpixelConv1D(3, 2)
    layer(to_backend(_input(2, "channels_last")))
    with pytest.raises(ValueError, match=r"expected axis -1 .* value 2"):
        layer(keras.Input((None, 4)))


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(("built_for", "used_on"), [(1, 4), (4, 2)])
def test_alias_free_activation_refuses_a_snake_built_for_other_channels(
        built_for, used_on, data_format):
    """A Snake1D built before, for another channel count: AliasFreeActivation1D runs its
    function, not its __call__, so its one alpha broadcast over 4 channels without an error
    (and 4 alphas on 2 channels failed deep in the backend). Built for the same count, it
    runs."""
    snake = Snake1D(data_format=data_format)
    snake(to_backend(_input(built_for, data_format)))
    with pytest.raises(ValueError, match=rf"{used_on} channels.* built for {built_for} "):
        AliasFreeActivation1D(snake, data_format=data_format)(
            to_backend(_input(used_on, data_format)))
    y = AliasFreeActivation1D(snake, data_format=data_format)(
        to_backend(_input(built_for, data_format)))
    assert to_numpy(y).shape == _input(built_for, data_format).shape


def test_snake_keeps_a_keras_mask():
    """Snake1D is element-wise and keeps the length, as LeakyReLU, which passes a mask on: a
    masked mean after it averaged the padded steps too."""
    x = np.zeros((1, 4, 2), np.float32)
    x[0, :2] = [[1, 2], [3, 4]]  # 2 steps, then 2 steps of padding that Masking(0.0) masks
    inputs = keras.Input((4, 2))
    snake = Snake1D(data_format="channels_last")(keras.layers.Masking(0.0)(inputs))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(snake))
    expected = (x[0, :2] + np.sin(x[0, :2]) ** 2).mean(axis=0)
    np.testing.assert_allclose(to_numpy(model(to_backend(x)))[0], expected, rtol=1e-6)


# --- torch.compile from a cold start ---------------------------------------------------------

def _cold_caches():
    import torch

    from upsample1d.ops import _polyphase

    _polyphase._ARRAYS.clear()
    _polyphase._TENSORS.clear()
    torch._dynamo.reset()


@pytest.mark.skipif(BACKEND != "torch", reason="TorchDynamo: torch backend only")
@pytest.mark.parametrize("case", ["layer-tanh", "layer-snake", "up", "down"])
def test_alias_free_compiles_from_a_cold_start(case):
    """The first call ever inside torch.compile(fullgraph=True): the filter designs run
    while tracing (their NumPy code is not traced) and the result equals eager."""
    import torch

    _cold_caches()
    if case.startswith("layer"):
        fn = AliasFreeActivation1D(case[6:])
        fn.build((2, 17, 3))
    else:
        fn = {"up": lambda x: upsample_alias_free_1d(x, 2),
              "down": lambda x: downsample_alias_free_1d(x, 2)}[case]
    x = torch.randn(2, 17, 3)
    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    got = compiled(x)
    np.testing.assert_allclose(to_numpy(got), to_numpy(fn(x)), rtol=1e-6, atol=1e-6)


# --- float64 ----------------------------------------------------------------------------------

def _float64_available():
    if BACKEND != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.skipif(not _float64_available(), reason="JAX holds float64 as float32 "
                    "unless jax_enable_x64 is set")
@pytest.mark.parametrize("data_format", FORMATS)
def test_alias_free_activation_is_float64_exact_at_every_position(data_format):
    """The phase path's end samples (made by a small product with the bank's first and last
    phase) are float64 too: all outputs within 1e-12 of a float64 NumPy reference."""
    x = _input(3, data_format, time=40, dtype="float64")
    layer = AliasFreeActivation1D("tanh", data_format=data_format, dtype="float64")
    got = to_numpy(layer(to_backend(x)))
    assert got.dtype == np.float64
    expected = backends.load("numpy").alias_free_activation_1d(
        x, np.tanh, 2, 2, 12, 12, data_format=data_format)
    assert np.abs(got - expected).max() <= 1e-12 * np.abs(expected).max()


X64_SCRIPT = """
import jax
jax.config.update("jax_enable_x64", True)
import keras, numpy as np
import backends
from upsample1d.layers import AliasFreeActivation1D, Snake1D
x = np.random.default_rng(0).standard_normal((2, 40, 3)) * 2
snake = Snake1D(alpha=1.3, dtype="float64")
got = np.asarray(snake(x))
assert got.dtype == np.float64, got.dtype
expected = x + np.sin(1.3 * x) ** 2 / (1.3 + 1e-9)
print("snake", np.abs(got - expected).max() / np.abs(expected).max())
for activation in ("tanh", keras.activations.tanh):
    got = np.asarray(AliasFreeActivation1D(activation, dtype="float64")(x))
    assert got.dtype == np.float64, got.dtype
    expected = backends.load("numpy").alias_free_activation_1d(x, np.tanh, 2, 2, 12, 12)
    print("tanh", np.abs(got - expected).max() / np.abs(expected).max())
"""


@pytest.mark.skipif(BACKEND != "jax", reason="Keras' JAX sin and tanh; other backends keep "
                    "float64 and are checked in this run")
def test_snake_and_tanh_are_float64_exact_under_jax_x64():
    """Keras 3.15's JAX ``sin``/``tanh`` compute float64 in float32 (1.5e-7): Snake1D and an
    alias-free tanh use jax.numpy's (``upsample1d._backend.sin``/``tanh``). The suite's JAX
    run holds float64 as float32, so this runs in a process with ``jax_enable_x64``."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", X64_SCRIPT], capture_output=True, text=True,
                         env=env, cwd=root, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    errors = [float(line.split()[1]) for line in run.stdout.splitlines()]
    assert len(errors) == 3 and max(errors) <= 1e-13, run.stdout


@pytest.mark.skipif(BACKEND != "torch", reason="a Keras torch-backend behaviour")
def test_keras_torch_matmul_still_returns_float32_for_float64():
    """Why the engine computes the alias-free end samples with einsum, not matmul: Keras'
    torch matmul casts float64 operands to float32. When this fails, Keras has changed:
    matmul may be used again (upsample1d/ops/_polyphase.py, up_map_down)."""
    a = keras.ops.ones((2, 3, 4), dtype="float64")
    b = keras.ops.ones((4, 1), dtype="float64")
    assert keras.backend.standardize_dtype(keras.ops.matmul(a, b).dtype) == "float32"


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_snake_refuses_non_float_input_alike_everywhere(dtype):
    layer = Snake1D()
    layer.build((1, 4, 3))
    with pytest.raises(TypeError, match=rf"Snake1D needs a floating-point input, got dtype "
                                        rf"{dtype}"):
        layer(to_backend(np.ones((1, 4, 3), dtype)))


# --- the reach of a non-finite sample ----------------------------------------------------------

@pytest.mark.parametrize(("factor", "kernel_size", "reach"), [(2, 12, 14), (4, 24, 28),
                                                               (3, 18, 21)])
def test_a_nan_reaches_the_outputs_the_docstring_gives(factor, kernel_size, reach):
    """upsample_alias_free_1d's docstring: a NaN reaches r times the bank's taps of outputs
    (one more input step than alias-free-torch's K, whose corner taps are skipped); every
    other output stays finite."""
    from upsample1d import filters

    (left, right), _ = filters.alias_free_up_geometry(factor, kernel_size, "alias_free_torch")
    assert factor * (left + right + 1) == reach
    x = np.zeros((1, 40, 1), np.float32)
    x[0, 20, 0] = np.nan
    y = to_numpy(upsample_alias_free_1d(to_backend(x), factor, kernel_size))
    assert int(np.isnan(y).sum()) == reach
    assert np.isfinite(np.delete(y[0, :, 0], np.flatnonzero(np.isnan(y[0, :, 0])))).all()


# --- Snake under mixed_float16 ------------------------------------------------------------------

def test_snake_trains_under_mixed_float16_with_a_small_alpha():
    """In float16 the gradients of a Snake with alpha under ~4e-3 overflowed (inf, NaN):
    a loss-scaled fit skipped every step, silently. 16-bit inputs compute in float32: the
    fit follows the float32 one."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 16, 3)).astype("float32")
    y = rng.normal(size=(4, 16, 3)).astype("float32")

    def fitted(policy):
        keras.utils.set_random_seed(1)
        inputs = keras.Input((16, 3))
        dense = keras.layers.Dense(3, kernel_initializer="identity", dtype=policy)
        snake = Snake1D(alpha=1e-3, dtype=policy)
        outputs = keras.layers.Activation("linear", dtype="float32")(snake(dense(inputs)))
        model = keras.Model(inputs, outputs)
        optimizer = keras.optimizers.SGD(0.01)
        if policy == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(optimizer, "mse")
        for _ in range(4):
            model.train_on_batch(x, y)
        return to_numpy(snake.alpha), to_numpy(dense.kernel)

    (alpha, kernel), (alpha16, kernel16) = fitted("float32"), fitted("mixed_float16")
    assert np.abs(alpha - 1e-3).max() > 1e-2  # it trained
    np.testing.assert_allclose(alpha16, alpha, rtol=0, atol=1e-4)
    np.testing.assert_allclose(kernel16, kernel, rtol=0, atol=1e-4)
