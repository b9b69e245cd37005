"""Exact streaming (``upsample1d.streaming.Stream``), on the active backend.

- For every layer of the package (both data formats) and the Keras layers audio models use,
  the concatenation of every ``step`` output and the ``flush`` output equals the offline
  model's output on the whole signal (same length, both ends) for chunks of one hop, mixed
  sizes and one chunk: max |difference| <= 1e-6 x max |offline| in float32, 1e-12 in
  float64 (TensorFlow, torch);
- each layer's reach in the rule table is exactly what the layer reads, measured by
  perturbing its input one sample at a time (so the table is neither short, which would
  break exactness, nor long, which would add latency);
- branches with different lags (skips, residual blocks, gates, concatenations), RNN state,
  nested models, the reference models; the latency rule, step by step;
- hypothesis over layer options, chains of two layers, lengths and partitions.

Compiled steps, bad input and the reference models at realistic sizes: test_streaming_more.py.
"""

import warnings
from fractions import Fraction

import keras
import numpy as np
import pytest
from conftest import BACKEND, sampled_grid
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from benchmarks.streaming_cases import (
    keras_layers,
    package_layers,
    partitions,
    relative_error,
    residual_model,
    run_stream,
    single_layer_model,
    to_numpy,
)
from upsample1d.layers import (
    AliasFreeActivation1D,
    InterpolationUpsample1D,
    Resample1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
)
from upsample1d.models import autoencoder, demucs_like
from upsample1d.streaming import Stream, reach

TOLERANCE = 1e-6
FORMATS = ("channels_last", "channels_first")
pytestmark = pytest.mark.filterwarnings("ignore:kernel_size=.*:UserWarning")
# JAX runs each new shape of each op eagerly by compiling it: the one-hop partitions (many
# shapes while the histories fill) run in the slow tests there
SLOW = pytest.mark.slow
KINDS = ("mixed",) if BACKEND == "jax" else ("hop", "mixed")


def _signal(stream, blocks, channels, seed=0, dtype="float32"):
    length = stream.hop * blocks
    shape = (2, length, channels) if stream.data_format == "channels_last" else \
        (2, channels, length)
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def assert_streams_exactly(model, blocks=12, seed=0, kinds=("hop", "mixed", "one"),
                           tolerance=TOLERANCE, dtype="float32"):
    stream = Stream(model)
    channels = model.inputs[0].shape[3 - (1 if stream.data_format == "channels_last" else 2)]
    x = _signal(stream, blocks, channels, seed, dtype)
    offline = to_numpy(model(x))
    rng = np.random.default_rng(seed)
    for kind, sizes in partitions(x.shape[1 if stream.data_format == "channels_last" else 2],
                                  stream.hop, rng).items():
        if kind in kinds:
            streamed, _ = run_stream(stream, x, sizes)
            error = relative_error(streamed, offline)
            assert error <= tolerance, (kind, sizes, error)
    return stream


def _layer_cases():
    cases = [(df, name) for df in FORMATS for name in package_layers(df)]
    return cases + [("channels_last", name) for name in keras_layers()]


@pytest.mark.parametrize("df,name", sampled_grid(_layer_cases(), every=2))
def test_every_layer_streams_exactly(df, name):
    make = {**package_layers(df), **keras_layers()}[name]
    assert_streams_exactly(single_layer_model(make, df=df), blocks=10, kinds=KINDS)


def _perturbation_reach(layer_model, stream, blocks=40):
    """(left, right) in input samples of the middle output block, measured: which input
    samples change it when moved by 1 (each perturbation one batch item)."""
    plan_reach = reach(layer_model.layers[-1], 1 if stream.data_format == "channels_last"
                       else 2)
    up, down = plan_reach.up, plan_reach.down
    axis = 1 if stream.data_format == "channels_last" else 2
    channels = layer_model.inputs[0].shape[3 - axis]
    length = blocks * down
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, length, channels)).astype("float32")
    batch = np.repeat(x, length + 1, axis=0)
    # a random direction (a LayerNormalization ignores adding the same to every channel),
    # large enough that the ~1e-4 end taps of a Kaiser-windowed sinc show
    batch[np.arange(length), np.arange(length)] += 10 * rng.normal(size=(length, channels))
    if axis == 2:
        batch = batch.transpose(0, 2, 1)
    y = to_numpy(layer_model(batch))
    y = y if axis == 1 else y.transpose(0, 2, 1)
    q = blocks // 2
    change = np.abs(y[:length, q * up:(q + 1) * up] - y[length:, q * up:(q + 1) * up])
    read = np.flatnonzero(change.max(axis=(1, 2)) > 1e-6 * np.abs(y).max())
    return q * down - read.min(), read.max() - (q * down + down - 1), plan_reach


