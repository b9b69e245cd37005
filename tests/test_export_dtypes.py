"""Exported streams whose tensors are not all float32 (``upsample1d.streaming.export``): a
``mixed_float16`` RNN (float32 input, float16 state and output) and a float64 one. Each
state entry keeps its own dtype (in the manifest, in ``ExportedStream.initial_state``), and
chunk after chunk the exported outputs and states equal the Keras stream's; where an
exporter or runtime cannot take the dtype, ``export`` refuses it, naming both. Skips, saying
why, where the backend has no exporter installed."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import BACKEND
from test_streaming_export import _needs
from test_streaming_export import pytestmark as EXPORT_WARNINGS

from upsample1d.streaming import Stream
from upsample1d.streaming.export import ExportedStream, export

TOLERANCE = 1e-6  # float32 (and float64) graphs: the library's promise
# float16 graphs: float16 keeps 11 significant bits (one unit in the last place is 2**-10
# of the magnitude at most). The runtimes compute a float16 GRU's gates in their own order
# and with their own sigmoid and tanh, each rounded to float16, and the state carries every
# step's rounding into the next: a few units in the last place apart (up to 2.5 seen,
# relative to the largest value), so 8 of them
FLOAT16_TOLERANCE = 8 * 2.0**-10
pytestmark = [
    *EXPORT_WARNINGS,
    # JAX without x64 holds float64 as float32, as these tests expect
    pytest.mark.filterwarnings("ignore:Explicitly requested dtype float64:UserWarning"),
]
# what export does with each (format, policy) here: None where the graphs run, else the
# refusal's message (naming the dtype and the exporter or runtime)
REFUSED = {
    ("tensorflow", "litert", "mixed_float16"): "LiteRT .* cannot run .* float16",
    ("tensorflow", "litert", "float64"): "LiteRT .* cannot run .* float64",
    ("torch", "litert", "float64"): "litert export of step_0.tflite, .* float64, failed",
    ("jax", "onnx", "mixed_float16"): "onnxruntime cannot run .* float16",
}


def _input_dtype(policy):
    return "float64" if policy == "float64" else "float32"


def _model(policy, dense=False, layer="gru"):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((None, 2), dtype=_input_dtype(policy))
    if layer == "gru":
        y = keras.layers.GRU(3, return_sequences=True, dtype=policy, name="gru")(inputs)
    else:
        y = keras.layers.Conv1D(3, 3, padding="same", dtype=policy, name="conv")(inputs)
    if dense:
        y = keras.layers.Dense(2, dtype=policy, name="dense")(y)
    return keras.Model(inputs, y)


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _error(got, expected):
    """The largest difference relative to the largest magnitude, in float64."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    scale = np.abs(expected).max() if expected.size else 0.0
    return float(np.abs(got - expected).max() / (scale or 1.0)) if expected.size else 0.0


def _input(chunk, chunks, policy):
    """NumPy in the model's input dtype (which the Keras stream takes on every backend)."""
    x = np.random.default_rng(0).normal(size=(1, chunk * chunks, 2))
    return x.astype(_input_dtype(policy))


def _compare(stream, outputs, states, x, chunk):
    """The largest relative difference between ``outputs`` and ``states`` (one per chunk,
    from the exported stream) and the Keras stream's, their dtypes checked equal."""
    reference, worst = stream.initial_state(1), 0.0
    for index, start in enumerate(range(0, x.shape[1], chunk)):
        expected, reference = stream.step(x[:, start:start + chunk], reference)
        expected = _numpy(expected)
        assert outputs[index].dtype == expected.dtype, index
        worst = max(worst, _error(outputs[index], expected))
        assert sorted(states[index]) == sorted(reference), index
        for key, value in reference.items():
            value = _numpy(value)
            assert states[index][key].dtype == value.dtype, (index, key)
            worst = max(worst, _error(states[index][key], value))
    return worst


def _tolerance(manifest):
    dtypes = [manifest["dtype"], manifest["output_dtype"], *manifest["state_dtypes"].values()]
    return FLOAT16_TOLERANCE if "float16" in dtypes else TOLERANCE


