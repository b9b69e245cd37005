"""References for tests and benchmarks: the same operations written natively in each
framework, the way its users write them. Not part of the package.

``upsample1d`` never imports this package, and it is not installed with it: it is the
independent side of the parity tests and the baseline of the benchmarks. (The package's own
per-backend code, the few steps ``keras.ops`` cannot express, is ``upsample1d/_backend.py``.)
Each module (``numpy``, ``tensorflow``, ``torch``, ``jax``) defines the same functions, taking
and returning NumPy arrays so tests and benchmarks can compare them directly.
"""

import importlib

NAMES = ("numpy", "tensorflow", "torch", "jax")


def load(name):
    """Import ``backends.<name>``; raises ImportError if that framework is not installed."""
    if name not in NAMES:
        raise ValueError(f"unknown reference backend {name!r}; choose from {NAMES}")
    return importlib.import_module(f"backends.{name}")
