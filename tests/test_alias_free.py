"""Alias-free resampling and activations (BigVGAN) against alias-free-torch 0.0.6.

The reference is torch: on the jax and tensorflow backends it runs on NumPy copies of the
inputs (``backends/torch.py``). Parity: max |ours - reference| <= 1e-6 * max |reference| in
float32, for ratios 2 and 4 (and others), odd and even lengths, both data formats
(channels_last by transposing around the reference's channels_first modules). Also: Snake1D
against BigVGAN's formula, the ``sinc_bank`` design against this package's sinc ops, shapes
with an unknown time axis, serialization, one compiler, mixed precision, the aliasing
measurement and the argument errors.
"""

from unittest import mock

import keras
import numpy as np
import pytest
from conftest import (
    BACKEND,
    compile_fn,
    has_module,
    layer_grads,
    sampled_grid,
    to_backend,
    to_numpy,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import backends
import upsample1d.ops._polyphase as engine
from upsample1d import artifacts
from upsample1d.layers import AliasFreeActivation1D, Snake1D
from upsample1d.ops import (
    downsample_alias_free_1d,
    downsample_sinc_1d,
    kaiser_sinc_filter,
    upsample_alias_free_1d,
    upsample_sinc_1d,
)

FORMATS = ("channels_last", "channels_first")
TOLERANCE = 1e-6  # of max |reference|, float32
REFERENCE = pytest.mark.skipif(not has_module("alias_free_torch"),
                               reason="alias_free_torch is not installed (pip install "
                               "alias-free-torch==0.0.6 --no-deps)")


def torch_reference():
    return backends.load("torch")


def signal(time, data_format, channels=3, batch=2, seed=0, scale=1.0):
    x = scale * np.random.default_rng(seed).normal(size=(batch, time, channels))
    x = x.astype(np.float32)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def relative_error(got, expected):
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    return np.abs(got - expected).max(initial=0) / max(np.abs(expected).max(initial=0), 1e-30)


# ----------------------------------------------------------------------------- the filters
@REFERENCE
@pytest.mark.parametrize("kernel_size", (1, 2, 5, 12, 13, 24))
@pytest.mark.parametrize("ratio", (1, 2, 3, 4))
def test_kaiser_sinc_filter_equals_reference(ratio, kernel_size):
    from alias_free_torch import kaiser_sinc_filter1d

    expected = kaiser_sinc_filter1d(0.5 / ratio, 0.6 / ratio, kernel_size).numpy().ravel()
    got = kaiser_sinc_filter(0.5 / ratio, 0.6 / ratio, kernel_size)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-7)


# ----------------------------------------------------------------------------- ops
OP_CASES = [(r, k, t) for r in (2, 4) for k in (None, 12, r + 1, 2 * r + 1)
            for t in (1, 7, 8, 33)] + [(3, 12, 10), (3, 5, 9), (5, 30, 11), (1, 12, 6)]


@REFERENCE
@pytest.mark.parametrize(("ratio", "kernel_size", "time", "data_format"), sampled_grid(
    [(*case, df) for case in OP_CASES for df in FORMATS], every=2))
def test_upsample_equals_reference(ratio, kernel_size, time, data_format):
    x = signal(time, data_format)
    expected = torch_reference().alias_free_upsample_1d(x, ratio, kernel_size, data_format)
    got = upsample_alias_free_1d(to_backend(x), ratio, kernel_size, data_format)
    assert relative_error(to_numpy(got), expected) <= TOLERANCE


@REFERENCE
@pytest.mark.parametrize(("ratio", "kernel_size", "time", "data_format"), sampled_grid(
    [(*case, df) for case in OP_CASES + [(2, 1, 9), (4, 2, 9), (4, 4, 13)]
     for df in FORMATS], every=2))
def test_downsample_equals_reference(ratio, kernel_size, time, data_format):
    x = signal(time, data_format)
    expected = torch_reference().alias_free_downsample_1d(x, ratio, kernel_size, data_format)
    got = downsample_alias_free_1d(to_backend(x), ratio, kernel_size, data_format)
    assert relative_error(to_numpy(got), expected) <= TOLERANCE