@pytest.mark.parametrize("df,name", sampled_grid(
    [c for c in _layer_cases() if c[1] not in ("LSTM", "GRU")], every=2))
def test_rule_table_reach_is_what_the_layer_reads(df, name):
    make = {**package_layers(df), **keras_layers()}[name]
    model = single_layer_model(make, df=df)
    left, right, rule = _perturbation_reach(model, Stream(model))
    measured = (max(left, 0), max(right, 0))
    assert rule.left >= measured[0] and rule.right >= measured[1]  # never short
    if name == "AliasFree-up2-down1":
        # its last input sample is read only through the product of the up and down
        # filters' end taps (Kaiser window ends, ~4e-5 each): ~1e-9 of the output, below
        # what a float32 measurement resolves; the rule counts it
        measured = (measured[0], measured[1] + 1)
    assert (rule.left, rule.right) == measured  # nor long


def test_branches_with_different_lags_merge_in_step():
    model = residual_model()
    stream = assert_streams_exactly(model, blocks=16, kinds=KINDS)
    # the wide conv reads 3 ahead, rounded up to whole blocks of the strided conv that
    # reads it (through the merges); the causal branch reads none: it waits in a queue
    assert stream.layer_latency["wide"] == 4
    assert any(key.startswith("gate/queue") for key in stream.initial_state(1))


def test_nested_models_and_shared_layers():
    keras.utils.set_random_seed(4)
    inner_in = keras.Input((None, 3))
    block = keras.Model(inner_in, keras.layers.Conv1D(3, 5, padding="same")(inner_in) + inner_in)
    shared = keras.layers.Conv1D(3, 3, padding="same", name="shared")
    inputs = keras.Input((None, 3))
    x = block(shared(inputs))
    x = block(shared(x))  # the nested model and the layer used twice
    model = keras.Model(inputs, x)
    stream = assert_streams_exactly(model, blocks=14, kinds=KINDS)
    assert stream.latency == 2 * (1 + 2)
    assert "shared#1" in stream.layer_latency


@pytest.mark.parametrize("kernel,strides,padding,output_padding", [
    (2, 2, "same", 1), (1, 2, "same", 0), (2, 3, "same", 1), (1, 3, "valid", 0)])
def test_transposed_conv_whose_output_is_short_of_strides_per_sample(kernel, strides, padding,
                                                                      output_padding):
    # (L - 1) * strides + ... < L * strides output samples: the last samples of a window's
    # last block are missing, so those blocks wait for the next input (they were cut)
    layer = lambda: keras.layers.Conv1DTranspose(  # noqa: E731
        3, kernel, strides=strides, padding=padding, output_padding=output_padding)
    stream = assert_streams_exactly(single_layer_model(layer, channels=2), blocks=7,
                                    kinds=KINDS)
    assert stream.latency == 1


def test_strided_same_layer_after_a_length_change_that_keeps_its_phase():
    # a "valid" conv shortens by 2: the strided "same" conv's input stays a multiple of 2
    # (one shortened by 1 is refused: test_streaming_more.py)
    keras.utils.set_random_seed(6)
    inputs = keras.Input((None, 2))
    x = keras.layers.Conv1D(3, 3, padding="valid")(inputs)
    x = keras.layers.Conv1D(3, 3, strides=2, padding="same")(x)
    assert_streams_exactly(keras.Model(inputs, x), kinds=KINDS)


@pytest.mark.parametrize("up,down,quality,edge", [
    (3, 2, "hq", "zeros"), (147, 160, "kaiser_fast", "replicate"), (2, 1, "vhq", "reflect")])
