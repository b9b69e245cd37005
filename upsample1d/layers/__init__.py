"""Keras layers; all registered for serialization under the ``upsample1d`` package."""

from upsample1d.layers.shuffle import SpaceToDepth1D, Subpixel1D
from upsample1d.layers.upsamplers import (
    UPSAMPLERS,
    InterpolationUpsample1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)

__all__ = [
    "UPSAMPLERS",
    "InterpolationUpsample1D",
    "SpaceToDepth1D",
    "SubpixelConv1D",
    "Subpixel1D",
    "TransposedConvUpsample1D",
    "Upsample1D",
]
