"""A stream exported with its state as explicit inputs and outputs: ONNX (run with
onnxruntime) or LiteRT (``.tflite``, run with ``ai-edge-litert``).

Every exported graph has fixed shapes, and the state's shapes grow while the histories fill
(the first steps see the true start of the signal: that is what makes the edges exact). So
:func:`export` writes one step graph per state shape on the way, from the empty state to the
steady one, which then serves every later chunk, and one flush graph per state shape a
stream can end in; ``stream.json`` says which is which. :class:`ExportedStream` runs them
with the same ``initial_state`` / ``step`` / ``flush`` as :class:`~upsample1d.streaming.
Stream`, on NumPy arrays, for the exported chunk length and batch size. Empty state
entries (histories before any input) are not graph inputs or outputs: the runner holds
them.

Keras' own exporters do the work (``Model.export``): ONNX from the TensorFlow backend
(tf2onnx), the torch backend (torch.onnx) and JAX (jax2onnx); LiteRT from TensorFlow (and
from torch with ``litert-torch``).
"""

from __future__ import annotations

import importlib.util
import json
import os

import keras
import numpy as np

from upsample1d import _validation as check
from upsample1d.streaming.stream import FLUSHED

FORMATS = {"onnx": ".onnx", "litert": ".tflite"}
RUNTIMES = {"onnx": ("onnxruntime", "onnxruntime"),  # (module, name in messages)
            "litert": ("ai_edge_litert", "LiteRT (ai-edge-litert)")}
ORT_UNSAFE_WITH_CASTS = ("MatmulTransposeFusion",)
MANIFEST = "stream.json"


class _Graph(keras.Model):
    """One step (``chunk`` given) or the flush (``chunk`` None) of ``stream`` for one state
    shape, flat: ``[x, *state entries that are not empty]`` -> ``[y, *new entries that are
    not empty]`` (``y`` left out when empty)."""

    def __init__(self, stream, shapes, chunk_shape, outputs):
        # inputs kept as they come, and no autocast scope of its own: Layer.__call__ would
        # cast the state inputs to the graph's compute dtype (float16 or float64 RNN states
        # to float32, which TensorFlow's RNN while loop then refuses), and each layer of the
        # stream reads its variables in its own policy's dtype anyway
        super().__init__(name="stream_step" if chunk_shape else "stream_flush",
                         dtype="float32", autocast=False)
        self.stream, self.shapes, self.chunk_shape = stream, shapes, chunk_shape
        self.inner = stream.model  # tracked: the exporters find its variables
        self.inputs_kept = [k for k, s in shapes.items() if 0 not in s]
        self.outputs_kept = outputs

    def call(self, inputs):
        inputs = list(inputs)
        x = inputs.pop(0) if self.chunk_shape else None
        state = {key: keras.ops.zeros(shape, self.stream._layout[key][1])
                 for key, shape in self.shapes.items()}
        state.update(zip(self.inputs_kept, inputs, strict=True))
        if x is None:
            y, new_state = self.stream._tail(state), {}
        else:
            y, new_state = self.stream._run(x, state, final=False)
        values = {"y": y, **new_state}
        return [values[key] for key in self.outputs_kept]


def _shapes(state):
    return {key: tuple(int(d) for d in value.shape) for key, value in sorted(state.items())}


def _dtype(value):
    return keras.backend.standardize_dtype(value.dtype)


def _warm_up(stream, chunk, batch_size):
    """The state shapes from the initial state on, chunk after chunk, up to the steady one;
    the shape of each step's output; and the dtypes the backend holds (each state entry's
    own: a mixed_float16 RNN's state is float16 in a float32 stream)."""
    x = keras.ops.zeros(stream._shape(batch_size, stream._input_channels, chunk),
                        stream._input_dtype)
    state, seen, outputs = stream.initial_state(batch_size), [], []
    dtypes = {"x": _dtype(x), **{k: _dtype(v) for k, v in sorted(state.items())}}
    while not seen or _shapes(state) != seen[-1]:
        seen.append(_shapes(state))
        y, state = stream.step(x, state)
        outputs.append((tuple(y.shape), _shapes(state)))
    dtypes["y"] = _dtype(y)
    return seen, outputs, dtypes