@pytest.mark.parametrize("factor", (2, 3, 4))
def test_sinc_bank_design_equals_the_sinc_ops_inside(factor):
    """filter="sinc_bank": the filters of upsample_sinc_1d / downsample_sinc_1d with
    half_width ceil(K / (2 r)); only the edges differ (replicated here, zeros there)."""
    x = signal(64, "channels_last")
    kernel_size = 10 * 2 * factor  # half_width 10, the sinc ops' default
    up = to_numpy(upsample_alias_free_1d(to_backend(x), factor, kernel_size,
                                         filter="sinc_bank"))
    down = to_numpy(downsample_alias_free_1d(to_backend(x), factor, kernel_size,
                                             filter="sinc_bank"))
    edge = 10
    np.testing.assert_allclose(up[:, edge * factor:-edge * factor],
                               to_numpy(upsample_sinc_1d(to_backend(x), factor))
                               [:, edge * factor:-edge * factor], rtol=1e-5, atol=1e-6)
    inner = slice(edge, -edge)
    np.testing.assert_allclose(down[:, inner], to_numpy(downsample_sinc_1d(
        to_backend(x), factor))[:, inner], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("filter_", ("alias_free_torch", "sinc_bank"))
@pytest.mark.parametrize("data_format", FORMATS)
def test_ops_keep_a_constant_near_constant(filter_, data_format):
    x = np.ones((1, 40, 2) if data_format == "channels_last" else (1, 2, 40), np.float32)
    for op in (upsample_alias_free_1d, downsample_alias_free_1d):
        y = to_numpy(op(to_backend(x), 2, 12, data_format, filter_))
        assert np.abs(y - 1).max() < 2e-3, (op.__name__, np.abs(y - 1).max())


def test_ops_symbolic_shapes_and_empty_time():
    x = keras.Input((None, 3))
    assert upsample_alias_free_1d(x, 4).shape == (None, None, 3)
    assert downsample_alias_free_1d(x, 4).shape == (None, None, 3)
    x = keras.Input((3, 9))
    assert upsample_alias_free_1d(x, 2, data_format="channels_first").shape == (None, 3, 18)
    assert downsample_alias_free_1d(x, 2, data_format="channels_first").shape == (None, 3, 5)
    empty = to_backend(np.zeros((2, 0, 3), np.float32))
    assert tuple(upsample_alias_free_1d(empty, 2).shape) == (2, 0, 3)
    assert tuple(downsample_alias_free_1d(empty, 2).shape) == (2, 0, 3)


# ----------------------------------------------------------------------------- Snake1D
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(("use_beta", "logscale"), [(False, False), (True, False),
                                                    (False, True), (True, True)])
def test_snake_is_bigvgan_formula(use_beta, logscale, data_format):
    x = signal(11, data_format, channels=4, scale=2.0)
    layer = Snake1D(alpha=1.0, use_beta=use_beta, alpha_logscale=logscale,
                    data_format=data_format)
    layer.build(x.shape)
    start = 0.0 if logscale else 1.0  # BigVGAN's initial values
    assert all(np.all(to_numpy(w) == start) for w in layer.weights)
    assert len(layer.trainable_weights) == (2 if use_beta else 1)
    rng = np.random.default_rng(1)
    alpha, beta = (rng.uniform(0.2, 2.0, 4).astype(np.float32) for _ in range(2))
    layer.alpha.assign(np.log(alpha) if logscale else alpha)
    if use_beta:
        layer.beta.assign(np.log(beta) if logscale else beta)
    shape = (1, 1, 4) if data_format == "channels_last" else (1, 4, 1)
    a, b = alpha.reshape(shape), (beta if use_beta else alpha).reshape(shape)
    expected = x + 1.0 / (b + 1e-9) * np.sin(a * x) ** 2
    np.testing.assert_allclose(to_numpy(layer(to_backend(x))), expected, rtol=1e-5,
                               atol=1e-5)


def test_snake_initial_alpha_and_zero_alpha_is_finite():
    layer = Snake1D(alpha=0.5)
    layer.build((None, None, 3))
    np.testing.assert_array_equal(to_numpy(layer.alpha), [0.5] * 3)
    layer.alpha.assign(np.zeros(3, np.float32))
    y = to_numpy(layer(to_backend(signal(8, "channels_last"))))
    np.testing.assert_allclose(y, signal(8, "channels_last"), atol=1e-6)  # alpha -> 0: x
    half = Snake1D(dtype="float16")
    half.build((None, None, 3))
    half.alpha.assign(np.zeros(3, np.float32))
    y = to_numpy(half(to_backend(signal(8, "channels_last").astype(np.float16))))
    assert np.all(np.isfinite(y.astype(np.float32)))


def test_snake_inference_follows_every_weight_change():
    """In inference (no gradient recording) torch keeps Snake's per-channel factors between
    calls (_backend.derived), per layout: a channels_last Snake1D alone and inside a
    channels_first AliasFreeActivation1D (which runs it channels_first), called in turn.
    Weights written by set_weights, or in place as an optimizer does, must give the new
    output at once."""
    from upsample1d import _backend

    snake = Snake1D(use_beta=True, alpha_logscale=True, data_format="channels_last")
    wrapped = AliasFreeActivation1D(snake, data_format="channels_first")
    x = signal(16, "channels_first", channels=3)
    wrapped.build(x.shape)
    rng = np.random.default_rng(2)

    def expected(v):  # channels_first
        a, b = (np.exp(to_numpy(w)).reshape(1, 3, 1) for w in (snake.alpha, snake.beta))
        return v + np.sin(a * v) ** 2 / (b + 1e-9)

    def run(layer, v):
        return to_numpy(layer(to_backend(v)))

    with _backend.inference():
        for change in (None, "set_weights", "assign"):
            if change == "set_weights":
                snake.set_weights([rng.normal(size=3).astype(np.float32) for _ in range(2)])
            elif change == "assign":
                snake.alpha.assign(snake.alpha * 2.0)
            high = run(lambda v: upsample_alias_free_1d(v, 2, data_format="channels_first"), x)
            want = run(lambda v: downsample_alias_free_1d(v, 2, data_format="channels_first"),
                       expected(high))
            # after a change, the first call has the layout of the last one before it
            for layer in (wrapped, wrapped, snake, snake, wrapped):
                if layer is wrapped:
                    np.testing.assert_allclose(run(wrapped, x), want, rtol=1e-5, atol=1e-5)
                else:
                    alone = np.swapaxes(run(snake, np.swapaxes(x, 1, 2).copy()), 1, 2)
                    np.testing.assert_allclose(alone, expected(x), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- activation
def _torch_activation(name, layer):
    """The torch twin of ``layer``'s activation, weights copied."""
    import torch

    reference = torch_reference()
    if name in ("snake", "snakebeta"):
        snake = layer.activation
        module = reference.Snake(int(snake.alpha.shape[0]), use_beta=name == "snakebeta")
        module.alpha.data = torch.tensor(to_numpy(snake.alpha))
        if name == "snakebeta":
            module.beta.data = torch.tensor(to_numpy(snake.beta))
        return module
    return {"tanh": torch.tanh, "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.2),
            "relu": torch.relu}[name]


def _random_snake(layer):
    rng = np.random.default_rng(3)
    for weight in layer.activation.weights:
        weight.assign(rng.uniform(0.3, 2.0, tuple(weight.shape)).astype(np.float32))


ACTIVATION_CASES = [(a, r, t) for a in ("snake", "snakebeta", "tanh", "leaky_relu")
                    for r in (2, 4) for t in (7, 16)]


@REFERENCE
@pytest.mark.parametrize(("name", "ratio", "time", "data_format"), sampled_grid(
    [(*case, df) for case in ACTIVATION_CASES for df in FORMATS], every=2))
def test_activation_equals_reference(name, ratio, time, data_format):
    x = signal(time, data_format, scale=2.0)
    layer = AliasFreeActivation1D(name, ratio, ratio, data_format=data_format)
    layer.build(x.shape)
    if name.startswith("snake"):
        _random_snake(layer)
    expected = torch_reference().alias_free_activation_1d(
        x, _torch_activation(name, layer), ratio, ratio, 12, 12, data_format)
    assert relative_error(to_numpy(layer(to_backend(x))), expected) <= TOLERANCE


def _numpy_activation(name, layer):
    """The layer's activation as a NumPy function of a channels_last float64 array."""
    if name.startswith("snake"):
        alpha = to_numpy(layer.activation.alpha).astype(np.float64)
        beta = alpha if name == "snake" else to_numpy(layer.activation.beta).astype(np.float64)
        return lambda v: v + np.sin(alpha * v) ** 2 / (beta + 1e-9)
    return np.tanh


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(("snake", "snakebeta", "tanh")), ratio=st.integers(1, 4),
       kernels=st.tuples(st.integers(1, 20), st.integers(1, 20)), time=st.integers(1, 24),
       filter_=st.sampled_from(("alias_free_torch", "sinc_bank")),
       data_format=st.sampled_from(FORMATS), channel_copies=st.booleans())
def test_activation_equals_a_direct_reference_at_every_length(name, ratio, kernels, time,
                                                              filter_, data_format,
                                                              channel_copies):
    """With up == down the layer runs the activation on the upsampler's phases and
    decimates them as they are (the engine's up_map_down), except for lengths too short for
    it: either way, the numbers of a direct NumPy reference (backends/numpy.py: every output
    a sum over the edge-extended input, then the activation, then the decimator's sum), for
    both filter designs, every length, both data formats, and on torch both forms of the
    upsampling bank (on copies of each channel, or with a channel multiplier)."""
    up_kernel, down_kernel = kernels
    if filter_ == "alias_free_torch" and up_kernel <= ratio:
        up_kernel += ratio
    x = signal(time, data_format, scale=2.0, seed=time)
    layer = AliasFreeActivation1D(name, ratio, ratio, up_kernel, down_kernel,
                                  data_format=data_format, filter=filter_)
    layer.build(x.shape)
    if name.startswith("snake"):
        _random_snake(layer)
    expected = backends.load("numpy").alias_free_activation_1d(
        x, _numpy_activation(name, layer), ratio, ratio, up_kernel, down_kernel, filter_,
        data_format)
    limit = engine._REPEATED_CHANNELS_LIMIT if channel_copies else 0
    with mock.patch.object(engine, "_REPEATED_CHANNELS_LIMIT", limit):
        got = to_numpy(layer(to_backend(x)))
    assert relative_error(got, expected) <= 2e-6


def test_activation_at_the_phases_is_taken_for_bigvgan_shapes():
    """BigVGAN's case (snake, up = down = 2, 12 taps) at a real length takes the phase path;
    other ratios and lengths shorter than the upsampler's taps do not."""
    from upsample1d.ops import alias_free

    assert alias_free.phases_apply(64, 2, 2, 12, "alias_free_torch")
    assert not alias_free.phases_apply(64, 2, 1, 12, "alias_free_torch")
    assert not alias_free.phases_apply(5, 2, 2, 12, "alias_free_torch")
    assert not alias_free.phases_apply(None, 2, 2, 12, "alias_free_torch")


@REFERENCE
@pytest.mark.parametrize(("up", "down", "up_kernel", "down_kernel", "time"),
                         [(2, 1, 12, 12, 9), (4, 2, 16, 7, 10), (1, 2, 6, 12, 11),
                          (3, 3, 5, 9, 8)])
def test_activation_other_ratios_equal_reference(up, down, up_kernel, down_kernel, time):
    x = signal(time, "channels_first", scale=2.0)
    layer = AliasFreeActivation1D("tanh", up, down, up_kernel, down_kernel,
                                  data_format="channels_first")
    expected = torch_reference().alias_free_activation_1d(
        x, _torch_activation("tanh", layer), up, down, up_kernel, down_kernel,
        "channels_first")
    got = to_numpy(layer(to_backend(x)))
    assert got.shape[2] == -(-time * up // down)
    assert relative_error(got, expected) <= TOLERANCE


@REFERENCE
@pytest.mark.parametrize("data_format", FORMATS)
def test_gradients_equal_reference(data_format):
    """d/dx and d/dalpha, d/dbeta of sum(y * cotangent), against torch autograd."""
    import torch

    x = signal(13, data_format, scale=2.0)
    layer = AliasFreeActivation1D("snakebeta", data_format=data_format)
    layer.build(x.shape)
    _random_snake(layer)
    cotangent = signal(13, data_format, seed=5)
    module = _torch_activation("snakebeta", layer)
    _, dx, (dalpha, dbeta) = torch_reference().alias_free_activation_1d(
        x, module, data_format=data_format, cotangent=cotangent,
        params=[module.alpha, module.beta])
    grads = layer_grads(layer, to_backend(x), to_backend(cotangent))
    for got, want in zip(grads, [dx, dalpha, dbeta], strict=True):
        assert relative_error(got, want) <= 1e-5
    assert isinstance(module.alpha, torch.nn.Parameter)


def test_callables_and_layers_see_the_layer_data_format():
    """A name or Snake1D runs on the internal channels_first layout; any other callable is
    called in the layer's data_format (PReLU has one slope per channel: last axis)."""
    x = signal(10, "channels_last", channels=3)
    prelu = keras.layers.PReLU(alpha_initializer="random_uniform", shared_axes=[1])
    layer = AliasFreeActivation1D(prelu)
    y = to_numpy(layer(to_backend(x)))
    assert tuple(prelu.alpha.shape) == (1, 3)
    alpha = to_numpy(prelu.alpha)[0]
    keras_fn = AliasFreeActivation1D(keras.activations.tanh)
    by_name = AliasFreeActivation1D("tanh")
    np.testing.assert_allclose(to_numpy(keras_fn(to_backend(x))),
                               to_numpy(by_name(to_backend(x))), atol=0)
    assert keras_fn.get_config()["activation"] == "tanh"
    up = to_numpy(upsample_alias_free_1d(to_backend(x), 2, 12))
    expected = to_numpy(downsample_alias_free_1d(
        to_backend(np.where(up > 0, up, up * alpha).astype(np.float32)), 2, 12))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("ratio", "filter_", "delay"), [
    (2, "alias_free_torch", 0.0), (4, "alias_free_torch", 0.25), (3, "alias_free_torch", 1 / 3),
    (2, "sinc_bank", 0.0), (4, "sinc_bank", 0.0)])
def test_alignment(ratio, filter_, delay):
    """The delay of a slow sine through the linear activation, in input samples."""
    n = np.arange(2048)
    f = 0.01
    x = np.sin(2 * np.pi * f * n).astype(np.float32)[None, :, None]
    layer = AliasFreeActivation1D("linear", ratio, ratio, 6 * ratio, 6 * ratio, filter=filter_)
    middle = slice(224, 1824)  # 16 whole periods, away from the edges
    y = to_numpy(layer(to_backend(x)))[0, middle, 0].astype(np.float64)
    phase = 2 * np.pi * f * n[middle]
    measured = -np.arctan2(y @ np.cos(phase), y @ np.sin(phase)) / (2 * np.pi * f)
    assert abs(measured - delay) < 1e-3, measured


# ----------------------------------------------------------------------------- shapes, saving
def test_symbolic_shapes_with_unknown_time():
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, [AliasFreeActivation1D("snake")(inputs),
                                 AliasFreeActivation1D("tanh", 4, 2)(inputs),
                                 Snake1D()(inputs)])
    assert [tuple(s) for s in model.output_shape] == [(None, None, 4), (None, None, 4),
                                                      (None, None, 4)]
    for time in (5, 16, 9):
        outputs = model.predict(signal(time, "channels_last", channels=4), verbose=0)
        assert [o.shape[1] for o in outputs] == [time, 2 * time, time]
    first = AliasFreeActivation1D("relu", 2, 4, data_format="channels_first")
    assert first.compute_output_shape((None, 8, 9)) == (None, 8, 5)
    assert first(keras.Input((8, None))).shape == (None, 8, None)


