"""Compilers, dynamic shapes and mixed precision, on the active backend.

- Forward and backward (gradients with respect to the input and to every weight) of every op
  and layer, all batched into one function, under the backend's compiler (``jax.jit``,
  ``tf.function(jit_compile=True)``, ``torch.compile``) match eager.
- Models on ``keras.Input((None, C))`` run on several lengths; ``tf.function`` with an input
  signature of unknown batch and time (TF); a length that the factor does not divide fails
  with a clear message.
- ``mixed_float16`` / ``mixed_bfloat16``: outputs in the compute dtype, variables in float32.
"""

import keras
import numpy as np
import pytest
from conftest import BACKEND, compile_fn, keras_device, to_backend

from upsample1d.layers import (
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    SpaceToDepth1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import (
    decimate_1d,
    depth_to_space_1d,
    downsample_average_1d,
    downsample_sinc_1d,
    space_to_depth_1d,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)

FORMATS = ("channels_last", "channels_first")


def _ops_cases():
    cases = []
    for df in FORMATS:
        for mode in ("DCR", "CRD"):
            cases.append((f"d2s-{df}-{mode}", lambda x, df=df, m=mode: depth_to_space_1d(
                x, 2, df, m)))
            cases.append((f"s2d-{df}-{mode}", lambda x, df=df, m=mode: space_to_depth_1d(
                x, 4, df, m)))
        for name, op in (("nearest", upsample_nearest_1d), ("linear", upsample_linear_1d),
                         ("sinc", upsample_sinc_1d)):
            cases.append((f"{name}-{df}", lambda x, df=df, op=op: op(x, 3, df)))
        # downsampling by 3 of 16 samples: the last block is short
        for name, op in (("sinc_down", downsample_sinc_1d), ("average", downsample_average_1d),
                         ("decimate", decimate_1d)):
            cases.append((f"{name}-{df}", lambda x, df=df, op=op: op(x, 3, df)))
    return cases


def _layers(channels=8):
    keras.utils.set_random_seed(0)
    layers = {}
    for df in FORMATS:
        tag = df[9:]
        layers.update({
            f"Subpixel1D-{tag}": Subpixel1D(2, data_format=df, mode="CRD"),
            f"SpaceToDepth1D-{tag}": SpaceToDepth1D(4, data_format=df),
            f"SubpixelConv1D-{tag}": SubpixelConv1D(3, 2, data_format=df, use_bias=True,
                                                    bias_initializer="random_normal"),
            f"TConvPolyphase-{tag}": TransposedConvUpsample1D(3, 2, data_format=df),
            f"TConvNative-{tag}": TransposedConvUpsample1D(3, 2, data_format=df,
                                                           implementation="native"),
            f"InterpSinc-{tag}": InterpolationUpsample1D(2, 2, method="sinc", data_format=df,
                                                         kernel_size=3),
            f"StridedConv1D-{tag}": StridedConv1D(3, 3, kernel_size=5, data_format=df,
                                                  use_bias=True,
                                                  bias_initializer="random_normal"),
            f"SpaceToDepthConv1D-{tag}": SpaceToDepthConv1D(3, 3, mode="CRD", data_format=df),
            f"FilteredSinc-{tag}": FilteredDownsample1D(2, 3, method="sinc", data_format=df),
        })
    layers["DownsampleAverage"] = Downsample1D(2, 2, method="average", use_bias=True)
    layers["InterpNearest"] = InterpolationUpsample1D(2, 2, method="nearest", kernel_size=3)
    layers["InterpLinear"] = InterpolationUpsample1D(2, 2, method="linear", kernel_size=3)
    layers["Upsample1D-transposed"] = Upsample1D(2, 3, method="transposed", use_bias=True)
    layers["Upsample1D-subpixel"] = Upsample1D(2, 3, method="subpixel", mode="CRD")
    for name, layer in layers.items():
        shape = (None, 16, channels) if name.endswith("last") or "-" not in name or \
            name.startswith("Upsample1D") else (None, channels, 16)
        layer.build(shape)
    return layers


def _inputs():
    rng = np.random.default_rng(0)
    return {df: rng.normal(size=(2, 16, 8) if df == "channels_last" else (2, 8, 16))
            .astype(np.float32) for df in FORMATS}


def _apply_all(layers, x_last, x_first, with_ops=True):
    outputs = []
    for name, op in _ops_cases() if with_ops else ():
        outputs.append(op(x_last if "last" in name else x_first))
    for name, layer in (layers or {}).items():
        outputs.append(layer(x_first if name.endswith("first") else x_last))
    return outputs


def _cotangents(outputs):
    rng = np.random.default_rng(1)
    return [rng.normal(size=tuple(o.shape)).astype(np.float32) for o in outputs]


def _loss(outputs, cotangents):
    return sum(keras.ops.sum(o * c) for o, c in zip(outputs, cotangents, strict=True))


def _forward_backward(compiled, torch_backend, part):
    """Outputs, input gradients and weight gradients, eager or compiled, as NumPy; ``part`` is
    "ops" (ops only), "layers" (layers only) or "all"."""
    layers = {} if part == "ops" else _layers()
    with_ops = part != "layers"
    variables = [v for layer in layers.values() for v in layer.trainable_variables]
    xs = _inputs()
    cot = _cotangents(_apply_all(layers, keras.ops.convert_to_tensor(xs["channels_last"]),
                                 keras.ops.convert_to_tensor(xs["channels_first"]), with_ops))
    if BACKEND == "jax":
        import jax

        def fn(values, x_last, x_first):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                outputs = _apply_all(layers, x_last, x_first, with_ops)
            return _loss(outputs, cot), outputs

        grad_fn = jax.value_and_grad(fn, argnums=(0, 1, 2), has_aux=True)
        grad_fn = jax.jit(grad_fn) if compiled else grad_fn
        (_, outputs), (g_vars, g_last, g_first) = grad_fn(
            [v.value for v in variables], xs["channels_last"], xs["channels_first"])
        grads = [g_last, g_first, *g_vars]
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        def step(x_last, x_first):
            with tf.GradientTape() as tape:
                tape.watch([x_last, x_first])
                outputs = _apply_all(layers, x_last, x_first, with_ops)
                loss = _loss(outputs, cot)
            return outputs, tape.gradient(loss, [x_last, x_first, *variables])

        step = tf.function(step, jit_compile=True) if compiled else step
        outputs, grads = step(tf.constant(xs["channels_last"]), tf.constant(xs["channels_first"]))
    else:
        import torch

        def forward(x_last, x_first):
            return _apply_all(layers, x_last, x_first, with_ops)

        if compiled:
            forward = torch.compile(forward, backend=torch_backend, dynamic=False)
        device = keras_device()  # where the layers' weights are
        x_last = torch.tensor(xs["channels_last"], requires_grad=True, device=device)
        x_first = torch.tensor(xs["channels_first"], requires_grad=True, device=device)
        outputs = forward(x_last, x_first)
        loss = _loss(outputs, [torch.tensor(c, device=device) for c in cot])
        grads = torch.autograd.grad(loss, [x_last, x_first, *[v.value for v in variables]])
    to_np = keras.ops.convert_to_numpy
    assert all(g is not None for g in grads)
    return [to_np(o) for o in outputs], [to_np(g) for g in grads]


def _check_compiled_matches_eager(torch_backend, part):
    eager_out, eager_grads = _forward_backward(False, torch_backend, part)
    compiled_out, compiled_grads = _forward_backward(True, torch_backend, part)
    expected = (len(_ops_cases()) if part != "layers" else 0) + (
        len(_layers()) if part != "ops" else 0)
    assert len(eager_out) == expected
    for i, (a, b) in enumerate(zip(eager_out, compiled_out, strict=True)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5, err_msg=f"output {i}")
    for i, (a, b) in enumerate(zip(eager_grads, compiled_grads, strict=True)):
        assert np.abs(a).sum() > 0, f"gradient {i} is all zero"
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4, err_msg=f"gradient {i}")


