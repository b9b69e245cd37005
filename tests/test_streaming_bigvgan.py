"""The BigVGAN generator streams: mel frames in chunk by chunk, the same waveform as the
offline generator, both ends included (issue 18, item 3)."""

import keras
import numpy as np
import pytest
from conftest import BACKEND, to_numpy
from helpers_bigvgan import reduced

from benchmarks.streaming_cases import partitions, relative_error, run_stream
from upsample1d.bigvgan import bigvgan
from upsample1d.streaming import Stream

pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")

# float32: 28 stacked convolutions at up to 256x the frame rate round differently for
# different window lengths; the offline generator itself gives batch 1 and batch 2 of the
# same mel 4e-6 to 8e-6 apart (relative, on every backend). float64 shows the stream exact.
TOLERANCE = 2e-5
# JAX compiles every op of the eager generator for every shape (21-32 s a format): one
# format in its default run
FORMATS = ("channels_first", pytest.param(
    "channels_last", marks=[pytest.mark.slow] if BACKEND == "jax" else []))


def generator(data_format, dtype=None, seed=4, name="bigvgan_v2_24khz_100band_256x"):
    """A reduced published config with random weights, its final conv scaled so that the
    output peaks at 0.5 on the test signal (a clamp at 1 would hide differences)."""
    keras.utils.set_random_seed(seed)
    model = bigvgan(reduced(name, channels=64), data_format=data_format, dtype=dtype)
    graph = model.as_functional()
    before_clamp = keras.Model(graph.input, graph.get_layer("conv_post").output)
    peak = np.abs(to_numpy(before_clamp(mel(model, 24, dtype or "float32")))).max()
    for weight in model.conv_post.weights:
        weight.assign(weight * (0.5 / peak))
    return model


def mel(model, frames, dtype="float32", batch=2, seed=0):
    shape = list(model.input_shape_for(frames))
    shape[0] = batch
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@pytest.mark.parametrize("data_format", FORMATS)
def test_bigvgan_streams_exactly(data_format):
    model = generator(data_format)
    stream = Stream(model)
    assert (stream.hop, stream.output_rate) == (1, 256)
    x = mel(model, 24)
    offline = to_numpy(model(x))
    assert np.abs(offline).max() < 1  # the clamp is not reached
    kinds = partitions(24, 1, np.random.default_rng(1))
    every = data_format == "channels_first" and BACKEND != "jax"  # JAX compiles each shape
    for kind in ("hop", "mixed", "one") if every else ("mixed",):
        streamed, _ = run_stream(stream, x, kinds[kind])
        assert relative_error(streamed, offline) <= TOLERANCE, kind


def test_bigvgan_float64_streams_to_1e_12():
    if BACKEND == "jax":
        pytest.skip("JAX holds float64 as float32 unless jax_enable_x64 is set")
    model = generator("channels_first", dtype="float64")
    stream = Stream(model)
    x = mel(model, 16, "float64")
    streamed, _ = run_stream(stream, x, [3, 1, 5, 7])
    assert relative_error(streamed, to_numpy(model(x))) <= 1e-12


# JAX compiles every op for every new shape eagerly: 18 s, so in the slow run there
@pytest.mark.parametrize("data_format", [pytest.param(
    "channels_first", marks=[pytest.mark.slow] if BACKEND == "jax" else [])])
def test_a_loaded_checkpoint_streams(tmp_path, data_format):
    """An official checkpoint (written by NVIDIA's package), loaded, streams as it runs
    offline."""
    pytest.importorskip("torch")
    pytest.importorskip("bigvgan", reason="the official package: bigvgan==2.4.1 (--no-deps)")
    from helpers_bigvgan import write_checkpoint

    from upsample1d.bigvgan import load_checkpoint

    config = reduced("bigvgan_22khz_80band", channels=64)
    write_checkpoint(str(tmp_path), config, seed=3)
    model = load_checkpoint(str(tmp_path), data_format=data_format)
    stream = Stream(model)
    x = mel(model, 12, batch=1)
    offline = to_numpy(model(x))
    streamed, _ = run_stream(stream, x, [4, 4, 4])
    assert relative_error(streamed, offline) <= TOLERANCE


def test_a_v1_generator_with_its_final_tanh_streams():
    """``use_tanh_at_final`` (every v1 config): the functional form records the final tanh
    as Keras' op, which a stream knows (on JAX the eager tanh is jax.numpy's, which keeps
    float64 and cannot take a KerasTensor)."""
    config = {"num_mels": 8, "upsample_rates": [2], "upsample_kernel_sizes": [4],
              "upsample_initial_channel": 8, "resblock": "1", "resblock_kernel_sizes": [3],
              "resblock_dilation_sizes": [[1]], "activation": "snake",
              "snake_logscale": True, "use_tanh_at_final": True}
    keras.utils.set_random_seed(3)
    model = bigvgan(config, data_format="channels_first")
    x = np.random.default_rng(0).normal(size=(1, 8, 6)).astype("float32")
    offline = to_numpy(model(x))
    np.testing.assert_allclose(to_numpy(model.as_functional()(x)), offline, rtol=0, atol=1e-6)
    streamed, _ = run_stream(Stream(model), x, [2, 1, 3])
    assert relative_error(streamed, offline) <= TOLERANCE


# JAX compiles each op of the eager step for each shape (16 s here): in its slow run
@(pytest.mark.slow if BACKEND == "jax" else lambda test: test)
def test_resblock_2_snake_streams_exactly_eager_and_compiled():
    """AMPBlock2, plain Snake in linear scale, tanh, channels_last, batch 2: the stream and
    its compiled step equal the offline generator; a flush from a copy of any state equals
    the generator on the frames so far."""
    config = {"num_mels": 8, "upsample_rates": [3, 2], "upsample_kernel_sizes": [3, 4],
              "upsample_initial_channel": 16, "resblock": "2", "resblock_kernel_sizes": [3, 5],
              "resblock_dilation_sizes": [[1, 3], [1, 2]], "activation": "snake",
              "snake_logscale": False, "use_tanh_at_final": True}
    keras.utils.set_random_seed(5)
    model = bigvgan(config, data_format="channels_last")
    x = np.random.default_rng(2).normal(size=(2, 7, 8)).astype("float32")
    offline = to_numpy(model(x))
    stream = Stream(model)
    streamed, _ = run_stream(stream, x, [1, 3, 1, 2])
    assert relative_error(streamed, offline) <= TOLERANCE
    compiled, _ = run_stream(stream, x, [2, 2, 2, 1], step=stream.compiled_step())
    assert relative_error(compiled, offline) <= TOLERANCE
    state, parts = stream.initial_state(2), []
    for frames in (1, 2, 3):
        y, state = stream.step(keras.ops.convert_to_tensor(x[:, frames - 1:frames]), state)
        parts.append(to_numpy(y))
        copy = {k: keras.ops.convert_to_tensor(to_numpy(v)) for k, v in state.items()}
        ended = np.concatenate(parts + [to_numpy(stream.flush(copy))], axis=1)
        assert relative_error(ended, to_numpy(model(x[:, :frames]))) <= TOLERANCE
