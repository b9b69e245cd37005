"""Exact weight conversion between transposed and subpixel convolutions (Shi et al. 2016).

Thin aliases: the conversions live on the layers
(:meth:`~upsample1d.layers.SubpixelConv1D.from_transposed`,
:meth:`~upsample1d.layers.TransposedConvUpsample1D.from_subpixel`) and the kernel arithmetic
in :mod:`upsample1d.kernels`; both are re-exported here under their 0.1 names.
"""

from __future__ import annotations

from upsample1d.kernels import (
    subpixel_kernel_size,
    subpixel_to_transposed_kernel,
    transposed_to_subpixel_kernel,
)
from upsample1d.layers.upsamplers import SubpixelConv1D, TransposedConvUpsample1D

__all__ = [
    "subpixel_kernel_size",
    "subpixel_to_transposed_kernel",
    "to_subpixel",
    "to_transposed",
    "transposed_to_subpixel_kernel",
]


def to_subpixel(layer):
    """:meth:`SubpixelConv1D.from_transposed(layer) <SubpixelConv1D.from_transposed>`."""
    return SubpixelConv1D.from_transposed(layer)


def to_transposed(layer, implementation="polyphase"):
    """:meth:`TransposedConvUpsample1D.from_subpixel(layer, implementation)
    <TransposedConvUpsample1D.from_subpixel>`."""
    return TransposedConvUpsample1D.from_subpixel(layer, implementation)
