"""Which machine, device and versions produced a result: recorded in every JSON and shown as
one line at the head of every table.

Frameworks are imported lazily, so a helper only needs the framework it is asked about.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys


def backend_name():
    """The active Keras backend (fixed by ``KERAS_BACKEND`` when keras is first imported)."""
    import keras

    return keras.backend.backend()


def framework_versions(backend):
    """{package: version} of the framework behind ``backend`` ({} if it is not importable)."""
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
    """A short description of where ``tensor`` lives, e.g. ``cuda:0 (NVIDIA H100)``."""
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


THREADS_SET = "UPSAMPLE1D_BENCH_THREADS"  # marks a process in_steady_process started


def in_steady_process(threads, module, argv):
    """Run ``python -m module argv`` in a new process on the first ``threads`` usable CPUs,
    with JAX's, TensorFlow's and OpenMP's thread pools sized to them and glibc's malloc
    keeping the memory it frees; print its stdout and return its exit status. Returns None
    at once in the process so started.

    The pools are sized when a framework's runtime starts, which may be at import, so the
    settings must be in place when a process starts. One thread is how a real-time stream
    runs (one chunk at a time): on two cores, TensorFlow's default pools made a 4096-sample
    step 1.5x slower than one thread did, and JAX's gave the offline call the second core
    while a chunk-sized step gained little from it.

    By default glibc maps each large block (a 65536-sample activation) afresh and returns
    it on free, and raises that threshold only as blocks are freed, so the same offline
    call was fast or slow by the history of the process: the compiled torch auto-encoder on
    65536 samples took 9.9 ms (page faults) or 5.0 ms with the thresholds fixed high, and
    the tables' offline column moved 2x between runs. ``MALLOC_MMAP_THRESHOLD_`` and
    ``MALLOC_TRIM_THRESHOLD_`` at 1 GiB keep every call on reused memory, as a long-running
    server's would be."""
    if os.environ.get(THREADS_SET) == str(threads):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if not 1 <= threads <= len(cpus):
        raise SystemExit(f"--threads {threads}: this process may use {len(cpus)} CPUs")
    env = dict(os.environ, **{THREADS_SET: str(threads), "OMP_NUM_THREADS": str(threads),
                              "TF_NUM_INTRAOP_THREADS": str(threads),
                              "TF_NUM_INTEROP_THREADS": str(threads),
                              "MALLOC_MMAP_THRESHOLD_": str(2**30),
                              "MALLOC_TRIM_THRESHOLD_": str(2**30)})
    if threads == 1:  # XLA's CPU pool follows the affinity; its Eigen ops need telling
        env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false"
    os.sched_setaffinity(0, cpus[:threads])  # this thread's, which the child inherits
    try:
        done = subprocess.run([sys.executable, "-m", module, *argv], env=env,
                              stdout=subprocess.PIPE, text=True, check=False)
    finally:
        os.sched_setaffinity(0, cpus)
    print(done.stdout, end="")
    return done.returncode


def cpu_model():
    """The CPU's model name from /proc/cpuinfo ("" where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine_info(sample=None):
    """Platform, CPU count, Python, backend, Keras + framework versions, date, and the device
    of ``sample`` (a tensor) when given."""
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
        "processor": cpu_model() or platform.processor(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus,
        "python": platform.python_version(),
        "backend": backend,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
    info.update(framework_versions(backend))
    if backend == "torch":
        import torch

        info["torch_threads"] = torch.get_num_threads()
    if sample is not None:
        info["device"] = device_of(sample, backend)
    return info


def info_line(info):
    """One line describing the machine and versions of :func:`machine_info`, for the head of
    a table."""
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
