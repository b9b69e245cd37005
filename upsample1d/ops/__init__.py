"""Functional ops, pure ``keras.ops``: one implementation for JAX, TensorFlow and PyTorch."""

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
    "space_to_depth_1d",
]
