"""The streaming package's only backend branches: which compiler compiles a step (and, for
torch, how), and no gradient tape for inference (torch records one by default).

(Kept here, not in ``upsample1d/_backend.py``, while that module is being refactored; it
belongs there.)
"""

from __future__ import annotations

import contextlib
import functools
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

        compiled = torch.compile(_own_code(step), **{"dynamic": False, **options})
        return functools.partial(_run_without_guards, compiled, set())
    raise NotImplementedError(f"no compiler for the {backend} backend")


def _run_without_guards(compiled, shapes_seen, *args):
    """``compiled(*args)``; once compiled for these input shapes, checking only the guards
    that tell its graphs apart (the shapes). The others would recompile every call: Keras'
    ``ops.pad`` (which padded layers call on every step) makes a named ``Operation`` each
    time, and dynamo guards on Keras' global name counter. Sound here: the stream compiles
    only steady state shapes, and weights are read when a step is traced (documented)."""
    import torch

    key = (torch.is_grad_enabled(),  # a global state dynamo guards on, as the shapes
           *(tuple(x.shape) for x in keras.tree.flatten(args) if hasattr(x, "shape")))
    if key in shapes_seen:
        try:
            with torch.compiler.set_stance("default", skip_guard_eval_unsafe=True):
                return compiled(*args)
        except RuntimeError as error:  # another global state changed: compile for it
            if "Recompilation triggered" not in str(error):
                raise
    shapes_seen.add(key)
    return compiled(*args)  # compiles (a compilation may not run under the stance)


def _own_code(step):
    """``step`` (a function or bound method) with a code object of its own: torch.compile
    keeps its graphs, and its limit of 8 recompilations, per code object, which the ``step``
    of every Stream in a process would otherwise share."""
    function = getattr(step, "__func__", step)
    copy = types.FunctionType(function.__code__.replace(), function.__globals__,
                              function.__name__, function.__defaults__, function.__closure__)
    return types.MethodType(copy, step.__self__) if hasattr(step, "__func__") else copy