SLOW_ON_TORCH = [pytest.mark.slow] if BACKEND == "torch" else []


@pytest.mark.parametrize("part", ["ops", pytest.param("layers", marks=SLOW_ON_TORCH)])
def test_every_op_and_layer_compiled_matches_eager(part):
    """One compiled function runs forward and backward of all 18 op cases, one more all 23
    layers (inputs and weights; the compile cost is paid once each); Keras' own UpSampling2D
    once broke here, under XLA, on gradients. On torch the graphs are captured with TorchDynamo
    and AOTAutograd (``backend="aot_eager"``: what breaks tracing breaks there) without
    Inductor's C++ code generation, which takes minutes on a CPU (the slow test below); the
    layers there take ~1 min of Dynamo tracing on 2 CPU cores, so they are slow on torch."""
    _check_compiled_matches_eager("aot_eager", part)


@pytest.mark.slow
def test_every_op_and_layer_torch_inductor_matches_eager():
    if BACKEND != "torch":
        pytest.skip("Inductor is torch.compile's code generator: torch backend only")
    _check_compiled_matches_eager("inductor", "all")


# ----------------------------------------------------------------------------- dynamic shapes
def _dynamic_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 2))
    x = SpaceToDepth1D(2)(inputs)  # (T/2, 4)
    branches = [
        SpaceToDepth1D(2)(Subpixel1D(2)(x)),
        SubpixelConv1D(4, 2, kernel_size=3)(x),
        TransposedConvUpsample1D(4, 2)(x),
        TransposedConvUpsample1D(4, 2, implementation="native")(x),
        InterpolationUpsample1D(4, 2, method="linear", kernel_size=3)(x),
        InterpolationUpsample1D(4, 2, method="sinc", kernel_size=3)(x),
        Upsample1D(4, 2, method="nearest", kernel_size=3)(x),
    ]
    branches[0] = Subpixel1D(2)(branches[0])  # back to (T, 2)
    outputs = keras.layers.Concatenate()(branches)
    return keras.Model(inputs, outputs)


