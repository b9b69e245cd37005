"""The streaming package's only backend branches: which compiler compiles a step (and, for
torch, how), and no gradient tape for inference (torch records one by default).

(Kept here, not in ``upsample1d/_backend.py``, while that module is being refactored; it
belongs there.)
"""

from __future__ import annotations

import contextlib
import types

import keras


def inference():
    """A context without gradient recording: ``torch.no_grad()`` on torch (which records
    by default, keeping every chunk's graph alive); JAX and TensorFlow record only inside
    ``jax.grad`` / a ``GradientTape``."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


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

        return torch.compile(_own_code(step), **{"dynamic": False, **options})
    raise NotImplementedError(f"no compiler for the {backend} backend")


def _own_code(step):
    """``step`` (a function or bound method) with a code object of its own: torch.compile
    keeps its graphs, and its limit of 8 recompilations, per code object, which the ``step``
    of every Stream in a process would otherwise share."""
    function = getattr(step, "__func__", step)
    copy = types.FunctionType(function.__code__.replace(), function.__globals__,
                              function.__name__, function.__defaults__, function.__closure__)
    return types.MethodType(copy, step.__self__) if hasattr(step, "__func__") else copy
