"""Keras layers; all registered for serialization under the ``upsample1d`` package.

Naming rule: the shuffle layers take ``block_size`` (as Keras' ``depth_to_space``); every
layer that resamples with weights takes ``factor``.
"""

from upsample1d.layers.downsamplers import (
    DOWNSAMPLERS,
    Downsample1D,
    FilteredDownsample1D,
    SpaceToDepthConv1D,
    StridedConv1D,
)
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
    "DOWNSAMPLERS",
    "Downsample1D",
    "FilteredDownsample1D",
    "SpaceToDepthConv1D",
    "StridedConv1D",
]

from upsample1d.layers.activations import AliasFreeActivation1D, Snake1D  # noqa: E402
from upsample1d.layers.resample import Resample1D  # noqa: E402

__all__ += ["AliasFreeActivation1D", "Resample1D", "Snake1D"]