def test_model_on_unknown_time_runs_several_lengths():
    model = _dynamic_model()
    assert model.output_shape == (None, None, 26)
    for time in (8, 12, 40, 8):
        x = np.random.default_rng(time).normal(size=(3, time, 2)).astype(np.float32)
        y = model.predict(x, verbose=0)
        assert y.shape == (3, time, 26)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), y, rtol=1e-5,
                                   atol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    for time in (8, 16):
        x = np.ones((2, time, 2), np.float32)
        model.train_on_batch(x, np.zeros((2, time, 26), np.float32))


def test_length_not_divisible_by_factor_is_a_clear_error():
    model = _dynamic_model()
    with pytest.raises(ValueError, match=r"time axis \(7\) must be divisible by block_size=2"):
        model.predict(np.zeros((1, 7, 2), np.float32), verbose=0)
    with pytest.raises(ValueError, match=r"time axis \(7\) must be divisible by block_size=2"):
        model(np.zeros((1, 7, 2), np.float32))


def test_tf_function_with_unknown_batch_and_time():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function input signatures are TensorFlow-only")
    import tensorflow as tf

    model = _dynamic_model()
    ops_and_model = tf.function(
        lambda x: [depth_to_space_1d(x, 2, mode="CRD"), space_to_depth_1d(x, 2, mode="CRD"),
                   upsample_nearest_1d(x, 3), upsample_linear_1d(x, 3), upsample_sinc_1d(x, 3),
                   depth_to_space_1d(x, 2, "channels_first"), model(x)],
        input_signature=[tf.TensorSpec((None, None, 2), tf.float32)])
    concrete = ops_and_model.get_concrete_function()
    assert concrete.structured_outputs[-1].shape.as_list() == [None, None, 26]
    assert concrete.structured_outputs[0].shape.as_list() == [None, None, 1]
    for batch, time in ((1, 4), (3, 10), (2, 64)):
        x = np.random.default_rng(time).normal(size=(batch, time, 2)).astype(np.float32)
        got = ops_and_model(x)
        assert got[0].shape == (batch, 2 * time, 1)
        np.testing.assert_allclose(got[-1].numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(got[3].numpy(), upsample_linear_1d(x, 3).numpy())
    assert len(ops_and_model._list_all_concrete_functions()) == 1  # no retracing
    with pytest.raises(tf.errors.InvalidArgumentError, match="divisible by block_size=2"):
        ops_and_model(np.zeros((1, 7, 2), np.float32))


# ----------------------------------------------------------------------------- mixed precision
def _mixed_layers():
    return [
        (Subpixel1D(2), (2, 8, 4)),
        (SpaceToDepth1D(2), (2, 8, 4)),
        (SubpixelConv1D(3, 2), (2, 8, 4)),
        (TransposedConvUpsample1D(3, 2), (2, 8, 4)),
        (TransposedConvUpsample1D(3, 2, implementation="native"), (2, 8, 4)),
        (InterpolationUpsample1D(3, 2, method="nearest", use_bias=True), (2, 8, 4)),
        (InterpolationUpsample1D(3, 2, method="linear"), (2, 8, 4)),
        (InterpolationUpsample1D(3, 2, method="sinc"), (2, 8, 4)),
        (Upsample1D(3, 2, method="subpixel", use_bias=True), (2, 8, 4)),
        (Upsample1D(3, 2, method="sinc"), (2, 8, 4)),
        (StridedConv1D(3, 2, use_bias=True), (2, 9, 4)),
        (SpaceToDepthConv1D(3, 2), (2, 9, 4)),
        (Downsample1D(3, 2, method="sinc"), (2, 9, 4)),
        (Downsample1D(3, 2, method="average"), (2, 9, 4)),
    ]


@pytest.fixture
def policy(request):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_mixed_precision_policy(policy):
    compute = policy.split("_")[1]
    for layer, shape in _mixed_layers():
        x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        y = layer(x)
        name = type(layer).__name__
        assert keras.backend.standardize_dtype(y.dtype) == compute, (name, y.dtype)
        assert layer.compute_dtype == compute and layer.variable_dtype == "float32"
        for v in layer.weights:
            assert keras.backend.standardize_dtype(v.dtype) == "float32", (name, v.path)
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))))
    # A whole model, symbolic: outputs in the compute dtype.
    inputs = keras.Input((None, 4))
    outputs = Upsample1D(2, 2, method="linear")(SpaceToDepth1D(2)(inputs))
    assert keras.backend.standardize_dtype(outputs.dtype) == compute
    model = keras.Model(inputs, outputs)
    assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in model.weights)
    assert keras.backend.standardize_dtype(model.predict(np.ones((1, 8, 4), np.float32),
                                                         verbose=0).dtype) == compute