def export(stream, directory, chunk, batch_size=1, format="onnx"):
    """Write ``stream``'s graphs for chunks of ``chunk`` samples and ``batch_size`` to
    ``directory`` (created), as ``format`` ``"onnx"`` or ``"litert"``; returns the path of
    the manifest. Run them with :class:`ExportedStream`.

    Each tensor keeps the dtype the backend holds it in: the manifest gives the input's
    (``dtype``), the output's (``output_dtype``) and each state entry's (``state_dtypes``: a
    ``mixed_float16`` RNN's state is float16 in a float32 stream). Where the graphs compute
    in another float than float32 (a mixed policy, float64), each is loaded in the runtime
    :class:`ExportedStream` uses, where installed, and export raises a ``ValueError`` naming
    the dtype and the runtime if the exporter or the runtime cannot take it. Seen here
    (Keras 3.15, onnxruntime 1.32, ai-edge-litert 2.3): onnxruntime has no float64 Conv,
    and jax2onnx writes mixed_float16 RNNs that onnxruntime cannot load; TensorFlow's LiteRT
    converter makes float16 and float64 ops Select TensorFlow ops, which ai-edge-litert
    cannot run, and litert-torch does not convert float64 matmuls. mixed_float16 RNNs export
    to ONNX from TensorFlow and torch and to LiteRT from torch, float64 ones to ONNX from
    TensorFlow and torch (JAX without x64 computes float64 in float32, and so does the
    export). A graph with float16 ops matches Keras to float16 rounding (a few units in the
    last place), not float32's. The manifest's ``runtime_options`` are what onnxruntime
    needs to load such graphs (an optimization left out that crashes onnxruntime 1.32 on a
    Cast between a Transpose and a MatMul): pass them to ``InferenceSession`` to run the
    graphs without :class:`ExportedStream`."""
    chunk = check.chunk_length(chunk, stream.hop)
    batch_size = check.positive_int(batch_size, "batch_size")
    format = check.choice(format, "format", tuple(FORMATS))
    os.makedirs(directory, exist_ok=True)
    signatures, outputs, dtypes = _warm_up(stream, chunk, batch_size)
    others = _other_floats(stream, dtypes)
    # onnxruntime (1.32) crashes (SIGSEGV) making a session of a graph where a Transpose
    # feeds a MatMul through a Cast (torch's Dense under float64 or mixed_float16 computes in
    # float32 between two Casts) with its default optimizations: ExportedStream leaves out
    # the fusion that does it in graphs that hold other floats than float32
    options = {"disabled_optimizers": list(ORT_UNSAFE_WITH_CASTS)} if (
        others and format == "onnx") else {}
    chunk_shape = stream._shape(batch_size, stream._input_channels, chunk)
    entries = []
    for index, shapes in enumerate(signatures):
        y_shape, next_shapes = outputs[index]
        kept = [k for k, s in [("y", y_shape), *next_shapes.items()] if 0 not in s]
        entry = {"state": shapes, "y": y_shape, "step_outputs": kept,
                 "step": _write(stream, shapes, chunk_shape, kept, directory,
                                f"step_{index}", format, dtypes, others, options)}
        # a stream may end at any state, the first included: all that is left of its output
        tail = _tail_shape(stream, shapes)
        entry["flush_y"] = tail
        entry["flush"] = None if 0 in tail else _write(stream, shapes, None, ["y"], directory,
                                                       f"flush_{index}", format, dtypes,
                                                       others, options)
        entries.append(entry)
    manifest = {"format": format, "chunk": chunk, "batch_size": batch_size,
                "chunk_shape": list(chunk_shape), "hop": stream.hop,
                "latency": str(stream.latency), "data_format": stream.data_format,
                "dtype": dtypes["x"], "output_dtype": dtypes["y"],
                "state_dtypes": {k: v for k, v in dtypes.items() if k not in ("x", "y")},
                "runtime_options": options, "signatures": entries}
    path = os.path.join(directory, MANIFEST)
    with open(path, "w") as f:
        json.dump(manifest, f, indent=1)
    return path