def test_resampling_streams_exactly(up, down, quality, edge):
    # presets whose end taps lie below what the reach measurement resolves (their reach is
    # checked there with the "poly" preset); a sample-rate ratio (48 -> 44.1 kHz)
    layer = lambda: Resample1D(up, down, quality, edge=edge)  # noqa: E731
    stream = assert_streams_exactly(single_layer_model(layer, channels=2), blocks=6,
                                    kinds=("mixed", "one"))
    assert stream.hop == down and stream.output_rate == Fraction(up, down)


def test_keras_ops_concatenate_along_channels():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((None, 2))
    x = keras.ops.concatenate([keras.layers.Conv1D(3, 5, padding="same")(inputs), inputs],
                              axis=-1)
    assert_streams_exactly(keras.Model(inputs, x), kinds=KINDS)


def test_sequential_model():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.Conv1D(4, 3, padding="same"),
                              SubpixelConv1D(2, 2, data_format="channels_last")])
    assert_streams_exactly(model, kinds=("mixed",))


@pytest.mark.parametrize("upsampler", ["subpixel", pytest.param("transposed", marks=SLOW),
                                       pytest.param("nearest", marks=SLOW),
                                       pytest.param("linear", marks=SLOW), "sinc"])
def test_autoencoder_streams_exactly(upsampler):
    keras.utils.set_random_seed(6)
    model = autoencoder(upsampler, length=None, hidden=8)
    stream = assert_streams_exactly(model, blocks=40, kinds=("mixed",))
    assert stream.hop == 4


def test_demucs_like_unidirectional_lstm_streams_exactly():
    keras.utils.set_random_seed(7)
    model = demucs_like("subpixel", length=None, depth=2, channels=4, lstm_layers=1,
                        lstm="unidirectional")
    stream = assert_streams_exactly(model, blocks=12, kinds=("mixed",))
    assert stream.hop == 16
    assert sum(1 for key in stream.initial_state(1) if "/queue" in key) >= 1  # U-Net skips


def test_latency_rule_step_by_step():
    """After N input samples the stream has returned max(N - latency, 0) x rate samples;
    flush returns the rest."""
    keras.utils.set_random_seed(8)
    inputs = keras.Input((None, 2))
    x = StridedConv1D(4, 2, data_format="channels_last", name="strided")(inputs)
    x = keras.layers.Conv1D(4, 5, padding="same", name="conv")(x)
    x = InterpolationUpsample1D(2, 4, method="linear", data_format="channels_last",
                                name="linear")(x)
    model = keras.Model(inputs, x)  # output at twice the input rate
    stream = Stream(model)
    assert stream.hop == 2
    # each reads 2 samples of its input ahead: 2 at the input rate, then 2 at half the rate
    assert stream.layer_latency == {"strided": 2, "conv": 4, "linear": 4}
    assert stream.latency == 10
    x = _signal(stream, 20, 2)
    sizes = [2, 2, 4, 6, 8, 18]
    _, lengths = run_stream(stream, x, sizes)
    seen = np.cumsum(sizes)
    assert lengths[:-1] == list(np.diff(np.maximum(seen - 10, 0) * 2, prepend=0))
    assert sum(lengths) == 2 * x.shape[1]


def test_float64_to_1e_12():
    if BACKEND == "jax" and not keras.config.floatx() == "float64":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX without jax_enable_x64 holds float64 as float32")
    keras.utils.set_random_seed(9)
    inputs = keras.Input((None, 2), dtype="float64")
    x = keras.layers.Conv1D(4, 5, padding="same", dtype="float64")(inputs)
    x = InterpolationUpsample1D(2, 2, method="sinc", dtype="float64",
                                data_format="channels_last")(x)
    x = AliasFreeActivation1D("snake", dtype="float64", data_format="channels_last")(x)
    x = SpaceToDepthConv1D(2, 2, dtype="float64", data_format="channels_last")(x)
    model = keras.Model(inputs, x)
    assert_streams_exactly(model, blocks=24, kinds=("mixed",), tolerance=1e-12,
                           dtype="float64")