def test_torch_compile_fullgraph_with_nothing_cached():
    """The first call of an op may be inside torch.compile(fullgraph=True): the fixed banks
    are then computed while tracing (for real: TorchDynamo keeps the result as a constant)
    and their tensors made in the graph, never kept."""
    if BACKEND != "torch":
        pytest.skip("TorchDynamo: torch backend only")
    import torch

    from upsample1d.ops import _polyphase, downsample_sinc_1d

    cases = {"linear": lambda x: upsample_linear_1d(x, 3),
             "sinc": lambda x: upsample_sinc_1d(x, 2, "channels_first"),
             "down-sinc": lambda x: downsample_sinc_1d(x, 2)}
    x = torch.randn(2, 12, 3)
    for name, fn in cases.items():
        _polyphase._ARRAYS.clear()
        _polyphase._TENSORS.clear()
        torch._dynamo.reset()
        compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
        np.testing.assert_allclose(compiled(x).numpy(), fn(x).numpy(), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


def test_torch_compile_does_not_recompile_layers_that_pad():
    """keras.ops.pad makes a named Operation on every call, moving a global name counter
    that TorchDynamo guards on: a compiled model that padded with it recompiled at every
    call. The package pads through the backend (upsample1d._backend.pad)."""
    if BACKEND != "torch":
        pytest.skip("TorchDynamo: torch backend only")
    import torch
    from torch._dynamo.utils import counters

    layers = [TransposedConvUpsample1D(3, 2), InterpolationUpsample1D(3, 2, method="linear"),
              StridedConv1D(3, 3, kernel_size=5)]
    x = torch.randn(2, 16, 4)
    for layer in layers:
        layer.build(tuple(x.shape))
        torch._dynamo.reset()
        counters.clear()
        compiled = torch.compile(layer, backend="eager", fullgraph=True)
        graphs = []
        for _ in range(5):  # the first calls may fill the package's caches: a retrace
            compiled(x)
            graphs.append(counters["stats"]["unique_graphs"])
        assert graphs[1] == graphs[-1] <= 2, (type(layer).__name__, graphs)


def test_a_callers_filter_compiles_to_the_eager_numbers():
    """polyphase_upsample_1d / polyphase_downsample_1d with the caller's own taps, compiled
    from a cold start: the layouts of the taps are made outside the trace (TorchDynamo lost
    an in-place NumPy write there: all zeros came out)."""
    from upsample1d.ops import _polyphase, polyphase_downsample_1d, polyphase_upsample_1d

    x = to_backend(np.arange(16.0, dtype=np.float32).reshape(1, 8, 2))
    cases = {"down": lambda v: polyphase_downsample_1d(v, [0.25, 0.5, 0.25], 2),
             "up": lambda v: polyphase_upsample_1d(v, np.array([[1.0, 0.5], [0.0, 0.5]]),
                                                   (0, 1))}
    for name, fn in cases.items():
        _polyphase._ARRAYS.clear()
        _polyphase._TENSORS.clear()
        if BACKEND == "torch":
            import torch

            torch._dynamo.reset()
        compiled = compile_fn(fn, torch_backend="eager")
        expected = keras.ops.convert_to_numpy(fn(x))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(compiled(x)), expected,
                                   rtol=1e-6, err_msg=name)
        assert np.abs(expected).max() > 1


