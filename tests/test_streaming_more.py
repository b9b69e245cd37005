"""Streaming, continued: compiled steps, bad input, and the reference models at realistic
sizes (``slow``).

- ``step`` under the backend's compiler (``jax.jit``, ``tf.function(jit_compile=True)``,
  ``torch.compile``, one graph) gives the offline output, and traces once per state
  signature: a fixed chunk length stops tracing once the histories are full;
- every refusal names the thing and why: a chunk that is not a multiple of the hop, layers
  that cannot stream, a state of another batch size, dtype or stream, a flushed state.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import BACKEND, compile_fn
from keras import ops

from benchmarks.streaming_cases import (
    alias_free_gru_sinc_model,
    relative_error,
    residual_model,
    run_stream,
    to_numpy,
)
from upsample1d import _backend
from upsample1d.layers import Snake1D, SubpixelConv1D, TransposedConvUpsample1D
from upsample1d.models import autoencoder, demucs_like
from upsample1d.streaming import NotStreamableError, Stream

TOLERANCE = 1e-6


SMALL_MODELS = {
    "autoencoder": lambda: autoencoder("linear", length=None, hidden=8),
    "residual": residual_model,
    "alias_free_gru_sinc": alias_free_gru_sinc_model,
    "demucs_like": lambda: demucs_like("transposed", length=None, depth=2, channels=4,
                                       lstm_layers=1, lstm="unidirectional"),
}


def _small_model(name):
    """Built when a test asks (not at collection, which every pytest worker repeats)."""
    keras.utils.set_random_seed(11)
    return SMALL_MODELS[name]()


def _signature(x, state):
    return (tuple(x.shape), tuple((k, tuple(v.shape)) for k, v in sorted(state.items())))


def _cases(names, default, backends=("torch",)):
    """``names`` as params; on ``backends`` only ``default`` in the default run, the rest
    ``slow`` (torch takes seconds to capture each graph through Keras; JAX compiles each op
    of the eager warm-up steps)."""
    slow = [pytest.mark.slow] if BACKEND in backends else []
    return [pytest.param(n, marks=() if n in default else slow) for n in names]


@pytest.mark.parametrize("name", _cases(list(SMALL_MODELS), ["residual"]))
def test_compiled_step_is_exact_and_traces_once_per_state_shape(name):
    """The backend's compiler on ``stream.step`` itself."""
    if BACKEND == "torch":  # one graph per warm-up state shape: more than torch's default 8
        import torch

        with torch._dynamo.config.patch(recompile_limit=64):
            _compiled_step_is_exact_and_traces_once_per_state_shape(name)
    else:
        _compiled_step_is_exact_and_traces_once_per_state_shape(name)