def test_tf_function_with_unknown_batch_and_time():
    if BACKEND != "tensorflow":
        pytest.skip("tf.function input signatures are TensorFlow-only")
    import tensorflow as tf

    layer = AliasFreeActivation1D("snake")
    layer.build((None, None, 2))
    traced = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 2))])
    for batch, time in ((1, 8), (2, 9), (3, 1)):
        x = signal(time, "channels_last", channels=2, batch=batch)
        np.testing.assert_allclose(traced(x).numpy(), layer(x).numpy(), rtol=1e-5, atol=1e-6)
    assert len(traced._list_all_concrete_functions()) == 1


def _saved_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, 3))
    x = AliasFreeActivation1D("snake", name="af_snake")(inputs)
    x = AliasFreeActivation1D("leaky_relu", 4, 4, 16, 16, filter="sinc_bank")(x)
    x = keras.layers.Permute((2, 1))(x)
    x = AliasFreeActivation1D(Snake1D(use_beta=True, alpha_logscale=True),
                              data_format="channels_first")(x)
    x = keras.layers.Permute((2, 1))(x)
    return keras.Model(inputs, Snake1D(alpha=0.7)(x))


def test_keras_round_trip_safe_mode(tmp_path):
    model = _saved_model()
    snake = model.get_layer("af_snake").activation
    snake.alpha.assign(np.array([0.5, 1.5, 2.0], np.float32))
    x = signal(21, "channels_last")
    expected = model.predict(x, verbose=0)
    path = tmp_path / "alias_free.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(to_numpy(loaded.get_layer("af_snake").activation.alpha),
                                  [0.5, 1.5, 2.0])
    for layer in model.layers[1:]:
        if isinstance(layer, AliasFreeActivation1D | Snake1D):
            clone = type(layer).from_config(layer.get_config())
            assert clone.get_config() == layer.get_config()
            assert keras.saving.get_registered_name(type(layer)) == \
                f"upsample1d>{type(layer).__name__}"


