"""Keras layers around the 1-D shuffle: :class:`Subpixel1D` and its inverse."""

from __future__ import annotations

import keras

from upsample1d import _validation as check
from upsample1d.layers._base import Layer
from upsample1d.ops.shuffle import depth_to_space, shuffled_shape, space_to_depth


class _Shuffle1D(Layer):
    _inverse = False

    def __init__(self, block_size, data_format=None, mode="DCR", **kwargs):
        super().__init__(**kwargs)
        self.block_size = check.positive_int(block_size, "block_size")
        self.data_format = check.data_format(data_format)
        self.mode = check.mode(mode)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def build(self, input_shape):
        # Static shapes fail here, at model construction, rather than on the first batch.
        shuffled_shape(input_shape, self.block_size, self.data_format, self._inverse)
        self.built = True

    def compute_output_shape(self, input_shape):
        return shuffled_shape(input_shape, self.block_size, self.data_format, self._inverse)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"block_size": self.block_size, "data_format": self.data_format, "mode": self.mode}
        )
        return config


@keras.saving.register_keras_serializable(package="upsample1d")
class Subpixel1D(_Shuffle1D):
    """Subpixel (pixel shuffle) upsampling in 1-D: channels become time steps.

    Drop-in for the seed article's ``tf.batch_to_space`` layer, one reshape instead of two
    transposes and a batch_to_space. Put a convolution to ``r * C`` channels before it
    (or use :class:`upsample1d.layers.SubpixelConv1D`, which does both).

    Index formula (channels_last indexing, ``r = block_size``):
    ``mode="DCR"``: ``out[b, t*r + i, c] = in[b, t, i*C + c]`` (TensorFlow's order, the seed's);
    ``mode="CRD"``: ``out[b, t*r + i, c] = in[b, t, c*r + i]`` (PyTorch's PixelShuffle order).

    Args:
        block_size: the upsampling factor ``r``, a positive int.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` (default) means
            ``keras.config.image_data_format()``.
        mode: ``"DCR"`` (default) or ``"CRD"``; the order does not change with data_format.

    Input shape:
        channels_last ``(B, T, C*r)``; channels_first ``(B, C*r, T)``. ``B`` and ``T`` may be
        ``None``; ``T`` may be 0.

    Output shape:
        channels_last ``(B, T*r, C)``; channels_first ``(B, C, T*r)``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import Subpixel1D
    >>> inputs = keras.Input((None, 64))
    >>> Subpixel1D(4)(inputs).shape
    (None, None, 16)
    """

    def call(self, inputs):
        return depth_to_space(inputs, self.block_size, self.data_format, self.mode)


@keras.saving.register_keras_serializable(package="upsample1d")
class SpaceToDepth1D(_Shuffle1D):
    """Fold time steps into channels: the exact inverse of :class:`Subpixel1D`.

    Index formula (channels_last indexing, ``r = block_size``):
    ``mode="DCR"``: ``out[b, t, i*C + c] = in[b, t*r + i, c]``;
    ``mode="CRD"``: ``out[b, t, c*r + i] = in[b, t*r + i, c]``.

    Args:
        block_size: the downsampling factor ``r``, a positive int.
        data_format: ``"channels_last"`` or ``"channels_first"``; ``None`` (default) means
            ``keras.config.image_data_format()``.
        mode: ``"DCR"`` (default) or ``"CRD"``.

    Input shape:
        channels_last ``(B, T*r, C)``; channels_first ``(B, C, T*r)``. The time axis must be
        divisible by ``block_size`` (checked at build time when static); nothing is padded or
        cropped.

    Output shape:
        channels_last ``(B, T, C*r)``; channels_first ``(B, C*r, T)``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import SpaceToDepth1D
    >>> SpaceToDepth1D(4)(keras.Input((16384, 1))).shape
    (None, 4096, 4)
    """

    _inverse = True

    def call(self, inputs):
        return space_to_depth(inputs, self.block_size, self.data_format, self.mode)