def _compiled_step_is_exact_and_traces_once_per_state_shape(name):
    model = _small_model(name)
    stream = Stream(model)
    channels = model.inputs[0].shape[-1]
    blocks = max(8, -(-2 * stream.latency // stream.hop))  # chunks: a short warm-up
    x = np.random.default_rng(0).normal(size=(2, stream.hop * blocks * 5, channels))
    x = x.astype("float32")
    traces, signatures = [], set()

    def counted(chunk, state):
        traces.append(1)  # runs when the compiler traces (JAX, TensorFlow)
        return stream.step(chunk, state)

    compiled = compile_fn(counted, torch_backend="aot_eager")

    def step(chunk, state):
        signatures.add(_signature(chunk, state))
        return compiled(chunk, state)

    offline = to_numpy(model(x))  # first: the layers' constants are made eagerly
    sizes = [stream.hop * blocks] * 5
    streamed, _ = run_stream(stream, x, sizes, step=step)
    assert relative_error(streamed, offline) <= TOLERANCE
    if BACKEND != "torch":  # torch.compile replays the list append at every call
        assert len(traces) == len(signatures) < len(sizes)


# JAX by default on demucs_like: its state's keys are not in sorted order, which jax.jit's
# output dicts are (the steady path once missed the graph every other call there)
@pytest.mark.parametrize("name", _cases(
    ["autoencoder", "demucs_like"], ["demucs_like" if BACKEND == "jax" else "autoencoder"],
    ("torch", "jax")))
def test_compiled_step_compiles_once_per_chunk_length(name, monkeypatch):
    model = _small_model(name)
    stream = Stream(model)
    calls, step = [], stream.step
    if BACKEND != "torch":  # (torch.compile would guard on the list, recompiling each call)
        monkeypatch.setattr(stream, "step", lambda *a: (calls.append(1), step(*a))[1])
    options = {"backend": "aot_eager", "fullgraph": True} if BACKEND == "torch" else {}
    compiled = stream.compiled_step(**options)
    compiled_calls, specialised = [], _backend.specialised

    def counted(function, *args):  # the graph for one signature, its calls counted outside
        graph = specialised(function, *args)
        return lambda *a: (compiled_calls.append(1), graph(*a))[1]

    monkeypatch.setattr(_backend, "specialised", counted)
    unguarded, skipping = [], _backend.skipping_guards  # steady calls: the short guards
    monkeypatch.setattr(_backend, "skipping_guards", lambda: (unguarded.append(1),
                                                              skipping())[1])
    x = np.random.default_rng(1).normal(size=(1, stream.hop * 55, 1)).astype("float32")
    # then alternating: all guards on every call (the short ones wait for 3 in a row)
    sizes = [stream.hop] * 20 + [stream.hop * 4] * 5 + [stream.hop, stream.hop * 4] * 3
    streamed, _ = run_stream(stream, x, sizes, step=compiled)
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE
    # the two chunk lengths reached a steady state, one graph each (TensorFlow: a
    # ConcreteFunction)
    assert len(compiled.graphs) == 2
    assert 0 < len(compiled_calls) < len(sizes)  # the rest ran eagerly, warming up
    assert 0 < len(unguarded) < len(compiled_calls)  # the third in a row on
    if BACKEND != "torch":  # one trace per chunk length (torch replays the append)
        assert len(calls) - (len(sizes) - len(compiled_calls)) == 2


def test_compiled_step_survives_a_change_of_grad_mode():
    """torch: a compiled step first called with gradients on, then under no_grad (a global
    state its graphs are guarded on) compiles again instead of failing."""
    if BACKEND != "torch":
        pytest.skip("grad mode is torch's global state")
    import torch

    model = _small_model("autoencoder")
    stream = Stream(model)
    compiled = stream.compiled_step(backend="aot_eager")
    x = np.random.default_rng(2).normal(size=(1, 64 * 12, 1)).astype("float32")
    first, _ = run_stream(stream, x, [64] * 12, step=compiled)
    with torch.no_grad():
        second, _ = run_stream(stream, x, [64] * 12, step=compiled)
    offline = to_numpy(model(x))
    assert max(relative_error(first, offline), relative_error(second, offline)) <= TOLERANCE


def test_inductor_writes_a_cpp_wrapper_for_cpu_tensors_unless_told_otherwise():
    """torch: compile_step asks Inductor for its C++ wrapper where the arguments are CPU
    tensors; another backend, a mode (torch.compile takes a mode or options, not both) and
    the caller's own ``cpp_wrapper`` are left as they are."""
    if BACKEND != "torch":
        pytest.skip("Inductor is torch's compiler")
    import torch

    args = (torch.zeros(1, 4, 1), {"a/history": torch.zeros(1, 2, 1)})
    with_wrapper = _backend._with_cpp_wrapper
    assert with_wrapper({"dynamic": False}, args) == {
        "dynamic": False, "options": {"cpp_wrapper": True}}
    assert with_wrapper({"options": {"cpp_wrapper": False, "freezing": True}}, args) == {
        "options": {"cpp_wrapper": False, "freezing": True}}
    for options in ({"backend": "aot_eager"}, {"mode": "max-autotune"}):
        assert with_wrapper(options, args) == options
    assert with_wrapper({}, (np.zeros((1, 4, 1)),)) == {}  # no tensor tells the device
    if torch.cuda.is_available():
        assert with_wrapper({}, (torch.zeros(1, 4, 1, device="cuda"),)) == {}


def test_compiled_step_computes_with_the_current_weights():
    """A compiled step whose weights change computes with the new ones: on JAX, whose
    traces hold the weights they read as constants, it is jitted afresh; on torch what a
    layer makes from its weights alone (a transposed upsampler's polyphase kernel, Snake's
    factors) is a constant of the graphs until those weights change. The chunks are NumPy
    arrays, as a caller's may be."""
    inputs = keras.Input((None, 2))
    upsampler, snake = TransposedConvUpsample1D(3, 2), Snake1D()
    model = keras.Model(inputs, snake(upsampler(inputs)))
    stream = Stream(model)
    compiled = stream.compiled_step(**({"backend": "aot_eager"} if BACKEND == "torch" else {}))
    chunk = np.random.default_rng(3).normal(size=(1, 8, 2)).astype("float32")
    state = stream.initial_state(1)
    for _ in range(8):  # warm-up, then graph calls with every guard, then the short ones
        before, state = compiled(chunk, state)
    assert len(compiled.graphs) == 1
    if BACKEND == "torch":
        assert len(compiled.compiled._baked) == 2  # the kernel and Snake's factors
    upsampler.kernel.assign(upsampler.kernel * 2.0 + 0.5)
    snake.alpha.assign(snake.alpha * 3.0)
    after, _ = compiled(chunk, state)  # before any eager call could remake them
    expected, _ = stream.step(chunk, state)
    after, before, expected = to_numpy(after), to_numpy(before), to_numpy(expected)
    assert relative_error(after, expected) <= TOLERANCE
    assert relative_error(before, expected) > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SMALL_MODELS))
