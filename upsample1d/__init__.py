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

import contextlib
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


class _Registrar(importlib.abc.MetaPathFinder):
    """Registers the package's Keras classes once Keras is imported and no import of this
    package is under way (the classes need Keras, and a module of this package may be what
    imports Keras: registering then would import a half-executed module).

    It finds nothing itself: for ``keras`` and this package's submodules it asks the other
    finders for the spec and wraps the loader's ``exec_module`` to count the imports under
    way; when the last one ends with Keras imported, it registers and retires."""

    def __init__(self):
        self.running = 0
        self.keras_done = False

    def find_spec(self, name, path=None, target=None):
        if name != "keras" and not name.startswith("upsample1d."):
            return None
        for finder in list(sys.meta_path):  # the others, in order (the list is not changed)
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    self._wrap(spec.loader, name == "keras")
                return spec
        return None

    def _wrap(self, loader, is_keras):
        execute = loader.exec_module

        def exec_module(module):
            self.running += 1
            try:
                execute(module)
            finally:
                self.running -= 1
            self.keras_done = self.keras_done or is_keras
            if self.keras_done and not self.running:
                self._finish()

        loader.exec_module = exec_module

    def _finish(self):
        with contextlib.suppress(ValueError):  # another thread may have removed it
            sys.meta_path.remove(self)
        try:
            _register()
        except Exception as error:  # noqa: BLE001 - the import that got here must still work
            warnings.warn(f"upsample1d could not register its layers with Keras ({error!r}); "
                          "import upsample1d.layers to see why.", RuntimeWarning, stacklevel=3)


if "keras" in sys.modules:
    _register()
elif not any(isinstance(finder, _Registrar) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Registrar())