def _tail_shape(stream, shapes):
    state = {k: keras.ops.zeros(s, stream._layout[k][1]) for k, s in shapes.items()}
    return tuple(int(d) for d in stream._tail(state).shape)


def _write(stream, shapes, chunk_shape, outputs, directory, name, format, dtypes, others,
           options):
    """Export one graph; where it computes in other floats than float32 (``others``), load
    it in the runtime :class:`ExportedStream` uses (where installed), which refuses what its
    kernels cannot run, so that export refuses it, naming the dtype and the runtime."""
    graph = _Graph(stream, shapes, chunk_shape, outputs)
    specs = [keras.InputSpec(shape=chunk_shape, dtype=dtypes["x"])] if chunk_shape else []
    specs += [keras.InputSpec(shape=shapes[k], dtype=dtypes[k]) for k in graph.inputs_kept]
    graph([keras.ops.zeros(s.shape, s.dtype) for s in specs])  # built, as exporters want
    filename = name + FORMATS[format]
    path = os.path.join(directory, filename)
    try:
        graph.export(path, format=format, input_signature=[specs], verbose=False)
    except Exception as error:
        if not others:
            raise
        raise ValueError(f"{format} export of {filename}, a graph computing in "
                         f"{' and '.join(others)}, failed: {_first_line(error)}; its "
                         "exporter may take it in float32 only: try a float32 model") from error
    if others and importlib.util.find_spec(RUNTIMES[format][0]) is not None:
        try:
            _runner(path, options)
        except Exception as error:
            raise ValueError(f"{RUNTIMES[format][1]} cannot run {filename}, a graph computing "
                             f"in {' and '.join(others)}: {_first_line(error)}; export a "
                             "float32 model") from error
    return filename


def _other_floats(stream, dtypes):
    """The float dtypes other than float32 that the graphs hold or compute in: the input's,
    the output's, the state's, each layer's (a mixed policy's float16 included)."""
    found = set(dtypes.values())
    for node in stream._plan.nodes:
        layer = node.call.operation
        if isinstance(layer, keras.layers.Layer):
            found.update((layer.compute_dtype, layer.variable_dtype))
    # as the backend holds them: JAX without x64 computes float64 in float32
    found = {keras.backend.standardize_dtype(keras.ops.zeros((), d).dtype) for d in found
             if d and "float" in d}
    return sorted(found - {"float32"})


def _first_line(error):
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"[:400]