# ----------------------------------------------------------------------------- compilers
def test_compiled_forward_and_backward_match_eager():
    """One compiler per backend: jax.jit, tf.function(jit_compile=True) (XLA), torch.compile
    (aot_eager: Dynamo + AOTAutograd, without Inductor's C++ code generation)."""
    layers = [AliasFreeActivation1D("snakebeta"),
              AliasFreeActivation1D("tanh", 4, 4, 16, 16, data_format="channels_first",
                                    filter="sinc_bank")]
    xs = [to_backend(signal(9, df)) for df in FORMATS]
    if BACKEND == "torch":  # Dynamo breaks its graph at each NumPy filter bank: ~30 s a layer
        layers, xs = layers[:1], xs[:1]
    for layer, x in zip(layers, xs, strict=True):
        layer(x)
        if layer.activation_name.startswith("snake"):
            _random_snake(layer)

    def loss(*inputs):
        return sum(keras.ops.sum(layer(x) ** 2) for layer, x in zip(layers, inputs,
                                                                     strict=True))

    if BACKEND == "torch":
        import torch

        compiled = torch.compile(loss, backend="aot_eager", dynamic=False)
        eager_x = [x.detach().clone().requires_grad_(True) for x in xs]
        comp_x = [x.detach().clone().requires_grad_(True) for x in xs]
        weights = [w.value for layer in layers for w in layer.trainable_weights]
        eager = torch.autograd.grad(loss(*eager_x), eager_x + weights)
        got = torch.autograd.grad(compiled(*comp_x), comp_x + weights)
    else:
        eager = _grads(loss, xs, layers, compiled=False)
        got = _grads(loss, xs, layers, compiled=True)
    assert len(eager) == len(got) == len(layers) + sum(len(lay.trainable_weights)
                                                       for lay in layers)
    for a, b in zip(eager, got, strict=True):
        np.testing.assert_allclose(to_numpy(b), to_numpy(a), rtol=1e-4, atol=1e-5)


