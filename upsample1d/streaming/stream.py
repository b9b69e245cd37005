"""Exact chunk-by-chunk inference of a Keras model: :class:`Stream`."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import keras
from keras import ops, tree

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.streaming.plan import make_plan
from upsample1d.streaming.rules import MERGE, RECURRENT, unwrapped

FLUSHED = "flushed"  # the key flush() adds to the state it was given
BATCH = "batch"  # a (batch, 0) tensor: every state knows its batch size


class Stream:
    """A functional model run chunk by chunk, with exactly the offline model's output.

    ``state = stream.initial_state(batch_size)``, then ``y, state = stream.step(x, state)``
    for each chunk ``x`` (its length a multiple of :attr:`hop`), then
    ``y_tail = stream.flush(state)``: the concatenation of every ``y`` and ``y_tail`` along
    time equals ``model(whole_signal)``, both ends included, to float rounding.

    How: every layer is run on a window of its recent input (its *history*, carried in the
    state) and the new chunk, and only the outputs whose whole reach lies inside the window
    are kept (:mod:`upsample1d.streaming.rules` has the reach of each layer). The first step
    starts from empty histories, so the layers see the true start of the signal and their
    own edge handling (zero or replicate padding, edge corrections) applies exactly; ``flush``
    runs them on what they hold, whose end is the true end. Branches that lag each other by
    different amounts (U-Net skips, residual blocks) are aligned by queues in the state;
    unidirectional RNNs carry their own state.

    Latency: after ``N`` input samples the stream has returned
    ``max(N - latency, 0)`` samples (times the output's rate), so the first steps return
    fewer samples and ``flush`` the last ``latency``. :attr:`latency` is in input samples;
    :attr:`layer_latency` gives each layer's lookahead.

    The state is a dict of tensors (a pytree on JAX), so :meth:`step` is a pure function:
    it runs under ``jax.jit``, ``tf.function(jit_compile=True)`` and ``torch.compile``
    (:meth:`compiled_step`). State shapes grow during the first steps (histories start
    empty), then stay fixed: a fixed chunk length then never traces again. Weights are read
    when a compiled step is traced. Inference only: no gradients are recorded.

    Args:
        model: a Keras functional (or Sequential) model with one input and one output, of
            rank 3, made of this package's layers and the Keras layers audio models use;
            or a model whose ``as_functional()`` gives one, such as the BigVGAN generator
            (:class:`upsample1d.bigvgan.BigVGAN`: mel frames in, samples out).
            A layer that cannot stream raises :class:`NotStreamableError` naming it and why.
        data_format: of the model's input; default: that of its layers (channels_last when
            none says).

    Example:
    >>> import keras
    >>> import numpy as np
    >>> from upsample1d.models import autoencoder
    >>> from upsample1d.streaming import Stream
    >>> model = autoencoder(length=None)
    >>> stream = Stream(model)
    >>> stream.hop, stream.latency  # 4 + 4 + 4 ahead at a quarter of the rate: 48 samples
    (4, 48)
    >>> x = np.random.default_rng(0).normal(size=(1, 512, 1)).astype("float32")
    >>> state = stream.initial_state(1)
    >>> parts = []
    >>> for chunk in np.split(x, 4, axis=1):
    ...     y, state = stream.step(chunk, state)
    ...     parts.append(np.asarray(y))
    >>> parts.append(np.asarray(stream.flush(state)))
    >>> [p.shape[1] for p in parts]
    [80, 128, 128, 128, 48]
    >>> offline = keras.ops.convert_to_numpy(model(x))
    >>> bool(np.abs(np.concatenate(parts, axis=1) - offline).max() < 1e-5)
    True
    """

    def __init__(self, model, data_format=None):
        if data_format is not None:
            data_format = check.data_format(data_format)
        self.model = model
        self._plan = make_plan(model, data_format)
        self.data_format = "channels_last" if self._plan.time_axis == 1 else "channels_first"
        source = self._plan.tensors[self._plan.source]
        self._input_channels = source.shape[3 - self._plan.time_axis]
        self._input_dtype = keras.backend.standardize_dtype(source.dtype)
        self._layout = {BATCH: (0, self._input_dtype, "recurrent")}  # checked first
        self._layout.update((key, spec) for node in self._plan.nodes
                            for key, spec in node.state.items())
        # the most samples each history and queue holds: a longer one was made by another
        # stream (one whose layers reach further)
        self._longest = {f"{node.name}/history": node.keep * node.reach.down
                         for node in self._plan.nodes if node.keep}
        self._longest.update((f"{node.name}/queue{i}", n) for node in self._plan.nodes
                             for i, n in node.queued.items())
        # the dtype the backend holds for each (JAX without x64 holds float64 as float32)
        self._held = {dtype: keras.backend.standardize_dtype(ops.zeros((), dtype).dtype)
                      for _, dtype, _ in self._layout.values()}

    # --- public figures ---------------------------------------------------------------------

    @property
    def hop(self):
        """Chunk lengths must be multiples of this: the product of the downsampling factors
        (more where a layer reads whole blocks at a lower rate)."""
        return self._plan.hop

    @property
    def latency(self):
        """The lookahead: input samples the output lags the input by (an int, or a
        ``Fraction`` where the output rate differs from the input rate)."""
        return _number(self._plan.latency)

    @property
    def output_rate(self):
        """Output samples per input sample (an int, or a ``Fraction``)."""
        return _number(self._plan.rate)

    @property
    def layer_latency(self):
        """Each layer's lookahead, in model-input samples, ``{layer name: samples}``; along
        the slowest path from input to output they add up to :attr:`latency`."""
        return {node.name: _number(node.lookahead / node.rate_in)
                for node in self._plan.nodes if node.lookahead}

    # --- the stream -------------------------------------------------------------------------

    def initial_state(self, batch_size):
        """The state before the first chunk: empty histories and queues, zero RNN states."""
        batch_size = check.positive_int(batch_size, "batch_size")
        state = {BATCH: ops.zeros((batch_size, 0), dtype=self._input_dtype)}
        for key, (channels, dtype, kind) in self._layout.items():
            shape = (batch_size, channels) if kind == "recurrent" else \
                self._shape(batch_size, channels, 0)
            state[key] = ops.zeros(shape, dtype=dtype)
        return _in_key_order(state)

    def step(self, x, state):
        """``(y, new_state)``: the output this chunk makes exact, and the state to pass
        next. ``x``: ``(B, T, C)`` (channels_last) or ``(B, C, T)``, ``T`` a multiple of
        :attr:`hop`. Pure: ``state`` is not changed."""
        x = self._check_chunk(x)
        self._check_state(state, ops.shape(x)[0], "step")
        return self._run(x, state, final=False)

    def flush(self, state):
        """The rest of the output: what the last ``latency`` input samples make, up to the
        true end of the signal. Marks ``state`` (the dict passed) as flushed, so that a
        later ``step`` or ``flush`` on it is refused; start again with
        :meth:`initial_state`. Call it eagerly (it runs once per stream)."""
        self._check_state(state, None, "flush")
        y = self._tail(state)
        state[FLUSHED] = None
        return y

    def compiled_step(self, **options):
        """:meth:`step`, compiled with the backend's compiler (``jax.jit``,
        ``tf.function(jit_compile=True)``, ``torch.compile``; ``options`` go to it) once the
        state's shapes stop changing: the first steps, while the histories fill, run
        eagerly, so each chunk length compiles once. On torch, from the third compiled call
        in a row with one chunk length on, only the guards that tell its graphs apart are
        checked (shapes, dtypes, device and grad mode are checked here), and what layers
        make from their weights alone (a transposed upsampler's polyphase kernel, Snake's
        factors) is a constant of the graphs, compiled afresh when those weights change; on
        JAX the step is jitted afresh when a variable of the model holds a new value; on
        TensorFlow the graph of a chunk length is called as a ConcreteFunction, without
        tf.function's dispatch. So the compiled step always computes with the model's
        current weights. (``jax.jit(stream.step)`` works too, tracing once per state shape,
        but keeps the weights its trace read.)"""
        return _SteadyStep(self.step, _backend.compile_step(self.step, self.model.variables,
                                                            **options), self._input_dtype)

    # --- internals --------------------------------------------------------------------------

    def _shape(self, batch, channels, time):
        return (batch, time, channels) if self._plan.time_axis == 1 else (batch, channels, time)

    def _tail(self, state):
        """The rest of the output, from the true end of the signal (no checks)."""
        batch = state[BATCH].shape[0]
        x = ops.zeros(self._shape(batch, self._input_channels, 0), dtype=self._input_dtype)
        return self._run(x, state, final=True)[0]

    def _run(self, x, state, final):
        with _backend.inference():
            return self._run_graph(x, state, final)

    def _run_graph(self, x, state, final):
        values = {self._plan.source: x}
        new_state = {BATCH: state[BATCH]}
        for node in self._plan.nodes:
            inputs = [values[key] for _, key in node.call.inputs]
            run = {MERGE: self._merge, RECURRENT: self._recurrent}.get(node.reach.kind,
                                                                       self._window)
            # in the dtype the plan gives it: Keras' tanh on JAX returns float32 for float64
            # (3.15), and a history kept in it would not be this stream's state
            values[node.call.output] = _cast(run(node, inputs, state, new_state, final),
                                             self._plan.dtypes[node.call.output])
        return values[self._plan.output], _in_key_order(new_state)

    def _window(self, node, inputs, state, new_state, final):
        """Run the layer on its history and the new input; keep the outputs whose reach
        lies in that window (all that are left when ``final``)."""
        axis, x = self._plan.time_axis, inputs[0]
        down, up = node.reach.down, node.reach.up
        key = f"{node.name}/history"
        window = _concat([state[key], x], axis) if node.keep else x
        held = window.shape[axis] // down - x.shape[axis] // down  # blocks of history
        blocks = window.shape[axis] // down
        start = max(held - node.right, 0) * up
        # at the end, all that is left: "valid" convolutions make fewer samples, transposed
        # ones more, than `up` per block
        end = self._output_time(node, window) if final else max(blocks - node.right, 0) * up
        if node.keep:
            new_state[key] = _take(window, axis, (blocks - min(blocks, node.keep)) * down, None)
        if end <= start:
            return self._empty(node, window)
        y = self._call(node, [window] * len(node.call.inputs))
        if y.shape[axis] < end:  # a rule that under-reads: fail loudly, never cut silently
            raise AssertionError(f"{node.name}: made {y.shape[axis]} samples from a window of "
                                 f"{window.shape[axis]}, needs {end}; its streaming rule "
                                 f"({node.reach}) does not match the layer")
        return _take(y, axis, start, end)

    def _merge(self, node, inputs, state, new_state, final):
        """Combine the inputs sample by sample, as far as the slowest has come; the rest
        waits in the state."""
        axis = self._plan.time_axis
        inputs = [_concat([state[f"{node.name}/queue{i}"], x], axis) if i in node.queues
                  else x for i, x in enumerate(inputs)]
        ready = min(x.shape[axis] for x in inputs)
        if final and any(x.shape[axis] != ready for x in inputs):
            raise AssertionError(f"{node.name}: inputs end at different lengths "
                                 f"{[x.shape[axis] for x in inputs]}")
        for i in node.queues:
            new_state[f"{node.name}/queue{i}"] = _take(inputs[i], axis, ready, None)
        if not ready:
            return self._empty(node, inputs[0])
        return self._call(node, [_take(x, axis, 0, ready) for x in inputs])

    def _recurrent(self, node, inputs, state, new_state, final):
        """A unidirectional RNN from the state it reached at the end of the last chunk."""
        x, layer = inputs[0], node.call.operation
        keys = sorted(node.state)
        states = [state[key] for key in keys]
        if not x.shape[1]:
            new_state.update(zip(keys, states, strict=True))
            return self._empty(node, x)
        if layer.autocast:
            x = _cast(x, layer.compute_dtype)
        with _backend.autocast(layer):
            _, outputs, states = layer.inner_loop(x, initial_state=states, mask=None,
                                                  training=False)
        states = states if isinstance(states, (list, tuple)) else [states]
        new_state.update((key, ops.cast(s, layer.compute_dtype))
                         for key, s in zip(keys, states, strict=True))
        return ops.cast(outputs, layer.compute_dtype)

    def _call(self, node, inputs):
        """The node's operation on ``inputs``, one value per tensor in its arguments.

        A layer's ``call`` runs directly (a wrapper's inner layer's), with floating inputs
        cast to its compute dtype, and its variables read in that dtype under a mixed
        policy, as ``Layer.__call__`` would: its other work (building,
        masks, the training flag) is done or refused at construction, and a nested
        ``__call__`` makes ``torch.compile`` break the graph."""
        values = {arg_id: x for (arg_id, _), x in zip(node.call.inputs, inputs, strict=True)}
        args, kwargs = node.call.arguments.fill_in(values)
        kwargs = {k: v for k, v in kwargs.items() if k not in ("training", "mask")}
        layer = unwrapped(node.call.operation)
        if not isinstance(layer, keras.layers.Layer):
            return layer(*args, **kwargs)
        if layer.autocast:
            args = tree.map_structure(lambda x: _cast(x, layer.compute_dtype), args)
        with _backend.autocast(layer):
            return layer.call(*args, **kwargs)

    def _output_time(self, node, window):
        """How many samples ``node`` makes from ``window`` (0 where it cannot run on so
        few)."""
        shape = list(window.shape)
        shape[0] = None
        try:
            shape = node.call.operation.compute_output_shape(tuple(shape))
        except ValueError:  # e.g. a "valid" convolution longer than the window
            return 0
        return max(shape[self._plan.time_axis], 0)

    def _empty(self, node, like):
        """No samples of ``node``'s output: its channels, batch and dtype."""
        symbolic = self._plan.tensors[node.call.output]
        channels = symbolic.shape[3 - self._plan.time_axis]
        return ops.zeros(self._shape(ops.shape(like)[0], channels, 0),
                         dtype=self._plan.dtypes[node.call.output])

    # --- checks -----------------------------------------------------------------------------

    def _check_chunk(self, x):
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            x = ops.convert_to_tensor(x, dtype=self._input_dtype)
        dtype = keras.backend.standardize_dtype(x.dtype)
        if dtype not in (self._input_dtype, self._held[self._input_dtype]):
            raise TypeError(f"the chunk has dtype {dtype}, the stream runs "
                            f"{self._input_dtype}: cast it first.")
        shape, axis = tuple(x.shape), self._plan.time_axis
        if len(shape) != 3 or shape[3 - axis] != self._input_channels:
            expected = self._shape("B", self._input_channels, "T")
            raise ValueError(f"the chunk must have shape {expected} ({self.data_format}), got "
                             f"{shape}.")
        if not isinstance(shape[axis], int):
            raise ValueError(f"the chunk needs a static length along time, got shape {shape}.")
        check.chunk_length(shape[axis], self.hop)
        return ops.convert_to_tensor(x)

    def _check_state(self, state, batch, where):
        """Refuse a state that this stream did not make for this batch; returns its batch."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{where} needs the state dict from initial_state or step, got "
                            f"{type(state).__name__}.")
        if FLUSHED in state:
            raise ValueError(f"{where}: this state was flushed, its stream has ended; start a "
                             "new one with initial_state(batch_size).")
        missing, extra = set(self._layout) - set(state), set(state) - set(self._layout)
        if missing or extra:
            raise ValueError(f"{where}: the state does not belong to this stream: missing "
                             f"{sorted(missing)}, unexpected {sorted(extra)}.")
        for key, (channels, dtype, kind) in self._layout.items():
            if not hasattr(state[key], "shape") or not hasattr(state[key], "dtype"):
                raise TypeError(f"{where}: state {key!r} must be a tensor, got "
                                f"{type(state[key]).__name__}.")
            shape, got = tuple(state[key].shape), keras.backend.standardize_dtype(
                state[key].dtype)
            batch = shape[0] if batch is None else batch
            expected = (batch, channels) if kind == "recurrent" else \
                self._shape(batch, channels, shape[self._plan.time_axis] if len(shape) == 3
                            else "T")
            if shape != expected or got not in (dtype, self._held[dtype]):
                raise ValueError(f"{where}: state {key!r} has shape {shape} and dtype {got}; "
                                 f"this stream and chunk need {expected} and {dtype} (was the "
                                 "state made for another batch size or stream?).")
            if kind != "recurrent" and shape[self._plan.time_axis] > self._longest[key]:
                raise ValueError(f"{where}: state {key!r} holds {shape[self._plan.time_axis]} "
                                 f"samples, more than this stream ever keeps there "
                                 f"({self._longest[key]}): the state was made by another "
                                 "stream.")
        return batch


class _SteadyStep:
    """``step`` run eagerly until a step leaves the state's shapes as they were (from then
    on they never change for that chunk shape), then ``compiled``. From the third compiled
    call in a row with one signature on (the state then comes from that graph itself, with
    its strides), only the guards that tell its graphs apart are checked
    (:func:`upsample1d._backend.skipping_guards`; the signature holds shapes, dtypes, device
    and grad mode); should the compiler still want another graph, the call is made again
    with every guard."""

    def __init__(self, step, compiled, dtype):
        self.step, self.compiled, self.dtype = step, compiled, dtype
        self.graphs = {}  # steady signature -> its graph (_backend.specialised)
        self.last, self.in_a_row = None, 0

    def __call__(self, x, state):
        if not hasattr(x, "shape"):  # a list: as step takes it
            x = ops.convert_to_tensor(x, dtype=self.dtype)
        signature = _signature(x, state)
        graph = self.graphs.get(signature)
        if graph is None:
            self.last, self.in_a_row = None, 0
            y, new_state = self.step(x, state)
            if _signature(x, new_state) == signature:
                self.graphs[signature] = _backend.specialised(self.compiled, x, new_state)
            return y, new_state
        self.in_a_row = self.in_a_row + 1 if signature == self.last else 1
        self.last = signature
        if self.in_a_row > 2:
            try:
                with _backend.skipping_guards():
                    return graph(x, state)
            except RuntimeError as error:
                if not _backend.refused_without_guards(error):
                    raise
                self.in_a_row = 1
        return graph(x, state)


def _signature(x, state):
    # the dtype objects, not their names, and the state's own order: on a 16-tensor
    # demucs_like state, names and sorting took 49 us on JAX (str of a dtype is slow there),
    # a tenth of a 4096-sample step; this takes 3 us. A state in another key order only gets
    # a graph entry of its own.
    shapes = tuple([(key, tuple(value.shape), value.dtype) if value is not None else (key,)
                    for key, value in state.items()])
    return tuple(x.shape), x.dtype, shapes, _backend.guarded_context(x)


def _in_key_order(state):
    # jax.jit returns a dict with its keys sorted: an eager step's state in another order
    # would have another signature than the compiled graph's, and the steps would alternate
    # between the graph and eager mode. Sorted by key alone: torch.compile cannot sort
    # (key, tensor) pairs
    return {key: state[key] for key in sorted(state)}


def _cast(x, dtype):
    if not hasattr(x, "dtype") or isinstance(x, float | int):
        return x
    current = keras.backend.standardize_dtype(x.dtype)
    return ops.cast(x, dtype) if "float" in current and current != dtype else x


def _concat(tensors, axis):
    tensors = [t for t in tensors if t.shape[axis]] or tensors[:1]
    return tensors[0] if len(tensors) == 1 else ops.concatenate(tensors, axis=axis)


def _take(x, axis, start, stop):
    """``x[start:stop]`` along ``axis`` (1 or 2)."""
    if start == 0 and (stop is None or stop == x.shape[axis]):
        return x
    return x[:, start:stop] if axis == 1 else x[:, :, start:stop]


def _number(value):
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else value
