"""Initializers for subpixel convolutions."""

from __future__ import annotations

import keras
from keras import ops

from upsample1d import _validation as check


@keras.saving.register_keras_serializable(package="upsample1d")
class ICNR(keras.initializers.Initializer):
    """Checkerboard-free init for a subpixel conv (Aitken et al. 2017, "ICNR").

    Draws a kernel for ``C`` outputs with ``initializer`` and copies it to all ``factor``
    phases of a ``(..., factor * C)`` kernel, in the layout :func:`depth_to_space_1d` expects:
    ``mode="DCR"`` puts phase ``i`` of channel ``c`` at ``i*C + c`` (tile), ``mode="CRD"`` at
    ``c*factor + i`` (repeat). At initialisation the subpixel conv then equals nearest-neighbour
    upsampling after a conv: every phase has the same filter, so there are no tones. The
    result is a fresh, contiguous tensor on every backend (a broadcast view cannot back a
    trainable variable on torch).

    Example:
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.initializers import ICNR
    >>> w = convert_to_numpy(ICNR(2, seed=0)((3, 4, 6)))      # 2 phases of 3 channels
    >>> bool((w[..., :3] == w[..., 3:]).all())
    True
    """

    def __init__(self, factor, initializer="glorot_uniform", mode="DCR", seed=None):
        self.factor = check.positive_int(factor, "factor")
        self.mode = check.mode(mode)
        self.initializer = keras.initializers.get(initializer)
        if seed is not None and hasattr(self.initializer, "seed"):
            self.initializer = self.initializer.__class__.from_config(
                {**self.initializer.get_config(), "seed": seed})
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if not shape or shape[-1] % self.factor:
            raise ValueError(
                f"ICNR(factor={self.factor}) needs a shape whose last dimension is a multiple "
                f"of factor, got shape={shape}.")
        base = self.initializer(shape[:-1] + (shape[-1] // self.factor,), dtype=dtype)
        # DCR is phase-major (i*C + c), CRD channel-major (c*factor + i). ops.stack copies,
        # so the result owns its memory (ops.repeat/tile may return a broadcast view).
        stacked = ops.stack([base] * self.factor, axis=-2 if self.mode == "DCR" else -1)
        return ops.reshape(stacked, shape)

    def get_config(self):
        return {
            "factor": self.factor,
            "initializer": keras.initializers.serialize(self.initializer),
            "mode": self.mode,
            "seed": self.seed,
        }
