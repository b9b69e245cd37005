"""Shared helpers for the benchmarks: timing with proper synchronisation, machine and version
information, and writing results as JSON and as a markdown table.

Everything here follows the active Keras backend (``KERAS_BACKEND``); frameworks are imported
lazily so a helper only needs the framework it is asked about.
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def add_repo_root_to_path():
    """Make ``import backends`` and ``import upsample1d`` work when run as a script."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def backend_name():
    import keras

    return keras.backend.backend()


def sync(y, backend=None):
    """Block until ``y`` (a tensor, or a tuple/list/dict of tensors) has been computed.

    - jax: ``jax.block_until_ready``;
    - torch: ``torch.cuda.synchronize`` when the tensor lives on a CUDA device (CPU ops are
      synchronous), ``torch.mps.synchronize`` on MPS;
    - tensorflow: read one element of the result (a tiny slice fetched to the host waits for
      the producer without copying the whole tensor; CPU eager ops are synchronous anyway).
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
            if hasattr(leaf, "shape") and leaf.shape.num_elements():
                leaf[(0,) * leaf.shape.rank].numpy()  # one element, not the tensor
        return
    # numpy or anything else: already computed.


def _leaves(y):
    if isinstance(y, dict):
        return [leaf for v in y.values() for leaf in _leaves(v)]
    if isinstance(y, (list, tuple)):
        return [leaf for v in y for leaf in _leaves(v)]
    return [y]


def time_fn(fn, *args, repeats=20, warmup=3, backend=None):
    """Time ``fn(*args)``: ``warmup`` untimed calls (the first one compiles, if it does),
    then ``repeats`` timed calls, each synchronised before the clock stops.

    Returns a dict with ``median_ms``, ``min_ms``, ``max_ms``, ``first_ms`` (the first
    warm-up call, compilation included) and ``times_ms``.
    """
    backend = backend or backend_name()
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    gc.collect()
    first_ms = None
    for i in range(max(warmup, 1)):
        start = time.perf_counter()
        y = fn(*args)
        sync(y, backend)
        if i == 0:
            first_ms = (time.perf_counter() - start) * 1e3
        del y
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            y = fn(*args)
            sync(y, backend)
            times.append((time.perf_counter() - start) * 1e3)
            del y
    finally:
        if gc_was_enabled:
            gc.enable()
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "first_ms": first_ms,
        "repeats": repeats,
        "warmup": max(warmup, 1),
        "times_ms": times,
    }


def _framework_version(backend):
    try:
        if backend == "jax":
            import jax
            import jaxlib

            return {"jax": jax.__version__, "jaxlib": jaxlib.__version__}
        if backend == "tensorflow":
            import tensorflow as tf

            return {"tensorflow": tf.__version__}
        if backend == "torch":
            import torch

            return {"torch": torch.__version__}
    except ImportError:
        pass
    return {}


def device_of(tensor, backend=None):
    """A short description of where ``tensor`` lives."""
    backend = backend or backend_name()
    if backend == "jax":
        devices = list(tensor.devices()) if hasattr(tensor, "devices") else []
        if devices:
            d = devices[0]
            return f"{d.platform}:{d.id} ({d.device_kind})"
    if backend == "torch":
        import torch

        dev = tensor.device
        if dev.type == "cuda":
            return f"{dev} ({torch.cuda.get_device_name(dev)})"
        return str(dev)
    if backend == "tensorflow":
        return getattr(tensor, "device", "") or "unknown"
    return "cpu"


def machine_info(sample=None):
    """Platform, CPU count, Python, backend, Keras + framework versions, device, date."""
    import keras
    import numpy as np

    backend = backend_name()
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cpus = os.cpu_count()
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus,
        "python": platform.python_version(),
        "backend": backend,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
    info.update(_framework_version(backend))
    if backend == "torch":
        import torch

        info["torch_threads"] = torch.get_num_threads()
    if sample is not None:
        info["device"] = device_of(sample, backend)
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def info_line(info):
    """One line describing the machine and versions, for the head of a table."""
    versions = ", ".join(
        f"{k} {info[k]}" for k in ("keras", "jax", "jaxlib", "tensorflow", "torch") if k in info
    )
    cpus = f"{info['cpu_count']} CPUs"
    if info.get("usable_cpus") not in (None, info["cpu_count"]):
        cpus += f" ({info['usable_cpus']} usable)"
    parts = [
        f"backend {info['backend']}",
        f"device {info.get('device', '?')}",
        f"{info['processor']}, {cpus}",
        info["platform"],
        f"Python {info['python']}",
        versions,
        info["date"],
    ]
    return "; ".join(p for p in parts if p)


def markdown_table(headers, rows, align=None):
    """A GitHub markdown table; ``align`` is a string of 'l'/'r' per column (default: l)."""
    align = align or "l" * len(headers)
    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = [
        "| " + " | ".join(str(h) for h in headers) + " |",
        "| " + " | ".join(marks[a] for a in align) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)


def write_results(out_dir, stem, payload, markdown):
    """Write ``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.md``; return both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    md_path.write_text(markdown.rstrip("\n") + "\n")
    return json_path, md_path


