"""Reference architectures built from this package's layers."""

from __future__ import annotations

import keras

from upsample1d.layers import SpaceToDepth1D, Subpixel1D
from upsample1d.ops.shuffle import check_factor


def autoencoder(length=16384, factor=4, channels=1, hidden=32, kernel_size=9, name=None):
    """The seed article's audio auto-encoder, channels_last.

    ``(B, length, channels)`` -> SpaceToDepth1D(factor) -> Conv1D(hidden) -> Conv1D(hidden)
    -> Conv1D(factor * channels) -> Subpixel1D(factor) -> ``(B, length, channels)``.
    The latent code is the middle Conv1D's output, ``(B, length / factor, hidden)``. No bias on
    the last conv, as Pons et al. (2021) advise next to an upsampler.

    Example:
    >>> from upsample1d.models import autoencoder
    >>> autoencoder().output_shape
    (None, 16384, 1)
    """
    factor = check_factor(factor, "factor")
    length = check_factor(length, "length")
    if length % factor:
        raise ValueError(f"`length` ({length}) must be divisible by factor={factor}.")
    inputs = keras.Input((length, channels), name="audio")
    x = SpaceToDepth1D(factor, data_format="channels_last", name="down")(inputs)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            name="encode")(x)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            name="latent")(x)
    x = keras.layers.Conv1D(factor * channels, kernel_size, padding="same", use_bias=False,
                            name="decode")(x)
    outputs = Subpixel1D(factor, data_format="channels_last", name="up")(x)
    return keras.Model(inputs, outputs, name=name or "seed_autoencoder")
