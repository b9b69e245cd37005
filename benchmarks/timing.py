"""Timing with proper synchronisation, on the active Keras backend.

- :func:`sync` waits until a result has really been computed (asynchronous dispatch on JAX
  and on GPUs would otherwise stop the clock early);
- :func:`time_calls` times whole calls, each synchronised: a fixed number, or as many as fit
  in a time budget;
- :func:`time_per_call` measures the eager per-call cost of small functions (Python and
  dispatch overhead), several functions interleaved so that they share the machine's load.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time

from benchmarks.machine import backend_name


def sync(y, backend=None):
    """Block until ``y`` (a tensor, or a tuple/list/dict of tensors) has been computed.

    - jax: ``jax.block_until_ready``;
    - torch: ``torch.cuda.synchronize`` when the tensor lives on a CUDA device (CPU ops are
      synchronous), ``torch.mps.synchronize`` on MPS;
    - tensorflow: for a tensor on an accelerator, read one element of it (a tiny slice
      fetched to the host waits for the producer without copying the whole tensor); CPU
      eager ops and functions are synchronous, and the slice, two eager ops, cost 0.1 ms
      or more a call (a large part of a 64-sample streaming step), so none is made there.
    """
    backend = backend or backend_name()
    if backend == "jax":
        import jax

        jax.block_until_ready(y)
        return
    leaves = _leaves(y)
    if backend == "torch":
        import torch

        for leaf in leaves:
            if isinstance(leaf, torch.Tensor):
                if leaf.device.type == "cuda":
                    torch.cuda.synchronize(leaf.device)
                elif leaf.device.type == "mps":
                    torch.mps.synchronize()
        return
    if backend == "tensorflow":
        for leaf in leaves:
            if (hasattr(leaf, "shape") and leaf.shape.num_elements()
                    and "CPU" not in getattr(leaf, "device", "CPU")):
                leaf[(0,) * leaf.shape.rank].numpy()  # one element, not the tensor
        return
    # numpy or anything else: already computed.


def _leaves(y):
    if isinstance(y, dict):
        return [leaf for v in y.values() for leaf in _leaves(v)]
    if isinstance(y, (list, tuple)):
        return [leaf for v in y for leaf in _leaves(v)]
    return [y]


@contextlib.contextmanager
def _no_gc():
    """Collect once, then keep the cyclic garbage collector out of the timed calls."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_calls(fn, *args, repeats=None, budget_s=2.0, min_calls=3, max_calls=30, warmup=1,
               backend=None):
    """Time ``fn(*args)``, each call synchronised (:func:`sync`) before the clock stops.

    First ``warmup`` untimed calls (at least one: the first compiles, if ``fn`` does, and is
    reported as ``first_ms``). Then either exactly ``repeats`` timed calls, or, with
    ``repeats=None``, calls until ``max_calls`` were timed or until ``budget_s`` has passed
    with at least ``min_calls`` timed; a call slower than ``budget_s`` on its own is timed
    once (a 50x slower case needs no precision), so no case costs much more than
    ``warmup + 1`` calls beyond the budget.

    Returns a dict: ``median_ms``, ``min_ms``, ``max_ms``, ``first_ms``, ``repeats`` (timed
    calls), ``warmup`` and ``times_ms``.
    """
    backend = backend or backend_name()
    if repeats is not None and repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    warmup = max(warmup, 1)
    times, first_ms = [], None
    with _no_gc():
        for i in range(warmup):
            start = time.perf_counter()
            sync(fn(*args), backend)
            if i == 0:
                first_ms = (time.perf_counter() - start) * 1e3
        began = time.perf_counter()
        while True:
            start = time.perf_counter()
            sync(fn(*args), backend)
            times.append((time.perf_counter() - start) * 1e3)
            if repeats is not None:
                if len(times) >= repeats:
                    break
                continue
            need = 1 if times[0] > budget_s * 1e3 else min_calls
            spent = time.perf_counter() - began
            if len(times) >= max_calls or (spent >= budget_s and len(times) >= need):
                break
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "first_ms": first_ms,
        "repeats": len(times),
        "warmup": warmup,
        "times_ms": times,
    }


def time_per_call(fns, *args, calls=2000, block=10, warmup=100, backend=None):
    """Eager per-call time, in microseconds, of each function of ``fns`` ({name: fn}).

    Each function is called ``warmup`` times untimed, then ``calls`` times in blocks of
    ``block`` back-to-back calls on ``args``; a block ends with a :func:`sync` of its last
    result (results are not synchronised one by one: on CPU torch and TensorFlow eager ops
    are synchronous anyway, on JAX and on GPUs a per-call sync would add its own latency to
    every call). Blocks of the functions are interleaved, round-robin in an order rotated
    each round, so that load from other jobs on the machine hits every function alike.

    Returns ``{name: {"median_us", "min_us", "calls", "block"}}``, the median and minimum
    over blocks of (block time / ``block``).
    """
    backend = backend or backend_name()
    block = max(1, min(block, calls))
    rounds = max(1, calls // block)
    names = list(fns)
    per_call = {name: [] for name in names}
    with _no_gc():
        for name in names:
            for _ in range(max(warmup, 1)):
                y = fns[name](*args)
            sync(y, backend)
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                fn = fns[name]
                start = time.perf_counter()
                for _ in range(block):
                    y = fn(*args)
                sync(y, backend)
                per_call[name].append((time.perf_counter() - start) / block * 1e6)
                del y
    return {name: {"median_us": statistics.median(t), "min_us": min(t),
                   "calls": len(t) * block, "block": block}
            for name, t in per_call.items()}
