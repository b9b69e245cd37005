"""Exact streaming inference: run a model chunk by chunk with the offline model's output.

``Stream(model)`` over a Keras functional model: ``state = stream.initial_state(batch)``,
``y, state = stream.step(x_chunk, state)``, ``y_tail = stream.flush(state)``; ``stream.hop``
(the chunk-length multiple) and ``stream.latency`` (the lookahead in input samples). The rule
of each layer (what it reads along time) is in :mod:`upsample1d.streaming.rules`;
:func:`register` adds one for another layer.
"""

from upsample1d.streaming.rules import NotStreamableError, Reach, reach, register
from upsample1d.streaming.stream import Stream

__all__ = ["NotStreamableError", "Reach", "Stream", "reach", "register"]
