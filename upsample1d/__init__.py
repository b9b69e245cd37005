"""upsample1d: exact, fast 1-D upsampling and downsampling for neural audio, on Keras 3.

The same code runs on JAX, TensorFlow and PyTorch; pick the backend with ``KERAS_BACKEND``
before the first import of Keras.

``import upsample1d`` alone imports no framework (so the ``upsample1d`` command answers at
once); the submodules (``ops``, ``layers``, ``initializers``, ``kernels``, ``convert``,
``models``, ``artifacts``, ``audio``, ``compare``, ``aliasing``, ``bigvgan``, ``mel``,
``vocoder``) are imported on first use,
e.g. ``upsample1d.layers`` or ``from upsample1d.layers import Subpixel1D``. Importing
``upsample1d.layers`` (also done by ``upsample1d.models`` and ``upsample1d.convert``)
registers every layer and initializer with Keras' serialization: do it before
``keras.saving.load_model`` on a model that uses them. ``import upsample1d`` alone registers
nothing.
"""

import importlib

__version__ = "0.2.0.dev0"

_SUBMODULES = ("aliasing", "artifacts", "audio", "bigvgan", "compare", "convert",
               "initializers", "kernels", "layers", "mel", "models", "ops", "vocoder")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"upsample1d.{name}")
    raise AttributeError(f"module 'upsample1d' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