def test_mixed_precision_streams_as_offline():
    """A mixed_bfloat16 model (float32 variables read as bfloat16, as Layer.__call__ reads
    them): the stream runs each layer's call in the same autocast scope. Without it the
    convolutions met bfloat16 inputs with float32 kernels (refused on torch and TensorFlow,
    different numbers on JAX)."""
    keras.utils.set_random_seed(5)
    policy = "mixed_bfloat16"
    inputs = keras.Input((None, 2))
    x = keras.layers.Conv1D(4, 5, padding="same", dtype=policy)(inputs)
    x = SubpixelConv1D(4, 2, dtype=policy, data_format="channels_last")(x)
    x = keras.layers.LSTM(4, return_sequences=True, dtype=policy)(x)
    x = SpaceToDepthConv1D(2, 2, dtype=policy, data_format="channels_last")(x)
    model = keras.Model(inputs, x)
    stream = assert_streams_exactly(model, blocks=16, kinds=("mixed",))
    chunk = keras.ops.zeros((1, 4 * stream.hop, 2))
    y, _ = stream.step(chunk, stream.initial_state(1))
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"


# --- hypothesis ---------------------------------------------------------------------------

def _layer_strategy():
    """A function making a layer with drawn options (made after the draw: layers draw
    random initial weights)."""
    df = "channels_last"
    ints = st.integers
    return st.one_of(
        st.builds(lambda k, s, d, p: lambda: keras.layers.Conv1D(
            3, k, strides=s, dilation_rate=d if s == 1 else 1, padding=p),
            ints(1, 6), ints(1, 3), ints(1, 2), st.sampled_from(["same", "causal"])),
        st.builds(lambda r, extra, impl: lambda: TransposedConvUpsample1D(
            3, r, kernel_size=r + extra, implementation=impl, data_format=df),
            ints(1, 3), ints(0, 5), st.sampled_from(["polyphase", "native"])),
        st.builds(lambda r, k, m: lambda: SubpixelConv1D(
            3, r, kernel_size=k, mode=m, data_format=df),
            ints(1, 3), ints(1, 5), st.sampled_from(["DCR", "CRD"])),
        st.builds(lambda r, k, m, i: lambda: InterpolationUpsample1D(
            3, r, method=m, kernel_size=k, implementation=i, data_format=df),
            ints(1, 3), ints(1, 9), st.sampled_from(["nearest", "linear", "sinc"]),
            st.sampled_from(["fused", "direct"])),
        st.builds(lambda r, k: lambda: StridedConv1D(3, r, kernel_size=k, data_format=df),
                  ints(1, 3), ints(1, 7)),
        st.builds(lambda r, k: lambda: SpaceToDepthConv1D(3, r, kernel_size=k, data_format=df),
                  ints(1, 3), ints(1, 4)),
        st.builds(lambda up, down, ku, kd, f: lambda: AliasFreeActivation1D(
            "snake", up=up, down=down, up_kernel_size=up + ku, down_kernel_size=kd, filter=f,
            data_format=df), ints(1, 3), ints(1, 3), ints(1, 8), ints(1, 12),
            st.sampled_from(["alias_free_torch", "sinc_bank"])),
    )


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hypothesis_chains_lengths_and_partitions(data):
    _chain_streams_exactly(data)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hypothesis_chains_lengths_and_partitions_many(data):
    _chain_streams_exactly(data)


def _chain_streams_exactly(data):
    makers = data.draw(_layer_strategy()), data.draw(_layer_strategy())
    keras.utils.set_random_seed(data.draw(st.integers(0, 99)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # partial overlaps, short kernels
        first, second = (make() for make in makers)
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, second(first(inputs)))
    stream = Stream(model)
    blocks = data.draw(st.integers(1, 12))
    x = _signal(stream, blocks, 3, seed=blocks)
    try:
        offline = to_numpy(model(x))
    except ValueError:  # the signal is too short for the model itself
        assume(False)
    sizes, left = [], blocks
    while left:
        size = data.draw(st.integers(1, left))
        sizes.append(size * stream.hop)
        left -= size
    streamed, _ = run_stream(stream, x, sizes)
    assert relative_error(streamed, offline) <= TOLERANCE