def test_compiled_step_with_inductor(name):
    if BACKEND != "torch":
        pytest.skip("Inductor is torch's compiler")
    model = _small_model(name)
    stream = Stream(model)
    x = np.random.default_rng(1).normal(size=(1, stream.hop * 32, model.inputs[0].shape[-1]))
    x = x.astype("float32")
    streamed, _ = run_stream(stream, x, [stream.hop * 8] * 4,
                             step=stream.compiled_step(fullgraph=True))
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE


# --- bad input -----------------------------------------------------------------------------

def _model(layer, shape=(None, 2)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, layer(inputs))


def _custom():
    class Smooth(keras.layers.Layer):
        def call(self, x):
            return x

    return _model(Smooth(name="smooth"))


def _training_batchnorm():
    inputs = keras.Input((None, 2))
    return keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs,
                                                                         training=True))


def _attention():
    inputs = keras.Input((None, 4))
    layer = keras.layers.MultiHeadAttention(2, 2, name="attention")
    return keras.Model(inputs, layer(inputs, inputs))


def _two_inputs():
    a, b = keras.Input((None, 2)), keras.Input((None, 2))
    return keras.Model([a, b], keras.layers.Add()([a, b]))


def _concat_time():
    inputs = keras.Input((None, 2))
    return keras.Model(inputs, keras.layers.Concatenate(axis=1, name="cat")([inputs, inputs]))


def _dense_on_time():
    inputs = keras.Input((2, 16))
    x = SubpixelConv1D(2, 2, data_format="channels_first")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, name="dense")(x))


def _same_stride_after(shortening, make_strided):
    inputs = keras.Input((None, 2))
    x = keras.layers.Conv1D(2, shortening + 1, padding="valid")(inputs)
    return keras.Model(inputs, make_strided()(x))


def _nested_training():
    inner_input = keras.Input((None, 2))
    inner = keras.Model(inner_input, keras.layers.BatchNormalization()(inner_input),
                        name="inner")
    inputs = keras.Input((None, 2))
    return keras.Model(inputs, inner(inputs, training=True))


def _reflect_conv():
    class ReflectConv1D(keras.layers.Conv1D):  # reflect-padded at the signal's ends
        def call(self, x):
            return super().call(ops.pad(x, [[0, 0], [1, 1], [0, 0]], mode="reflect"))

    return _model(ReflectConv1D(2, 3, name="conv"))


def _constant_along_time():
    inputs = keras.Input((None, 1))
    return keras.Model(inputs, keras.ops.multiply(inputs, np.ones((1, 8, 1), "float32")))


