"""Which machine, device and versions produced a result: recorded in every JSON and shown as
one line at the head of every table.

Frameworks are imported lazily, so a helper only needs the framework it is asked about.
"""

from __future__ import annotations

import datetime
import os
import platform


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
