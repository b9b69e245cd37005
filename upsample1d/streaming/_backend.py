"""The streaming package's only backend branch: which compiler compiles a step.

(Kept here, not in ``upsample1d/_backend.py``, while that module is being refactored; it
belongs there.)
"""

from __future__ import annotations

import keras


def compile_step(step, **options):
    """``step`` under ``jax.jit``, ``tf.function(jit_compile=True)`` or ``torch.compile``
    (``dynamic=False``: every chunk length and state shape is its own specialised graph,
    as on the other two). ``options`` go to the compiler."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(step, **options)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(step, **{"jit_compile": True, **options})
    if backend == "torch":
        import torch

        return torch.compile(step, **{"dynamic": False, **options})
    raise NotImplementedError(f"no compiler for the {backend} backend")
