"""The static plan of a stream: each call's reach in blocks, rates, lags and the hop.

Everything here is Python integers and fractions, worked out once from the model's graph and
the rule table (:mod:`upsample1d.streaming.rules`); the stream's ``step`` only reads it.

Terms, for a tensor ``X`` of the graph: its *rate* is samples of ``X`` per model-input
sample (a fraction); its *grain* is the number of samples every emission of ``X`` must be a
multiple of (so that each consumer gets whole blocks); its *lag* is how many model-input
samples behind the input its emitted samples are: after ``N`` input samples (a multiple of
the hop), ``max(N - lag, 0) * rate`` samples of ``X`` have been emitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import keras

import upsample1d.streaming.rules as rules
from upsample1d.streaming.graph import Call, flatten
from upsample1d.streaming.rules import MERGE, RECURRENT, NotStreamableError


@dataclass
class Node:
    """A call of the graph with its streaming arithmetic. ``left`` / ``right`` are the reach
    in input blocks of ``reach.down`` samples (``right`` rounded up to whole output grains),
    ``keep = left + right`` the blocks of history a window node carries; ``queues``: the
    argument positions of a merge that wait for a slower input, ``queued`` the most samples
    each of them holds (its lead on the slowest)."""

    call: Call
    reach: rules.Reach
    left: int = 0
    right: int = 0
    queues: tuple = ()
    queued: dict = field(default_factory=dict)  # queue position -> most samples it holds
    lookahead: int = 0  # input samples of this call
    rate_in: Fraction = Fraction(1)  # input samples per model-input sample
    lag: Fraction = Fraction(0)  # of its output, in model-input samples
    state: dict = field(default_factory=dict)  # state key -> (channels, dtype, kind)

    @property
    def name(self):
        return self.call.name

    @property
    def keep(self):
        return self.left + self.right


@dataclass
class Plan:
    nodes: list
    source: tuple
    output: tuple
    tensors: dict
    time_axis: int
    hop: int
    latency: Fraction
    rate: Fraction  # output samples per input sample
    dtypes: dict = field(default_factory=dict)  # tensor key -> its dtype when the model runs


def _time_axis(calls, data_format):
    if data_format is not None:
        return 1 if data_format == "channels_last" else 2
    formats = {rules.data_format(call.operation) for call in calls} - {None}
    if len(formats) > 1:
        raise NotStreamableError(f"the model's layers use both data formats {sorted(formats)};"
                                 " pass Stream(model, data_format=...) for its input.")
    return 2 if formats == {"channels_first"} else 1


def _check_arguments(call):
    rules.check_call_options(call.operation, call.arguments)


def _grains(nodes, source, output, tensors):
    """Every tensor's grain, from the output (grain 1) back to the source (the hop)."""
    grains = {key: 1 for key in tensors}
    for node in reversed(nodes):
        g_out = grains[node.call.output]
        if node.reach.kind == rules.WINDOW:
            up, down = node.reach.up, node.reach.down
            g_in = down * (g_out // math.gcd(g_out, up))
        else:
            g_in = g_out
        for _, key in node.call.inputs:
            grains[key] = math.lcm(grains[key], g_in)
    return grains


def _rates_and_lags(nodes, source, tensors, grains):
    rates, lags = {source: Fraction(1)}, {source: Fraction(0)}
    for node in nodes:
        keys = [key for _, key in node.call.inputs]
        rate = rates[keys[0]]
        if any(rates[k] != rate for k in keys):
            rules.refuse(node.call.operation, "its inputs run at different sample rates "
                                              f"({', '.join(str(rates[k]) for k in keys)})")
        reach, lag = node.reach, max(lags[k] for k in keys)
        node.rate_in = rate
        if reach.kind == rules.WINDOW:
            g_out = grains[node.call.output]
            multiple = g_out // math.gcd(g_out, reach.up)
            node.left = -(-reach.left // reach.down)
            right = -(-reach.right // reach.down)
            node.right = -(-right // multiple) * multiple
            node.lookahead = node.right * reach.down
            lag += node.lookahead / rate
            rate = rate * reach.up / reach.down
        elif reach.kind == MERGE:
            node.queues = tuple(i for i, k in enumerate(keys) if lags[k] < lag)
            node.queued = {i: math.ceil((lag - lags[keys[i]]) * rates[keys[i]])
                           for i in node.queues}
        node.lag = lag
        rates[node.call.output], lags[node.call.output] = rate, lag
    return rates, lags


def _run_dtypes(calls, source, tensors):
    """The dtype of each tensor when the model runs. A layer's output has its symbolic dtype
    (its compute dtype); a ``keras.ops`` result's symbolic dtype follows JAX's default
    promotion (64-bit to 32-bit: ``x + y`` of float64 tensors is labelled float32) whatever
    the backend computes, so each op runs once on zeros of its inputs' dtypes."""
    def standard(dtype):
        return keras.backend.standardize_dtype(dtype)

    dtypes = {source: standard(tensors[source].dtype)}
    for call in calls:
        if isinstance(call.operation, keras.layers.Layer):
            dtypes[call.output] = standard(tensors[call.output].dtype)
            continue
        zeros = {arg_id: keras.ops.zeros((1, 1, 1), dtypes[key]) for arg_id, key in call.inputs}
        args, kwargs = call.arguments.fill_in(zeros)
        dtypes[call.output] = standard(call.operation(*args, **kwargs).dtype)
    return dtypes


def _state_layout(node, tensors, dtypes, time_axis):
    """The state entries of ``node``: key -> (channels, dtype, kind)."""
    channel = 3 - time_axis
    layout = {}
    if node.reach.kind == rules.WINDOW and node.keep:
        key = node.call.inputs[0][1]
        layout[f"{node.name}/history"] = (tensors[key].shape[channel], dtypes[key], "history")
    elif node.reach.kind == MERGE:
        for i in node.queues:
            key = node.call.inputs[i][1]
            layout[f"{node.name}/queue{i}"] = (tensors[key].shape[channel], dtypes[key],
                                               "queue")
    elif node.reach.kind == RECURRENT:
        layer = node.call.operation
        sizes = layer.state_size if isinstance(layer.state_size, list) else [layer.state_size]
        for i, size in enumerate(sizes):
            layout[f"{node.name}/state{i}"] = (size, layer.compute_dtype, "recurrent")
    for key, (channels, _, _) in layout.items():
        if not isinstance(channels, int):
            rules.refuse(node.call.operation, f"its state {key!r} needs a known channel "
                                              f"dimension, got {channels}")
    return layout


def _offline_lengths(calls, source, tensors, time_axis, length):
    """Each tensor's length when the model runs offline on ``length`` samples, by each
    operation's own shape rule (None downstream of one that has none for it)."""
    lengths = {source: length}
    for call in calls:
        known = [lengths.get(key) for _, key in call.inputs]
        lengths[call.output] = None
        if None in known:
            continue
        specs = {}
        for (arg_id, key), n in zip(call.inputs, known, strict=True):
            shape = [1, *tensors[key].shape[1:]]
            shape[time_axis] = n
            specs[arg_id] = keras.KerasTensor(tuple(shape), dtype=tensors[key].dtype)
        args, kwargs = call.arguments.fill_in(specs)
        try:
            spec = call.operation.compute_output_spec(*args, **kwargs)
        except (ValueError, TypeError, NotImplementedError):
            continue
        lengths[call.output] = getattr(spec, "shape", (None,) * 3)[time_axis]
    return lengths


def _check_same_strides(nodes, source, tensors, time_axis, hop):
    """Refuse a strided ``"same"`` layer whose input, offline, is not a multiple of its
    stride long: Keras pads such an input by ``span - length % strides`` in all, so where its
    output samples fall depends on the signal's length, while a stream's windows are
    multiples of the stride. (Its input length modulo the stride is the same for every
    signal a stream takes: a multiple of the hop long.)"""
    strided = [node for node in nodes if rules.same_padding_stride(node.call.operation) > 1]
    if not strided:
        return
    length = hop * -(-65536 // hop)  # longer than any "valid" layer shortens it
    lengths = _offline_lengths([node.call for node in nodes], source, tensors, time_axis,
                               length)
    for node in strided:
        strides = rules.same_padding_stride(node.call.operation)
        got = lengths[node.call.inputs[0][1]]
        if got is not None and got % strides:
            rules.refuse(node.call.operation, f"its padding is 'same' with strides {strides}, "
                         f"and its input is {got} samples long when the model's is {length} "
                         f"(a multiple of the hop, {hop}): {got % strides} more than a "
                         f"multiple of {strides}, so Keras pads it otherwise than the "
                         "stream's windows (layers before it change the length); use "
                         "padding 'valid' or 'causal', or keep the length a multiple of "
                         f"{strides} before it")


def _check_constants(call, time_axis):
    """Refuse an element-wise op with a constant operand that varies along time (an
    envelope): each chunk would meet all of it."""
    if isinstance(call.operation, keras.layers.Layer):
        return
    for value in keras.tree.flatten((call.arguments.args, call.arguments.kwargs)):
        if isinstance(value, keras.KerasTensor) or not hasattr(value, "shape"):
            continue
        shape = (1, 1, 1, *tuple(value.shape))[-max(3, len(value.shape)):]
        if len(shape) > 3 or shape[time_axis] != 1:
            rules.refuse(call.operation, f"it takes a constant of shape {tuple(value.shape)}, "
                                         f"which varies along time (axis {time_axis}); a "
                                         "stream meets it chunk by chunk. Make it an input of "
                                         "the model, or one value per channel")


def make_plan(model, data_format=None):
    """The :class:`Plan` of ``model`` (``data_format`` of its input; by default that of its
    layers, channels_last when none says)."""
    source, output, calls, tensors = flatten(model)
    time_axis = _time_axis(calls, data_format)
    x = tensors[source]
    if len(x.shape) != 3:
        raise NotStreamableError(f"model {model.name!r} takes input of shape {x.shape}; a "
                                 "stream takes (batch, time, channels) or (batch, channels, "
                                 "time).")
    if x.shape[3 - time_axis] is None:
        layout = "channels_last" if time_axis == 1 else "channels_first"
        raise NotStreamableError(
            f"model {model.name!r} takes input of shape {x.shape}: read as {layout}, its "
            f"channel axis ({3 - time_axis}) has no size. Give it one, or pass "
            "Stream(model, data_format=...) if time is on the other axis.")
    for call in calls:  # first: a mask made by ops (Masking's) is refused at its consumer
        _check_arguments(call)
        _check_constants(call, time_axis)
    nodes = []
    for call in calls:
        tensor_inputs = {key for _, key in call.inputs}
        reach = rules.reach(call.operation, time_axis)
        if reach.kind != MERGE and len(tensor_inputs) != 1:
            rules.refuse(call.operation, f"it takes {len(tensor_inputs)} signals and has no "
                                         "rule to align them")
        nodes.append(Node(call, reach))
    grains = _grains(nodes, source, output, tensors)
    _check_same_strides(nodes, source, tensors, time_axis, grains[source])
    rates, lags = _rates_and_lags(nodes, source, tensors, grains)
    dtypes = _run_dtypes(calls, source, tensors)
    for node in nodes:
        node.state = _state_layout(node, tensors, dtypes, time_axis)
    return Plan(nodes, source, output, tensors, time_axis, grains[source], lags[output],
                rates[output], dtypes)

