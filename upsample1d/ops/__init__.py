"""Functional ops, pure ``keras.ops``: one implementation for JAX, TensorFlow and PyTorch."""

from upsample1d.ops.interpolate import (
    Upsample1DOp,
    linear_bank,
    polyphase_upsample_1d,
    sinc_bank,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)
from upsample1d.ops.shuffle import (
    DepthToSpace1D,
    SpaceToDepth1D,
    depth_to_space_1d,
    space_to_depth_1d,
)

__all__ = [
    "DepthToSpace1D",
    "SpaceToDepth1D",
    "depth_to_space_1d",
    "Upsample1DOp",
    "linear_bank",
    "polyphase_upsample_1d",
    "sinc_bank",
    "space_to_depth_1d",
    "upsample_linear_1d",
    "upsample_nearest_1d",
    "upsample_sinc_1d",
]