def fmt_ms(value):
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def fmt_ratio(value):
    if value is None:
        return ""
    if value >= 100:
        return f"{value:.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    if value >= 0.01:
        return f"{value:.2f}x"
    return f"{value:.1e}x"


# --- helpers shared by bench_ops, bench_transposed, bench_train_step (added with them) ---


def compile_fn(fn, backend=None):
    """``fn`` as Keras' own training loop runs it on this backend: ``jax.jit``,
    ``tf.function`` (graph, no XLA), PyTorch eager (returned unchanged)."""
    backend = backend or backend_name()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=False)
    return fn


COMPILE_MODES = {"jax": "jax.jit", "tensorflow": "tf.function", "torch": "eager"}


def layer_forward(layer, backend=None):
    """``f(x) -> layer(x)`` compiled as in :func:`compile_fn` (no gradient tape; torch under
    ``no_grad``). The layer must be built."""
    backend = backend or backend_name()
    if backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        others = [v.value for v in layer.non_trainable_variables]
        run = jax.jit(lambda tv, x: layer.stateless_call(tv, others, x)[0])
        return lambda x: run(trainable, x)
    if backend == "torch":
        import torch

        def forward(x):
            with torch.no_grad():
                return layer(x)

        return forward
    return compile_fn(lambda x: layer(x), backend)


def layer_forward_backward(layer, backend=None):
    """``f(x) -> gradients`` of ``sum(layer(x) ** 2)`` with respect to the input and every
    trainable weight (a forward and a full backward pass), compiled as in :func:`compile_fn`.
    """
    backend = backend or backend_name()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in layer.trainable_variables]
        others = [v.value for v in layer.non_trainable_variables]

        def loss(tv, x):
            return jnp.sum(layer.stateless_call(tv, others, x)[0] ** 2)

        run = jax.jit(jax.grad(loss, argnums=(0, 1)))
        return lambda x: run(trainable, x)
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=False)
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, [x, *layer.trainable_variables])

        return step
    import torch

    weights = [v.value for v in layer.trainable_variables]

    def step(x):
        x = x.detach().requires_grad_(True)
        y = layer(x)
        return torch.autograd.grad((y * y).sum(), [x, *weights])

    return step


def gbps(nbytes, ms):
    """Bytes moved per second, in GB/s (1e9), for ``nbytes`` in ``ms`` milliseconds."""
    if not ms:
        return None
    return nbytes / (ms * 1e-3) / 1e9


def progress(message):
    """One progress line on stderr, with the wall-clock time."""
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def time_budget(fn, *args, budget_s=2.0, lo=3, hi=30, warmup=1, backend=None):
    """Like :func:`time_fn`, but the number of timed calls follows a time budget: after
    ``warmup`` untimed calls (the first compiles), time calls until ``hi`` of them, or until
    ``budget_s`` has passed and at least ``lo`` were timed. A call slower than ``budget_s``
    on its own is timed only once (a 50x slower case needs no precision), so no case costs
    much more than ``warmup + 1`` calls beyond the budget.
    """
    backend = backend or backend_name()
    gc.collect()
    first_ms = None
    for i in range(max(warmup, 1)):
        start = time.perf_counter()
        sync(fn(*args), backend)
        if i == 0:
            first_ms = (time.perf_counter() - start) * 1e3
    times = []
    began = time.perf_counter()
    while len(times) < hi:
        start = time.perf_counter()
        sync(fn(*args), backend)
        times.append((time.perf_counter() - start) * 1e3)
        spent = time.perf_counter() - began
        need = 1 if times[0] > budget_s * 1e3 else lo
        if spent >= budget_s and len(times) >= need:
            break
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "max_ms": max(times),
        "first_ms": first_ms,
        "repeats": len(times),
        "warmup": max(warmup, 1),
        "times_ms": times,
    }
