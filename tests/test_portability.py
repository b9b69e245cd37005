"""Green wherever users run it: channels_first everywhere (TF's CPU without oneDNN), an empty
time axis, devices on torch, bits through NumPy input, unknown sizes in TF graphs, weights
that train and load on every backend, one letter-case rule for every string option."""

import warnings

import keras
import ml_dtypes
import numpy as np
import pytest
from conftest import (
    BACKEND,
    bits,
    compile_fn,
    keras_device,
    requires_gpu,
    to_backend,
    to_numpy,
)

from upsample1d import ops as u_ops
from upsample1d.layers import (
    InterpolationUpsample1D,
    SpaceToDepth1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)

FORMATS = ("channels_last", "channels_first")


def _swap(x):
    return np.swapaxes(np.asarray(x), 1, 2)


def _layer_cases():
    """(name, make(data_format), input channels): every layer, every implementation."""
    return [
        ("Subpixel1D-CRD", lambda df: Subpixel1D(2, df, "CRD"), 6),
        ("SpaceToDepth1D", lambda df: SpaceToDepth1D(2, df), 3),
        ("SubpixelConv1D-bias", lambda df: SubpixelConv1D(
            3, 2, data_format=df, use_bias=True, bias_initializer="random_normal"), 4),
        ("SubpixelConv1D-CRD", lambda df: SubpixelConv1D(1, 3, mode="CRD", data_format=df), 4),
        ("Transposed-polyphase", lambda df: TransposedConvUpsample1D(
            3, 2, data_format=df, use_bias=True, bias_initializer="random_normal"), 4),
        ("Transposed-native", lambda df: TransposedConvUpsample1D(
            3, 3, implementation="native", data_format=df), 4),
        ("Interp-nearest-fused", lambda df: InterpolationUpsample1D(
            2, 2, "nearest", kernel_size=5, data_format=df), 4),
        ("Interp-linear-fused", lambda df: InterpolationUpsample1D(
            2, 3, "linear", kernel_size=4, data_format=df), 4),
        ("Interp-sinc-direct", lambda df: InterpolationUpsample1D(
            2, 2, "sinc", kernel_size=3, implementation="direct", data_format=df), 4),
        ("Upsample1D-sinc", lambda df: Upsample1D(2, 2, method="sinc", kernel_size=3,
                                                  data_format=df), 4),
    ]


LAYER_CASES = _layer_cases()
OP_CASES = [
    ("depth_to_space_1d", lambda x, df: u_ops.depth_to_space_1d(x, 2, df, "CRD"), 6),
    ("space_to_depth_1d", lambda x, df: u_ops.space_to_depth_1d(x, 2, df), 3),
    ("upsample_nearest_1d", lambda x, df: u_ops.upsample_nearest_1d(x, 3, df), 3),
    ("upsample_linear_1d", lambda x, df: u_ops.upsample_linear_1d(x, 3, df), 3),
    ("upsample_sinc_1d", lambda x, df: u_ops.upsample_sinc_1d(x, 2, df), 3),
    ("polyphase_upsample_1d", lambda x, df: u_ops.polyphase_upsample_1d(
        x, np.array([[1.0, 0.5], [0.0, 0.5]]), (0, 1), df), 3),
]


# ----------------------------------------------------------------------------- channels_first
@pytest.mark.parametrize(("name", "make", "channels"), LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layers_channels_first_equal_channels_last(name, make, channels):
    """On TF without oneDNN an NCW convolution raises on the CPU: every layer must still run
    channels_first (CI runs TF with TF_ENABLE_ONEDNN_OPTS=0)."""
    x = np.random.default_rng(0).normal(size=(2, 12, channels)).astype(np.float32)
    last, first = make("channels_last"), make("channels_first")
    y_last = to_numpy(last(to_backend(x)))
    first.build(_swap(x).shape)
    first.set_weights(last.get_weights())
    y_first = to_numpy(first(to_backend(_swap(x).copy())))
    np.testing.assert_allclose(_swap(y_first), y_last, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "op", "channels"), OP_CASES, ids=[c[0] for c in OP_CASES])
