"""Exported streams (``upsample1d.streaming.export``): ONNX run with onnxruntime, LiteRT run
with ``ai-edge-litert``; chunk after chunk, each exported step's output equals the Keras
stream's to <= 1e-6 relative, and steps plus flush equal the offline model. Skips, saying
why, where the backend has no exporter installed."""

import importlib.util

import keras
import numpy as np
import pytest
from conftest import BACKEND

from benchmarks.streaming_cases import alias_free_gru_sinc_model, relative_error, to_numpy
from upsample1d.models import autoencoder, demucs_like
from upsample1d.streaming import Stream
from upsample1d.streaming.export import ExportedStream, export

TOLERANCE = 1e-6
pytestmark = [  # third-party deprecations met while exporting (Keras' tf2onnx shim, torch)
    pytest.mark.filterwarnings("ignore:In the future `np.object` will be defined:FutureWarning"),
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:"
                               "FutureWarning"),
]
NEEDS = {("onnx", "tensorflow"): ["onnx", "onnxruntime", "tf2onnx"],
         ("onnx", "torch"): ["onnx", "onnxruntime", "onnxscript"],
         ("onnx", "jax"): ["onnx", "onnxruntime", "jax2onnx"],
         ("litert", "tensorflow"): ["ai_edge_litert"],
         ("litert", "torch"): ["ai_edge_litert", "litert_torch"]}


def _needs(format):
    if (format, BACKEND) not in NEEDS:
        pytest.skip(f"Keras exports {format} from TensorFlow and torch, not {BACKEND}")
    missing = [m for m in NEEDS[format, BACKEND] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{format} export on {BACKEND} needs {', '.join(missing)} (pip install "
                    f"{' '.join(m.replace('_', '-') for m in missing)})")


MODELS = {"demucs_like": lambda: demucs_like("transposed", length=None, depth=2, channels=4,
                                             lstm_layers=1, lstm="unidirectional"),
          "autoencoder_linear": lambda: autoencoder("linear", length=None, hidden=8),
          "alias_free_gru_sinc": alias_free_gru_sinc_model,
          # no history at all: one state shape, whose flush is empty
          "gru_dense": lambda: keras.Sequential([keras.Input((None, 2)),
                                                 keras.layers.GRU(4, return_sequences=True),
                                                 keras.layers.Dense(2)])}


def _model(name):
    keras.utils.set_random_seed(21)
    return MODELS[name]()


def _round_trip(name, format, tmp_path, chunks=6):
    _needs(format)
    model = _model(name)
    stream = Stream(model)
    chunk = stream.hop * 4
    export(stream, tmp_path, chunk, format=format)
    exported = ExportedStream(tmp_path)
    x = np.random.default_rng(0).normal(size=(1, chunk * chunks, model.inputs[0].shape[-1]))
    x = x.astype("float32")
    state, reference, parts = exported.initial_state(), stream.initial_state(1), []
    for start in range(0, x.shape[1], chunk):
        piece = x[:, start:start + chunk]
        y, state = exported.step(piece, state)
        expected, reference = stream.step(piece, reference)
        expected = to_numpy(expected)
        assert y.shape == expected.shape
        if expected.size:
            assert relative_error(y, expected) <= TOLERANCE, start
        parts.append(y)
    parts.append(exported.flush(state))
    assert relative_error(np.concatenate(parts, axis=1), to_numpy(model(x))) <= TOLERANCE
    return exported


# On JAX (jax2onnx) each exported graph is traced anew, compiled op by op: demucs_like's
# warm-up graphs take 41 s, so there it runs in the slow run (gru_dense and the refusals
# below keep JAX's export in the default one)
@pytest.mark.parametrize("name", [
    pytest.param("demucs_like", marks=[pytest.mark.slow] if BACKEND == "jax" else []),
    pytest.param("autoencoder_linear", marks=pytest.mark.slow),
    pytest.param("alias_free_gru_sinc", marks=pytest.mark.slow)])
def test_onnx_steps_equal_the_stream_chunk_after_chunk(name, tmp_path):
    exported = _round_trip(name, "onnx", tmp_path)
    steps = [e["step"] for e in exported.manifest["signatures"]]
    assert steps[0] == "step_0.onnx" and len(steps) >= 2  # the warm-up, then steady


def test_onnx_stream_without_history_flushes_nothing(tmp_path):
    """A model without history (a GRU, a pointwise Dense) has one state shape; its flush,
    right after initial_state or after steps, adds no samples (it added a chunk of zeros)."""
    exported = _round_trip("gru_dense", "onnx", tmp_path, chunks=3)
    assert len(exported.manifest["signatures"]) == 1
    assert exported.flush(exported.initial_state()).shape == (1, 0, 2)


@pytest.mark.parametrize("name", ["demucs_like", pytest.param("autoencoder_linear",
                                                                marks=pytest.mark.slow),
                                  pytest.param("alias_free_gru_sinc", marks=pytest.mark.slow)])
def test_litert_steps_equal_the_stream_chunk_after_chunk(name, tmp_path):
    _round_trip(name, "litert", tmp_path)


def test_exported_stream_refuses_other_chunks_and_states(tmp_path):
    exported = _round_trip("demucs_like", "onnx", tmp_path, chunks=2)
    with pytest.raises(ValueError, match=r"chunks of shape \(1, 64, 1\) \(channels_last: batch "
                                         r"1, 64 samples\); got shape \(1, 32, 1\)"):
        exported.step(np.zeros((1, 32, 1), np.float32), exported.initial_state())
    # LiteRT resizes its input to any shape: a stereo chunk ran a mono model's weights
    for shape in ((1, 64, 2), (1, 64), (1, 64, 1, 1)):
        with pytest.raises(ValueError, match=r"chunks of shape \(1, 64, 1\)"):
            exported.step(np.zeros(shape, np.float32), exported.initial_state())
    # a cast would run int16 PCM as float values 32768 times too loud
    with pytest.raises(TypeError, match="the chunk has dtype int16, the export runs float32"):
        exported.step(np.zeros((1, 64, 1), np.int16), exported.initial_state())
    # after flush, a step would emit the tail again
    state = exported.initial_state()
    _, state = exported.step(np.ones((1, 64, 1), np.float32), state)
    exported.flush(state)
    for call in (lambda: exported.step(np.zeros((1, 64, 1), np.float32), state),
                 lambda: exported.flush(state)):
        with pytest.raises(ValueError, match="this state was flushed"):
            call()
    state = {**exported.initial_state(), "lstm0/state0": np.zeros((1, 3), np.float32)}
    with pytest.raises(ValueError, match="no exported graph takes a state of shapes"):
        exported.step(np.zeros((1, 64, 1), np.float32), state)


def test_exported_initial_state_takes_the_exported_batch_size_only(tmp_path):
    """``initial_state(batch_size)`` as a Stream's: the exported batch size, or none."""
    exported = _round_trip("gru_dense", "onnx", tmp_path, chunks=1)
    assert exported.initial_state(1).keys() == exported.initial_state().keys()
    with pytest.raises(ValueError, match="this export runs batch 1, got batch_size=2"):
        exported.initial_state(batch_size=2)