def _grads(loss, xs, layers, compiled):
    """Gradients of ``loss`` for the inputs and every weight (jax, tensorflow)."""
    variables = [w for layer in layers for w in layer.trainable_weights]
    if BACKEND == "jax":
        import jax

        def fn(values, xs):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                return loss(*xs)

        grad = jax.grad(fn, argnums=(0, 1))
        g_vars, g_xs = (compile_fn(grad) if compiled else grad)([v.value for v in variables],
                                                                xs)
        return list(g_xs) + list(g_vars)
    import tensorflow as tf

    def step(*inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            value = loss(*inputs)
        return tape.gradient(value, [*inputs, *variables])

    return (tf.function(step, jit_compile=True) if compiled else step)(*xs)


# ----------------------------------------------------------------------------- precision
@pytest.mark.parametrize("policy", ("mixed_float16", "mixed_bfloat16"))
def test_mixed_precision(policy):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        layer = AliasFreeActivation1D("snake")
        x = signal(17, "channels_last")
        y = layer(x)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(y.dtype) == policy[6:]
    assert all(keras.backend.standardize_dtype(w.dtype) == "float32" for w in layer.weights)
    full = AliasFreeActivation1D("snake")
    expected = to_numpy(full(x))
    got = to_numpy(keras.ops.cast(y, "float32"))
    assert relative_error(got, expected) < (2e-2 if policy == "mixed_bfloat16" else 3e-3)


# ----------------------------------------------------------------------------- errors
def test_bad_arguments_name_the_argument_and_value():
    cases = [
        (lambda: AliasFreeActivation1D("tanh", up=0), ValueError, r"`up` .* up=0"),
        (lambda: AliasFreeActivation1D("tanh", down=1.5), TypeError, r"`down` .* 1\.5"),
        (lambda: AliasFreeActivation1D("tanh", up=4, up_kernel_size=4), ValueError,
         r"`up_kernel_size` .* up_kernel_size=4"),
        (lambda: AliasFreeActivation1D("tanh", filter="kaiser"), ValueError,
         r"`filter` .* filter='kaiser'"),
        (lambda: AliasFreeActivation1D("tanh", data_format="nwc"), ValueError,
         r"`data_format` .* data_format='nwc'"),
        (lambda: AliasFreeActivation1D("no_such_fn"), ValueError,
         r"`activation` .* activation='no_such_fn'"),
        (lambda: AliasFreeActivation1D("softmax"), ValueError, r"activation='softmax'"),
        (lambda: AliasFreeActivation1D("Softmax"), ValueError, r"mixes samples"),
        (lambda: AliasFreeActivation1D(keras.activations.softmax), ValueError,
         r"softmax mixes samples"),
        (lambda: AliasFreeActivation1D(3), TypeError, r"`activation` .* 3 of type int"),
        (lambda: Snake1D(alpha=0), ValueError, r"`alpha` .* alpha=0"),
        (lambda: upsample_alias_free_1d(np.zeros((1, 4, 1), np.float32), 2, 2), ValueError,
         r"`kernel_size` .* kernel_size=2"),
        (lambda: downsample_alias_free_1d(np.zeros((1, 4, 1), np.float32), -2), ValueError,
         r"`factor` .* factor=-2"),
        (lambda: upsample_alias_free_1d(np.zeros((1, 4, 1), np.int32), 2), TypeError,
         "floating-point input, got dtype int32"),
        (lambda: downsample_alias_free_1d(np.zeros((4, 1), np.float32), 2), ValueError,
         "rank-3"),
        (lambda: kaiser_sinc_filter(0.6, 0.3, 12), ValueError, r"`cutoff` .* cutoff=0\.6"),
        (lambda: AliasFreeActivation1D("tanh")(np.zeros((1, 4, 2), np.int32)), TypeError,
         "floating-point input, got dtype int32"),
        (lambda: Snake1D().build((None, None, None)), ValueError, "known channel dimension"),
    ]
    for make, error, message in cases:
        with pytest.raises(error, match=message):
            make()


# ----------------------------------------------------------------------------- aliasing
def test_aliasing_measurement():
    """Identity: nothing folds; relu at the input rate folds a lot; the alias-free versions
    fold less (numbers for the README: artifacts.aliasing_table())."""
    options = {"window": 1024, "oversample": 16, "tones": (0.09, 0.17, 0.34)}
    linear = artifacts.measure_aliasing("linear", **options)
    assert linear.mean_aliasing_db < -100 and linear.mean_error_db < -100
    plain = artifacts.measure_aliasing("tanh", **options)
    assert artifacts.measure_aliasing("TANH", **options).aliasing_db.tolist() == \
        plain.aliasing_db.tolist()  # the letter-case rule
    free = artifacts.measure_aliasing(AliasFreeActivation1D("tanh"), **options)
    long = artifacts.measure_aliasing(AliasFreeActivation1D(
        "tanh", filter="sinc_bank", up_kernel_size=40, down_kernel_size=40), **options)
    assert plain.mean_aliasing_db > -30
    assert free.mean_aliasing_db < plain.mean_aliasing_db - 5
    assert long.aliasing_db[-1] < free.aliasing_db[-1] - 5  # a sharper filter at 0.34 fs
    assert plain.aliasing_db.shape == plain.error_db.shape == (3,)
    assert np.all(plain.tones_hz * 1024 / 16000 % 2 == 1)  # odd bins
    rows = artifacts.aliasing_table(["snake"], **options)
    assert len(rows) == len(artifacts.ALIASING_VERSIONS)
    assert "| snake | plain |" in artifacts.format_aliasing_table(rows)
    with pytest.raises(ValueError, match=r"`tones` .*tones=\(0\.6,\)"):
        artifacts.measure_aliasing("tanh", tones=(0.6,))
    with pytest.raises(ValueError, match="up=2, down=1"):
        artifacts.measure_aliasing(AliasFreeActivation1D("tanh", 2, 1))


def test_plot_aliasing(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("scipy")
    path = tmp_path / "aliasing.png"
    fig = artifacts.plot_aliasing(["tanh"], path=path, seconds=0.25)
    assert path.stat().st_size > 1000
    assert len([ax for ax in fig.axes if ax.get_title()]) == len(artifacts.ALIASING_VERSIONS)