def test_ops_channels_first_equal_channels_last(name, op, channels):
    x = np.random.default_rng(1).normal(size=(2, 10, channels)).astype(np.float32)
    y_last = to_numpy(op(to_backend(x), "channels_last"))
    y_first = to_numpy(op(to_backend(_swap(x).copy()), "channels_first"))
    np.testing.assert_allclose(_swap(y_first), y_last, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- empty time axis
def _empty(channels, df, batch=1):
    shape = (batch, 0, channels) if df == "channels_last" else (batch, channels, 0)
    return np.zeros(shape, np.float32)


def _expected_empty(name, channels, df, batch=1, filters=None):
    """Shape of the output for T = 0: time stays 0, channels follow the op."""
    out = {"depth_to_space_1d": channels // 2, "space_to_depth_1d": channels * 2}.get(
        name, channels if filters is None else filters)
    return (batch, 0, out) if df == "channels_last" else (batch, out, 0)


@pytest.mark.parametrize("df", FORMATS)
@pytest.mark.parametrize(("name", "op", "channels"), OP_CASES, ids=[c[0] for c in OP_CASES])
def test_ops_on_an_empty_time_axis(name, op, channels, df):
    for batch in (1, 3):
        x = to_backend(_empty(channels, df, batch))
        assert tuple(op(x, df).shape) == _expected_empty(name, channels, df, batch)
        if BACKEND == "torch":  # one source line compiled for many closures: start afresh
            import torch

            torch._dynamo.reset()
        compiled = compile_fn(lambda x: op(x, df), torch_backend="aot_eager")
        assert tuple(compiled(x).shape) == _expected_empty(name, channels, df, batch)


@pytest.mark.parametrize("df", FORMATS)
@pytest.mark.parametrize(("name", "make", "channels"), LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layers_on_an_empty_time_axis(name, make, channels, df):
    layer = make(df)
    x = to_backend(_empty(channels, df, batch=3))
    y = layer(x)
    if name.startswith("Subpixel1D"):
        expected = _expected_empty("depth_to_space_1d", channels, df, 3)
    elif name.startswith("SpaceToDepth1D"):
        expected = _expected_empty("space_to_depth_1d", channels, df, 3)
    else:
        expected = _expected_empty(name, channels, df, 3, filters=layer.filters)
    assert tuple(y.shape) == expected
    assert tuple(layer.compute_output_shape(x.shape)) == expected


def test_symbolic_empty_time_axis():
    y = u_ops.depth_to_space_1d(keras.KerasTensor((None, 0, 6)), 2)
    assert y.shape == (None, 0, 3)


# ----------------------------------------------------------------------------- torch devices
def _other_default_device():
    """A Keras device scope other than the tensors' own: 'meta' (shape-only tensors), which
    stands in for a GPU host's 'cuda' on a CPU machine."""
    return keras.device("meta")


@pytest.mark.skipif(BACKEND != "torch", reason="devices of native tensors: torch backend")
def test_ops_keep_the_device_of_a_torch_input():
    import torch

    x = torch.randn(2, 12, 8, device=keras_device())
    with _other_default_device():
        for name, op, _ in OP_CASES:
            channels = 6 if name == "depth_to_space_1d" else 3
            y = op(x[..., :channels], "channels_last")
            assert y.device == x.device, name


@pytest.mark.skipif(BACKEND != "torch", reason="torch.nn use needs the torch backend")
def test_layers_in_torch_sequential_follow_their_input_device():
    """Unbuilt layers build their weights on their first input's device; built ones move
    with ``.to(device)`` like any torch module."""
    import torch

    device = keras_device()
    with _other_default_device():
        model = torch.nn.Sequential(
            SubpixelConv1D(4, 2, data_format="channels_first"),
            InterpolationUpsample1D(2, 2, "linear", kernel_size=3, data_format="channels_first"))
        x = torch.randn(2, 3, 16, device=device)
        y = model(x)
        assert y.device == x.device and y.shape == (2, 2, 64)
        assert all(p.device == x.device for p in model.parameters())
    moved = model.to(device)
    assert moved(x).device == x.device


# ----------------------------------------------------------------------------- NumPy input
def test_bfloat16_numpy_input_keeps_every_bit():
    """NaN payloads and signs survive NumPy bfloat16 input on every backend (Keras' own
    conversion goes through float32 on torch and loses them)."""
    raw = np.array([0x7F81, 0xFF81, 0x7FC1, 0x0001, 0x8000, 0x3F80], np.uint16)
    x = np.tile(raw.view(ml_dtypes.bfloat16), 2).reshape(1, 2, 6)
    y = u_ops.depth_to_space_1d(x, 2, mode="CRD")
    back = u_ops.space_to_depth_1d(y, 2, mode="CRD")
    np.testing.assert_array_equal(bits(back), bits(x))
    np.testing.assert_array_equal(bits(u_ops.depth_to_space_1d(x, 1)), bits(x))


def test_numpy_dtypes_the_backend_cannot_hold_warn():
    x = np.arange(12, dtype=np.float64).reshape(1, 2, 6)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        y = u_ops.depth_to_space_1d(x, 2)
    converted = keras.backend.standardize_dtype(y.dtype)
    messages = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    if converted == "float64":
        assert not messages
    else:  # JAX without x64
        assert any("float64" in m and converted in m for m in messages), messages
    np.testing.assert_array_equal(to_numpy(u_ops.space_to_depth_1d(y, 2)), x)


# ----------------------------------------------------------------------------- TF graphs
@pytest.mark.skipif(BACKEND != "tensorflow", reason="unknown sizes while tracing: TF graphs")
def test_unknown_channels_in_a_tf_graph_fail_naming_block_size():
    import tensorflow as tf

    fn = tf.function(lambda x: u_ops.depth_to_space_1d(x, 3),
                     input_signature=[tf.TensorSpec((None, None, None), tf.float32)])
    assert fn(tf.zeros((2, 4, 6))).shape == (2, 12, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="channel axis.*block_size=3"):
        fn(tf.zeros((2, 4, 7)))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="unknown sizes while tracing: TF graphs")
def test_empty_time_axis_at_run_time_in_a_tf_graph_with_unknown_length():
    """Edge replication reads the first and last sample: with T = 0 known only when the
    graph runs, every op and layer still returns an empty time axis."""
    import tensorflow as tf

    from upsample1d.layers import AliasFreeActivation1D

    cases = {  # name: (fn, output length for T = 5)
        "upsample_linear_1d": (lambda x: u_ops.upsample_linear_1d(x, 2), 10),
        "upsample_sinc_1d": (lambda x: u_ops.upsample_sinc_1d(x, 2), 10),
        "upsample_alias_free_1d": (lambda x: u_ops.upsample_alias_free_1d(x, 2), 10),
        "downsample_alias_free_1d": (lambda x: u_ops.downsample_alias_free_1d(x, 2), 3),
        "downsample_sinc_1d": (lambda x: u_ops.downsample_sinc_1d(x, 2), 3),
        "InterpolationUpsample1D-linear": (InterpolationUpsample1D(3, 2, "linear"), 10),
        "AliasFreeActivation1D": (AliasFreeActivation1D("snake"), 5),
    }
    for name, (fn, length) in cases.items():
        graph = tf.function(fn, input_signature=[tf.TensorSpec((None, None, 4), tf.float32)])
        assert graph(tf.zeros((2, 0, 4))).shape[1] == 0, name
        assert graph(tf.zeros((2, 5, 4))).shape[1] == length, name


@pytest.mark.skipif(BACKEND != "jax", reason="jax.jit tracers")
def test_a_trace_leaves_no_tracer_in_the_constant_cache():
    """A layer run under jax.jit with a concrete input (stateless_call) must not keep the
    trace's constants: later eager calls would meet a leaked tracer."""
    import jax
    import jax.numpy as jnp

    from upsample1d.ops import _polyphase

    _polyphase._TENSORS.clear()
    layer = InterpolationUpsample1D(3, 2, method="linear")
    x = jnp.ones((2, 16, 4))
    layer.build(x.shape)
    weights = [v.value for v in layer.trainable_variables]
    jax.jit(lambda w: layer.stateless_call(w, [], x)[0].sum())(weights)
    assert to_numpy(layer(x)).shape == (2, 32, 3)
    assert not any(isinstance(v, jax.core.Tracer) for v in _polyphase._TENSORS.values())


@pytest.mark.skipif(BACKEND != "torch", reason="torch.inference_mode")
def test_a_call_in_inference_mode_does_not_break_training_later():
    import torch

    from upsample1d.ops import _polyphase

    _polyphase._TENSORS.clear()
    with torch.inference_mode():
        u_ops.upsample_linear_1d(torch.randn(1, 8, 2), 2)
    x = torch.randn(1, 8, 2, requires_grad=True)
    u_ops.upsample_linear_1d(x, 2).sum().backward()
    assert x.grad is not None and tuple(x.grad.shape) == (1, 8, 2)


def test_a_kept_call_does_not_accept_what_a_new_one_refuses():
    """The shuffle keeps a checked call's runner; a float or bool block size equal to a kept
    int must still be refused, and the error must not chain the cache's KeyError."""
    x = to_backend(np.zeros((1, 2, 4), np.float32))
    u_ops.depth_to_space_1d(x, 2)
    u_ops.depth_to_space_1d(x, 1)
    for bad in (2.0, np.float32(2), True):
        with pytest.raises(TypeError, match="block_size") as caught:
            u_ops.depth_to_space_1d(x, bad)
        assert caught.value.__context__ is None, bad
    with pytest.raises(TypeError, match="block_size"):
        u_ops.space_to_depth_1d(x, 2.0)


# ----------------------------------------------------------------------------- weights
def _learned_cases():
    cases = []
    for filters in (1, 3):
        for mode in ("DCR", "CRD"):
            cases.append((f"SubpixelConv1D-{mode}-{filters}",
                          lambda f=filters, m=mode: SubpixelConv1D(f, 2, mode=m)))
        cases += [
            (f"Transposed-{filters}", lambda f=filters: TransposedConvUpsample1D(f, 2)),
            (f"Interp-linear-{filters}", lambda f=filters: InterpolationUpsample1D(
                f, 2, "linear", kernel_size=3)),
            (f"Upsample1D-subpixel-CRD-{filters}", lambda f=filters: Upsample1D(
                f, 2, mode="CRD")),
        ]
    return cases


@pytest.mark.parametrize(("name", "make"), _learned_cases(), ids=[c[0] for c in _learned_cases()])
def test_weights_can_be_set_assigned_and_trained(name, make):
    """Initializers give fresh, contiguous tensors: on torch an ICNR kernel built with a
    broadcast (stride-0) view could not be written to."""
    layer = make()
    inputs = keras.Input((8, 2))
    model = keras.Model(inputs, layer(inputs))
    weights = [np.full(w.shape, 0.25, np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    layer.trainable_variables[0].assign(np.full(weights[0].shape, 0.5, np.float32))
    np.testing.assert_array_equal(to_numpy(layer.trainable_variables[0]), 0.5)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(2, 8, 2)).astype(np.float32)
    model.train_on_batch(x, np.zeros((2, 16, layer.filters), np.float32))
    assert not np.all(to_numpy(layer.trainable_variables[0]) == 0.5)


# ----------------------------------------------------------------------------- letter case
def test_one_letter_case_rule_for_every_string_option():
    assert Subpixel1D(2, "CHANNELS_FIRST", "crd").get_config()["mode"] == "CRD"
    assert TransposedConvUpsample1D(2, 2, overlap="None", implementation="NATIVE") \
        .get_config()["implementation"] == "native"
    layer = InterpolationUpsample1D(2, 2, method="Nearest", implementation="Direct")
    assert (layer.method, layer.implementation) == ("nearest", "direct")
    assert Upsample1D(2, 2, method="SINC").method == "sinc"
    from upsample1d.layers import AliasFreeActivation1D, Downsample1D

    assert AliasFreeActivation1D("Tanh", filter="SINC_BANK").get_config()["activation"] == "tanh"
    assert AliasFreeActivation1D("SnakeBeta").activation_name == "snakebeta"
    assert Downsample1D(2, 2, method="Space_To_Depth").method == "space_to_depth"
    x = np.ones((1, 4, 2), np.float32)
    np.testing.assert_array_equal(
        to_numpy(u_ops.polyphase_upsample_1d(x, np.ones((1, 2)), (0, 0), edge="ZEROS")),
        to_numpy(u_ops.upsample_nearest_1d(x, 2)))


# ----------------------------------------------------------------------------- TF32 (GPU)
@requires_gpu
@pytest.mark.skipif(BACKEND != "torch", reason="TF32 is torch's default for float32 convs")
def test_tf32_convolutions_stay_within_their_precision():
    """With torch's default TF32 (10-bit mantissa) on Ampere and newer GPUs, the polyphase and
    native transposed convs, which round differently, agree to ~1e-3 relative, not 1e-5; the
    rest of the suite pins full float32 (conftest.full_precision_matmuls)."""
    import torch

    layer = TransposedConvUpsample1D(16, 4, data_format="channels_first")
    x = to_backend(np.random.default_rng(0).normal(size=(4, 32, 256)).astype(np.float32))
    native = TransposedConvUpsample1D(16, 4, implementation="native",
                                      data_format="channels_first")
    native.build(x.shape)
    layer.build(x.shape)
    native.set_weights(layer.get_weights())
    saved = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True
    try:
        a, b = to_numpy(layer(x)), to_numpy(native(x))
    finally:
        torch.backends.cudnn.allow_tf32 = saved
    assert np.abs(a - b).max() <= 5e-3 * np.abs(b).max()
