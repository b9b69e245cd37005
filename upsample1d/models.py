"""Reference architectures built from this package's layers."""

from __future__ import annotations

import keras

from upsample1d.layers import SpaceToDepth1D, Upsample1D
from upsample1d.ops.shuffle import check_factor


def autoencoder(upsampler="subpixel", length=16384, factor=4, channels=1, hidden=32,
                kernel_size=9, upsampler_options=None, name=None):
    """The seed article's audio auto-encoder, channels_last, with a choice of upsampler.

    ``(B, length, channels)`` -> SpaceToDepth1D(factor) -> Conv1D(hidden, tanh) ->
    Conv1D(hidden, tanh) (the latent code, ``(B, length / factor, hidden)``) ->
    ``Upsample1D(channels, factor, method=upsampler, **upsampler_options)`` ->
    ``(B, length, channels)``. With ``upsampler="subpixel"`` this is the seed's Conv1D to
    ``factor * channels`` followed by Subpixel1D. ``length`` may be ``None`` (any multiple of
    ``factor``).

    Example:
    >>> from upsample1d.models import autoencoder
    >>> autoencoder().output_shape
    (None, 16384, 1)
    """
    factor = check_factor(factor, "factor")
    if length is not None:
        length = check_factor(length, "length")
        if length % factor:
            raise ValueError(f"`length` ({length}) must be divisible by factor={factor}.")
    # The transposed layer's kernel follows its `overlap` unless the options name one.
    options = {} if upsampler == "transposed" else {"kernel_size": kernel_size}
    options.update(upsampler_options or {})
    inputs = keras.Input((length, channels), name="audio")
    x = SpaceToDepth1D(factor, data_format="channels_last", name="down")(inputs)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            name="encode")(x)
    x = keras.layers.Conv1D(hidden, kernel_size, padding="same", activation="tanh",
                            name="latent")(x)
    outputs = Upsample1D(channels, factor, method=upsampler, data_format="channels_last",
                         name="up", **options)(x)
    return keras.Model(inputs, outputs, name=name or f"autoencoder_{upsampler}")