@pytest.mark.parametrize("policy", ["mixed_float16", "float64"])
@pytest.mark.parametrize("format", ["onnx", "litert"])
def test_gru_state_keeps_its_dtype_chunk_after_chunk(format, policy, tmp_path):
    """A mixed_float16 GRU's state is float16 in a float32 stream: exported (TensorFlow's
    RNN loop refused it, cast to float32 on the way in) and given to the runtime as
    float16 (initial_state made it float32, which onnxruntime and LiteRT refused); a float64
    one likewise."""
    _needs(format)
    stream, chunk, chunks = Stream(_model(policy)), 4, 4
    refused = REFUSED.get((BACKEND, format, policy))
    if refused:
        with pytest.raises(ValueError, match=refused):
            export(stream, tmp_path, chunk, format=format)
        return
    export(stream, tmp_path, chunk, format=format)
    exported = ExportedStream(tmp_path)
    initial = exported.initial_state()
    assert {k: v.dtype for k, v in initial.items()} == {
        k: _numpy(v).dtype for k, v in stream.initial_state(1).items()}
    if policy == "mixed_float16":
        assert initial["gru/state0"].dtype == np.float16
    x, state, outputs, states = _input(chunk, chunks, policy), initial, [], []
    for start in range(0, x.shape[1], chunk):
        y, state = exported.step(x[:, start:start + chunk], state)
        outputs.append(y)
        states.append(state)
    error = _compare(stream, outputs, states, x, chunk)
    print(f"{BACKEND} {format} {policy}: max relative difference {error:.3g}")
    assert error <= _tolerance(exported.manifest)
    tail = exported.flush(state)  # a GRU holds no history: nothing left, in the output dtype
    assert tail.shape == (1, 0, 3) and tail.dtype == outputs[0].dtype


RUN_ELSEWHERE = """
import sys
import numpy as np
from upsample1d.streaming.export import ExportedStream
exported, x = ExportedStream(sys.argv[1]), np.load(sys.argv[2])
state, saved = exported.initial_state(), {}
for index, start in enumerate(range(0, x.shape[1], exported.chunk)):
    y, state = exported.step(x[:, start:start + exported.chunk], state)
    saved[f"y{index}"] = y
    saved.update((f"state{index}:{key}", value) for key, value in state.items())
np.savez(sys.argv[3], **saved)
"""


def test_mixed_float16_gru_dense_onnx_runs_in_onnxruntime(tmp_path):
    """GRU then Dense under mixed_float16: torch's Dense computes in float32 between two
    Casts, and onnxruntime (1.32) crashed (SIGSEGV) making a session of such a graph with
    its default optimizations; export leaves the fusion out that does it. Run in another
    process (NumPy backend), so that a crash fails this test only."""
    if BACKEND == "jax":
        pytest.skip("jax2onnx's mixed_float16 RNNs are refused (onnxruntime cannot load "
                    "them): test_gru_state_keeps_its_dtype_chunk_after_chunk")
    _needs("onnx")
    stream, chunk, chunks = Stream(_model("mixed_float16", dense=True)), 4, 4
    export(stream, tmp_path / "export", chunk, format="onnx")
    x = _input(chunk, chunks, "mixed_float16")
    np.save(tmp_path / "x.npy", x)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "KERAS_BACKEND": "numpy",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RUN_ELSEWHERE, str(tmp_path / "export"),
                           str(tmp_path / "x.npy"), str(tmp_path / "out.npz")], env=env,
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    saved = np.load(tmp_path / "out.npz")
    outputs = [saved[f"y{i}"] for i in range(chunks)]
    states = [{k.split(":", 1)[1]: saved[k] for k in saved.files
               if k.startswith(f"state{i}:")} for i in range(chunks)]
    error = _compare(stream, outputs, states, x, chunk)
    print(f"{BACKEND} onnx mixed_float16 GRU+Dense: max relative difference {error:.3g}")
    assert error <= FLOAT16_TOLERANCE


def test_float64_conv_is_refused_where_onnxruntime_has_no_kernel(tmp_path):
    """onnxruntime has no float64 Conv: export says so, naming the dtype and the runtime,
    instead of writing graphs that cannot run."""
    if BACKEND == "jax":
        pytest.skip("JAX without x64 computes float64 in float32, and so does its export")
    _needs("onnx")
    stream = Stream(_model("float64", layer="conv"))
    with pytest.raises(ValueError, match=r"onnxruntime cannot run step_0\.onnx, a graph "
                                         r"computing in float64: .*Conv"):
        export(stream, tmp_path, 4, format="onnx")


def test_manifest_state_dtypes_and_older_manifests(tmp_path):
    """Each state entry's dtype comes from the manifest; a manifest written before they had
    one (no ``state_dtypes``) gives every entry the input's dtype, as then."""
    manifest = {"format": "onnx", "chunk": 4, "batch_size": 1, "hop": 1, "latency": "0",
                "data_format": "channels_last", "dtype": "float32",
                "signatures": [{"state": {"batch": [1, 0], "gru/state0": [1, 3]}, "y": [1, 4, 3],
                                "step_outputs": ["y", "gru/state0"], "step": "step_0.onnx",
                                "flush_y": [1, 0, 3], "flush": None}]}
    newer = {"state_dtypes": {"batch": "float32", "gru/state0": "float16"},
             "output_dtype": "float16"}
    for fields, state_dtype in (({}, np.float32), (newer, np.float16)):
        with open(tmp_path / "stream.json", "w") as f:
            json.dump({**manifest, **fields}, f)
        exported = ExportedStream(tmp_path)
        assert {k: v.dtype for k, v in exported.initial_state().items()} == {
            "batch": np.float32, "gru/state0": state_dtype}
        assert exported.flush(exported.initial_state()).dtype == state_dtype
