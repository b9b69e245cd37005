"""Keras layers; all registered for serialization under the ``upsample1d`` package."""

from upsample1d.layers.shuffle import SpaceToDepth1D, Subpixel1D

__all__ = ["SpaceToDepth1D", "Subpixel1D"]