class ExportedStream:
    """The graphs :func:`export` wrote, run chunk after chunk on NumPy arrays: onnxruntime
    for ONNX, ``ai_edge_litert`` for LiteRT. The same ``initial_state()`` / ``step(x,
    state)`` / ``flush(state)`` as a :class:`~upsample1d.streaming.Stream`, for the exported
    chunk length and batch size."""

    def __init__(self, directory):
        with open(os.path.join(directory, MANIFEST)) as f:
            self.manifest = json.load(f)
        self.directory, self._runners = directory, {}
        self.chunk, self.hop = self.manifest["chunk"], self.manifest["hop"]
        self.batch_size = self.manifest["batch_size"]
        self._signatures = self.manifest["signatures"]
        # manifests written before state entries had dtypes of their own: all the input's
        self.dtype = self.manifest["dtype"]
        self.output_dtype = self.manifest.get("output_dtype", self.dtype)
        self.state_dtypes = self.manifest.get("state_dtypes", {})
        self._options = self.manifest.get("runtime_options", {})

    def _zeros(self, key, shape):
        return np.zeros(shape, self.state_dtypes.get(key, self.dtype))

    def initial_state(self, batch_size=None):
        """The state before the first chunk, as a Stream's; ``batch_size`` (optional here)
        must be the exported one."""
        if batch_size is not None and check.positive_int(batch_size, "batch_size") != \
                self.batch_size:
            raise ValueError(f"this export runs batch {self.batch_size}, got "
                             f"batch_size={batch_size}: export again for that batch size.")
        return {k: self._zeros(k, s) for k, s in self._signatures[0]["state"].items()}

    def _find(self, state):
        shapes = {k: list(np.shape(v)) for k, v in sorted(state.items())}
        for entry in self._signatures:
            if entry["state"] == shapes:
                return entry
        raise ValueError(f"no exported graph takes a state of shapes {shapes}; "
                         "was it made by this export's initial_state and step?")

    def _check_chunk(self, x):
        """``x`` as the graph's input, or an error naming what differs: a runtime would take
        another dtype cast (int16 PCM as float values) and LiteRT resizes its input to any
        shape (a mono chunk ran through a stereo model's per-channel weights)."""
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"the chunk has dtype {x.dtype}, the export runs {self.dtype}: "
                            "cast it first.")
        axis = 1 if self.manifest["data_format"] == "channels_last" else 2
        # manifests written before the chunk shape was recorded: batch and length only
        expected = self.manifest.get("chunk_shape")
        if x.ndim != 3 or (expected is not None and list(x.shape) != expected) or (
                x.shape[0] != self.batch_size or x.shape[axis] != self.chunk):
            shape = tuple(expected) if expected else (
                (self.batch_size, self.chunk, "C") if axis == 1 else
                (self.batch_size, "C", self.chunk))
            raise ValueError(f"this export takes chunks of shape {shape} "
                             f"({self.manifest['data_format']}: batch {self.batch_size}, "
                             f"{self.chunk} samples); got shape {x.shape}.")
        return x.astype(self.dtype, copy=False)

    @staticmethod
    def _check_not_flushed(state, where):
        if FLUSHED in state:
            raise ValueError(f"{where}: this state was flushed, its stream has ended; start a "
                             "new one with initial_state().")

    def step(self, x, state):
        x = self._check_chunk(x)
        self._check_not_flushed(state, "step")
        entry = self._find(state)
        after = self._signatures[min(self._signatures.index(entry) + 1,
                                     len(self._signatures) - 1)]["state"]
        kept = [k for k, s in entry["state"].items() if 0 not in s]
        values = dict(zip(entry["step_outputs"],
                          self._run(entry["step"], [x] + [state[k] for k in kept]),
                          strict=True))
        y = values.pop("y", np.zeros(entry["y"], self.output_dtype))
        new_state = {k: values[k] if k in values else self._zeros(k, s)
                     for k, s in after.items()}
        return y, new_state

    def flush(self, state):
        """The output's tail; marks ``state`` flushed (a later ``step`` or ``flush`` on it is
        refused, as a :class:`~upsample1d.streaming.Stream`'s: it would emit the tail again)."""
        self._check_not_flushed(state, "flush")
        entry = self._find(state)
        if entry["flush"] is None:
            y = np.zeros(entry["flush_y"], self.output_dtype)
        else:
            kept = [k for k, s in entry["state"].items() if 0 not in s]
            y = self._run(entry["flush"], [state[k] for k in kept])[0]
        state[FLUSHED] = None
        return y

    def _run(self, filename, inputs):
        runner = self._runners.get(filename)
        if runner is None:
            runner = self._runners[filename] = _runner(os.path.join(self.directory, filename),
                                                       self._options)
        return runner(inputs)


def _runner(path, options=None):
    """A function running the graph at ``path`` on a list of arrays, in the graph's order;
    ``options``: the manifest's ``runtime_options`` (onnxruntime's ``disabled_optimizers``)."""
    if path.endswith(".onnx"):
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"],
                                               **(options or {}))
        names = [i.name for i in session.get_inputs()]
        return lambda inputs: session.run(None, dict(zip(names, inputs, strict=True)))
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()  # refuses ops the interpreter lacks (TF's Select ops)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    names = sorted(details, key=lambda n: _input_position(n))
    out_names = sorted(runner.get_output_details(), key=_input_position)

    def run(inputs):
        out = runner(**dict(zip(names, inputs, strict=True)))
        return [out[n] for n in out_names]

    return run


def _input_position(name):
    """The position in a LiteRT signature name such as ``args_0_3`` or ``output_2``."""
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return int(digits[-1]) if digits else 0
