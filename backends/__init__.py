"""Native per-framework references, written the way each framework's users write them.

Each module (``numpy``, ``tensorflow``, ``torch``, ``jax``) defines the same functions, taking
and returning NumPy arrays so tests and benchmarks can compare them directly. ``upsample1d``
never imports this package.
"""

import importlib

NAMES = ("numpy", "tensorflow", "torch", "jax")


def load(name):
    """Import ``backends.<name>``; raises ImportError if that framework is not installed."""
    if name not in NAMES:
        raise ValueError(f"unknown reference backend {name!r}; choose from {NAMES}")
    return importlib.import_module(f"backends.{name}")
