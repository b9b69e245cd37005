"""upsample1d: exact, fast 1-D upsampling and downsampling for neural audio, on Keras 3.

The same code runs on JAX, TensorFlow and PyTorch; pick the backend with ``KERAS_BACKEND``
before the first import of Keras. Importing this package registers every layer and
initializer with Keras' serialization, so ``keras.saving.load_model`` finds them.
"""

from upsample1d import convert, initializers, layers, ops

__version__ = "0.1.0"

__all__ = ["__version__", "convert", "initializers", "layers", "ops"]
