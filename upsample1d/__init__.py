"""upsample1d: exact, fast 1-D upsampling and downsampling for neural audio, on Keras 3.

The same code runs on JAX, TensorFlow and PyTorch; pick the backend with ``KERAS_BACKEND``
before the first import of Keras.

``import upsample1d`` registers every layer, initializer and model part of the package with
Keras' serialization, so ``keras.saving.load_model`` finds them: at once if Keras is already
imported, else as soon as Keras is (the layers are Keras classes: defining them imports
Keras and its backend, which takes seconds). Until then ``import upsample1d`` imports no
framework, so the ``upsample1d`` command answers ``--help`` at once. The submodules
(``ops``, ``layers``, ``filters``, ``initializers``, ``kernels``, ``convert``, ``models``,
``artifacts``, ``audio``, ``compare``, ``aliasing``, ``bigvgan``, ``mel``, ``vocoder``) are
imported on first use, e.g. ``upsample1d.layers`` or ``from upsample1d.layers import
Subpixel1D``.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__version__ = "0.2.0.dev0"

_SUBMODULES = ("aliasing", "artifacts", "audio", "bigvgan", "compare", "convert", "filters",
               "initializers", "kernels", "layers", "mel", "models", "ops", "vocoder")
# The modules whose import registers classes with Keras' serialization (models imports
# bigvgan, which imports mel: BigVGAN, AMPBlock1D, DilatedConv1D, MelSpectrogram).
_REGISTERING = ("upsample1d.layers", "upsample1d.models")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"upsample1d.{name}")
    raise AttributeError(f"module 'upsample1d' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


def _register():
    """Import the modules that register the package's Keras classes."""
    for name in _REGISTERING:
        importlib.import_module(name)


def _register_after(loader):
    """Wrap ``loader.exec_module`` (Keras' own loader) so that the registration follows the
    execution of ``keras/__init__.py``."""
    execute = loader.exec_module

    def exec_module(module):
        execute(module)
        try:
            _register()
        except Exception as error:  # noqa: BLE001 - Keras itself must still import
            warnings.warn(f"upsample1d could not register its layers with Keras ({error!r}); "
                          "import upsample1d.layers to see why.", RuntimeWarning, stacklevel=2)

    loader.exec_module = exec_module


class _RegisterWhenKerasImports(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ``keras`` is first imported it asks the other finders for
    Keras' spec, registers the package's classes right after Keras runs, and retires."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None and hasattr(spec.loader,
                                                                    "exec_module"):
            _register_after(spec.loader)
        return spec


if "keras" in sys.modules:
    _register()
elif not any(isinstance(finder, _RegisterWhenKerasImports) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWhenKerasImports())