def test_torch_compile_recompiles_only_for_new_lengths():
    """A compiled model called on lengths it has seen runs the graph made for each; the
    package's own caches (shuffle plans, checked arguments) are not read or written while
    TorchDynamo traces: it guards on their length, so each new entry used to fail the guards
    of every earlier graph (lengths 8, 16, 8 made three graphs)."""
    if BACKEND != "torch":
        pytest.skip("TorchDynamo: torch backend only")
    import torch
    from torch._dynamo.utils import counters

    from upsample1d.layers import AliasFreeActivation1D, Snake1D

    inputs = keras.Input((None, 4))
    x = inputs
    for layer in [Subpixel1D(2), SubpixelConv1D(4, 2), TransposedConvUpsample1D(4, 2),
                  InterpolationUpsample1D(4, 2, "sinc"), Upsample1D(4, 2, "linear"),
                  AliasFreeActivation1D(Snake1D()), Downsample1D(4, 2, "sinc"),
                  SpaceToDepthConv1D(4, 2), SpaceToDepth1D(2)]:
        x = layer(x)
    model = keras.Model(inputs, x)
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(model, backend="eager", dynamic=False)
    graphs = []
    for time in (16, 32, 16, 32, 64, 16, 32):
        x = torch.randn(1, time, 4)
        np.testing.assert_allclose(compiled(x).detach().numpy(), model(x).detach().numpy(),
                                   rtol=1e-6, atol=1e-6)
        graphs.append(counters["stats"]["unique_graphs"])
    assert graphs == [1, 2, 2, 2, 3, 3, 3], graphs
