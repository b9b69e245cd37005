"""A Keras model's graph as a flat list of calls, nested functional models expanded.

Keras 3 has no public graph walker; this reads ``Functional._nodes_by_depth`` and each
node's ``arguments`` (what ``Functional`` itself runs on), in this one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from upsample1d.streaming.rules import NotStreamableError, check_call_options


@dataclass
class Call:
    """One call in the graph: ``operation(*arguments)`` with its input tensors filled in.

    ``inputs`` pairs the ``id`` of each symbolic tensor in the call's ``arguments`` with the
    key of the tensor that holds its value; ``output`` is the key of its output. Keys are
    unique per tensor and per expansion of a nested model (one called twice is expanded
    twice)."""

    name: str
    operation: object
    arguments: object
    inputs: list
    output: tuple


def _functional(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"Stream needs a keras.Model, got {model!r} of type "
                        f"{type(model).__name__}.")
    if hasattr(model, "_nodes_by_depth"):
        return model
    as_functional = getattr(model, "as_functional", None)
    if callable(as_functional):  # a subclassed model that can give its graph (BigVGAN)
        return as_functional()
    try:  # a Sequential (or other graph model) built on an Input: the same layers
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise NotStreamableError(
            f"model {model.name!r} has no graph of layers to stream (a subclassed model, or "
            "a Sequential without an Input); build it with the functional API, or give it an "
            "as_functional() method that returns its graph on the same layers.")
    return keras.Model(inputs, outputs, name=model.name)


def flatten(model):
    """``(input key, output key, calls, tensors)`` of a single-input single-output model:
    ``calls`` in an order where every call's inputs are computed before it, ``tensors`` the
    symbolic tensor (shape, dtype) of each key."""
    model = _functional(model)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise NotStreamableError(
            f"model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
            "outputs; a Stream takes one signal in and gives one out.")
    walk = _Walk()
    source = (0, id(model.inputs[0]))
    walk.tensors[source] = model.inputs[0]
    output = walk.expand(model, {id(model.inputs[0]): source})
    return source, output[0], walk.calls, walk.tensors


class _Walk:
    def __init__(self):
        self.calls, self.tensors, self.names, self.expansions = [], {}, {}, 0

    def expand(self, model, keys):
        """Append ``model``'s calls, its inputs' ids mapped by ``keys`` to tensor keys;
        returns the keys of its outputs."""
        self.expansions += 1
        scope = self.expansions
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if not node.is_input and node.operation is not None:
                    self._node(node, keys, scope)
        return [keys.get(id(t), (scope, id(t))) for t in model.outputs]

    def _node(self, node, keys, scope):
        operation = node.operation
        inputs = [(id(t), keys.get(id(t), (scope, id(t)))) for t in node.input_tensors]
        if len(node.outputs) != 1:
            raise NotStreamableError(
                f"layer {operation.name!r} ({type(operation).__name__}) has "
                f"{len(node.outputs)} outputs; a Stream follows one tensor per call.")
        output = node.outputs[0]
        if isinstance(operation, keras.Model):
            check_call_options(operation, node.arguments)
            inner = _functional(operation)
            if len(inner.inputs) != len(inputs) or len(inner.outputs) != 1:
                raise NotStreamableError(
                    f"nested model {operation.name!r} must take its inputs as they are given "
                    "and return one tensor.")
            mapping = {id(t): key for t, (_, key) in zip(inner.inputs, inputs, strict=True)}
            keys[id(output)] = self.expand(inner, mapping)[0]
            return
        count = self.names.get(operation.name, 0)
        self.names[operation.name] = count + 1
        name = operation.name if not count else f"{operation.name}#{count}"
        key = keys.get(id(output), (scope, id(output)))
        self.tensors[key] = output
        self.calls.append(Call(name, operation, node.arguments, inputs, key))