REFUSALS = {
    "bidirectional": (lambda: demucs_like(length=None, depth=2, channels=4),
                      r"'lstm0' \(Bidirectional\) cannot stream: its backward RNN starts at "
                      r"the end of the signal"),
    "global_pooling": (lambda: _model(keras.layers.GlobalAveragePooling1D(name="pool")),
                       r"'pool' .* pools over the whole time axis"),
    "attention": (_attention, r"'attention' .* attends over the whole time axis"),
    "batchnorm_training": (_training_batchnorm, r"'bn' .* training=True"),
    "custom": (_custom, r"'smooth' \(Smooth\) has no streaming rule.*register\(Smooth"),
    "lambda": (lambda: _model(keras.layers.Lambda(lambda x: x, name="fn")),
               r"'fn' .* opaque"),
    "last_step": (lambda: _model(keras.layers.LSTM(2, name="rnn")),
                  r"'rnn' .* only its last step"),
    "backwards": (lambda: _model(keras.layers.GRU(2, return_sequences=True,
                                                  go_backwards=True, name="rnn")),
                  r"'rnn' .* backwards"),
    "concat_time": (_concat_time, r"'cat' .* acts along axis \[1\], which includes time"),
    "dense_on_time": (_dense_on_time, r"'dense' .* axis \[-1\], which includes time"),
    "two_inputs": (_two_inputs, r"2 inputs and 1 outputs"),
    # offline, Keras pads a strided "same" layer by its input's length modulo the stride
    "same_stride_conv_after_valid": (
        lambda: _same_stride_after(1, lambda: keras.layers.Conv1D(
            2, 3, strides=2, padding="same", name="down")),
        r"'down' .* 'same' with strides 2, and its input is 65535 samples long when the "
        r"model's is 65536"),
    "same_stride_pooling_after_valid": (
        lambda: _same_stride_after(2, lambda: keras.layers.MaxPooling1D(
            3, strides=3, padding="same", name="pool")),
        r"'pool' .* 'same' with strides 3, .* 1 more than a multiple of 3"),
    "softmax_along_time": (
        lambda: _model(keras.layers.Conv1D(2, 3, padding="same", activation="softmax",
                                           data_format="channels_first", name="conv"),
                       (2, None)),
        r"'conv' .* activation 'softmax' acts along the last axis, which is time"),
    "custom_activation": (
        lambda: _model(keras.layers.Dense(2, name="dense", activation=lambda x: x - ops.mean(
            x, axis=1, keepdims=True))),
        r"'dense' .* activation '<lambda>' is not one of Keras' activations"),
    "masking": (lambda: _model(lambda x: keras.layers.LSTM(
        2, return_sequences=True, name="rnn")(keras.layers.Masking()(x))),
                r"'rnn' .* called with a mask \(a Masking layer"),
    "stacked_cells": (lambda: _model(keras.layers.RNN(
        [keras.layers.LSTMCell(2), keras.layers.GRUCell(2)], return_sequences=True,
        name="rnn")), r"'rnn' .* a stack of cells"),
    "ops_along_time": (lambda: _model(lambda x: ops.cumsum(x, axis=1)),
                       r"keras.ops call .* \(Cumsum\) has no streaming rule"),
    "unknown_channels": (lambda: _model(keras.layers.ReLU(), (3, None)),
                         r"shape \(None, 3, None\): read as channels_last, its channel axis "
                         r"\(2\) has no size"),
    "constant_along_time": (_constant_along_time,
                            r"constant of shape \(1, 8, 1\), which varies along time"),
    # its layers ran in inference mode, their error 0.7 of the output
    "nested_model_training": (_nested_training, r"'inner' .* training=True"),
    # Conv1D's rule ran it: each window was reflected at its own edges (error 0.6)
    "subclass_overriding_call": (_reflect_conv, r"'conv' \(ReflectConv1D\) has no streaming "
                                 r"rule: its class ReflectConv1D overrides call\(\) of Conv1D"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_what_cannot_stream_is_refused_naming_the_layer_and_why(case):
    make, message = REFUSALS[case]
    with pytest.raises(NotStreamableError, match=message):
        Stream(make())


def test_subclassed_model_is_refused():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(NotStreamableError, match="functional API"):
        Stream(Net())
    with pytest.raises(TypeError, match="keras.Model"):
        Stream(keras.layers.Dense(2))


@pytest.fixture(scope="module")
def stream():
    keras.utils.set_random_seed(12)
    return Stream(autoencoder("sinc", length=None, hidden=4))


def _chunk(samples, batch=1, dtype="float32"):
    return np.zeros((batch, samples, 1), dtype)


def test_chunk_that_is_not_a_multiple_of_the_hop_names_both(stream):
    with pytest.raises(ValueError, match="chunk length 6 is not a multiple of the stream's "
                                         "hop 4"):
        stream.step(_chunk(6), stream.initial_state(1))


def test_bad_chunks(stream):
    state = stream.initial_state(1)
    with pytest.raises(TypeError, match="dtype float16, the stream runs float32"):
        stream.step(keras.ops.convert_to_tensor(_chunk(4, dtype="float16")), state)
    with pytest.raises(ValueError, match=r"shape \('B', 'T', 1\) \(channels_last\), got "
                                         r"\(1, 4, 2\)"):
        stream.step(np.zeros((1, 4, 2), "float32"), state)
    with pytest.raises(ValueError, match="batch_size"):
        stream.initial_state(0)


# JAX says so (once per process: whether it shows depends on which test asked first)
@pytest.mark.filterwarnings("ignore:Explicitly requested dtype float64:UserWarning")
def test_a_float64_stream_takes_chunks_in_the_dtype_the_backend_holds_float64_in():
    # JAX without x64 holds float64 as float32: its float64 model runs on its arrays
    inputs = keras.Input((None, 1), dtype="float64")
    model = keras.Model(inputs, keras.layers.Conv1D(1, 3, padding="same",
                                                    dtype="float64")(inputs))
    stream = Stream(model)
    x = keras.ops.cast(keras.ops.convert_to_tensor(np.arange(8.0)[None, :, None]), "float64")
    y, state = stream.step(x, stream.initial_state(1))
    streamed = np.concatenate([to_numpy(y), to_numpy(stream.flush(state))], axis=1)
    np.testing.assert_allclose(streamed, to_numpy(model(x)), rtol=1e-6, atol=1e-6)


def test_state_of_another_batch_size_dtype_or_stream_is_refused(stream):
    state = stream.initial_state(2)
    with pytest.raises(ValueError, match=r"state 'batch' has shape \(2, 0\) .* need \(3, 0\)"):
        stream.step(_chunk(8, batch=3), state)
    key = next(k for k in state if k.endswith("/history"))
    bad = {**state, key: keras.ops.cast(state[key], "float16")}
    with pytest.raises(ValueError, match=f"state '{key}' has .* dtype float16"):
        stream.step(_chunk(8, batch=2), bad)
    with pytest.raises(ValueError, match=r"missing \['" + key):
        stream.step(_chunk(8, batch=2), {k: v for k, v in state.items() if k != key})
    with pytest.raises(ValueError, match=r"unexpected \['other'\]"):
        stream.step(_chunk(8, batch=2), {**state, "other": state[key]})
    with pytest.raises(TypeError, match="needs the state dict"):
        stream.step(_chunk(8, batch=2), list(state.values()))
    other = Stream(residual_model()).initial_state(2)
    with pytest.raises(ValueError, match="does not belong to this stream"):
        stream.step(_chunk(8, batch=2), other)


def test_state_of_another_stream_with_the_same_keys_is_refused():
    """Two auto-encoders whose layers reach 4 and 1 samples have the same state keys: the
    one's state, histories of 8 samples, gave the other wrong samples (0.5 of the output)."""
    keras.utils.set_random_seed(13)
    wide, narrow = (Stream(autoencoder("subpixel", length=None, hidden=4, kernel_size=k))
                    for k in (9, 3))
    _, state = wide.step(_chunk(64), wide.initial_state(1))
    assert set(state) == set(narrow.initial_state(1))
    with pytest.raises(ValueError, match=r"state '\w+/history' holds 8 samples, more than "
                                         r"this stream ever keeps there \(2\)"):
        narrow.step(_chunk(64), state)
    state = {**narrow.initial_state(1)}
    key = next(k for k in state if k.endswith("/history"))
    with pytest.raises(TypeError, match=f"state '{key}' must be a tensor, got NoneType"):
        narrow.step(_chunk(4), {**state, key: None})


def test_compiled_step_takes_a_list_as_step_does(stream):
    chunk = [[[0.1]] * 4]
    state = stream.initial_state(1)
    expected, _ = stream.step(chunk, state)
    y, _ = stream.compiled_step()(chunk, state)
    np.testing.assert_allclose(to_numpy(y), to_numpy(expected), atol=1e-6)


@pytest.mark.parametrize(("kernel_size", "strides", "output_padding"),
                         [(2, 2, 1), (2, 3, 2), (3, 3, 1)])
def test_transposed_conv_with_output_padding_beyond_its_kernel_flushes(
        kernel_size, strides, output_padding):
    """Kernel no longer than the stride: no history; the samples past the last block (the
    bias alone) came from an empty window, which torch's conv refused at flush."""
    keras.utils.set_random_seed(14)
    model = _model(keras.layers.Conv1DTranspose(
        3, kernel_size, strides=strides, padding="valid", output_padding=output_padding,
        bias_initializer="ones"))
    x = np.random.default_rng(0).normal(size=(2, 8, 2)).astype("float32")
    streamed, _ = run_stream(Stream(model), x, [2, 4, 2])
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE


def test_a_causal_conv_compiles_once_per_chunk_length():
    """Keras' causal Conv1D pads with keras.ops.pad, which names an op from Keras' global
    counter on each call: Dynamo guarded on it and compiled every torch step again."""
    keras.utils.set_random_seed(15)
    model = _model(keras.layers.Conv1D(2, 3, padding="causal"))
    stream = Stream(model)
    options = {"backend": "aot_eager"} if BACKEND == "torch" else {}
    compiled = stream.compiled_step(**options)
    x = np.random.default_rng(0).normal(size=(1, 64, 2)).astype("float32")
    compiles = []
    if BACKEND == "torch":
        import torch

        torch._dynamo.reset()
        counter = torch._dynamo.utils.counters
        before = counter["stats"]["unique_graphs"]
    streamed, _ = run_stream(stream, x, [4] * 16, step=compiled)
    if BACKEND == "torch":
        compiles.append(counter["stats"]["unique_graphs"] - before)
        assert compiles == [1]
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE


X64_TANH_STREAM = """
import jax
jax.config.update("jax_enable_x64", True)
import keras, numpy as np
from benchmarks.streaming_cases import relative_error, run_stream
from upsample1d.models import autoencoder
from upsample1d.streaming import Stream
keras.config.set_floatx("float64")
model = autoencoder(length=None, hidden=4)  # Conv1D(activation="tanh") before a history
x = np.random.default_rng(0).normal(size=(1, 64, 1))
streamed, _ = run_stream(Stream(model), x, [16] * 4)
print(relative_error(streamed, np.asarray(model(x))))
"""


@pytest.mark.skipif(BACKEND != "jax", reason="Keras' JAX tanh under jax_enable_x64")
def test_a_float64_stream_with_keras_tanh_runs_under_jax_x64():
    """Keras 3.15's JAX tanh returns float32 for float64: the history kept that, and the
    next step refused its own state. The suite's JAX run holds float64 as float32, so this
    runs in a process of its own."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", X64_TANH_STREAM], capture_output=True,
                         text=True, env=env, cwd=root, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert float(run.stdout.split()[-1]) <= 1e-6, run.stdout


def test_step_or_flush_after_flush_is_refused(stream):
    _, state = stream.step(_chunk(8), stream.initial_state(1))
    stream.flush(state)
    with pytest.raises(ValueError, match="step: this state was flushed"):
        stream.step(_chunk(8), state)
    with pytest.raises(ValueError, match="flush: this state was flushed"):
        stream.flush(state)
    if BACKEND != "torch":  # under a compiler too: the mark is part of the state's structure
        with pytest.raises(ValueError, match="this state was flushed"):
            compile_fn(stream.step)(_chunk(8), state)


# --- the reference models at realistic sizes -----------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("upsampler", ["subpixel", "transposed", "nearest", "linear", "sinc"])
def test_autoencoder_at_16k_samples_in_512_sample_chunks(upsampler):
    keras.utils.set_random_seed(13)
    model = autoencoder(upsampler, length=None)
    stream = Stream(model)
    x = np.random.default_rng(2).normal(size=(2, 16384, 1)).astype("float32")
    streamed, _ = run_stream(stream, x, [512] * 32, step=stream.compiled_step())
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE


@pytest.mark.slow
def test_demucs_like_unidirectional_at_its_default_size():
    keras.utils.set_random_seed(14)
    model = demucs_like("transposed", length=None, lstm="unidirectional")
    stream = Stream(model)
    x = np.random.default_rng(3).normal(size=(1, 32768, 1)).astype("float32")
    streamed, _ = run_stream(stream, x, [1024] * 32, step=stream.compiled_step())
    assert relative_error(streamed, to_numpy(model(x))) <= TOLERANCE
    assert stream.hop == 256
