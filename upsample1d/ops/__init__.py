"""Functional ops, written once with ``keras.ops`` for JAX, TensorFlow and PyTorch (the few
steps that cannot be are in ``upsample1d/_backend.py``, each with its reason).

The fixed resamplers (``interpolate``, ``downsample``, ``alias_free``) are fronts of the
polyphase engine (``_polyphase``): they validate, design the filter (``upsample1d.filters``)
and call it. The shuffles are in ``shuffle``.

Naming rule: the shuffles take ``block_size`` (as Keras' ``depth_to_space``); every op that
resamples takes ``factor``.
"""

import warnings

from upsample1d.ops.downsample import (
    decimate_1d,
    downsample_average_1d,
    downsample_sinc_1d,
    polyphase_downsample_1d,
)
from upsample1d.ops.interpolate import (
    linear_bank,
    polyphase_upsample_1d,
    sinc_bank,
    sinc_prototype,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)
from upsample1d.ops.shuffle import depth_to_space_1d, space_to_depth_1d

# The fixed upsamplers, each called as op(x, factor, data_format=...).
UPSAMPLING_OPS = (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d)
# The fixed downsamplers, each called as op(x, factor, data_format=...).
DOWNSAMPLING_OPS = (downsample_sinc_1d, downsample_average_1d, decimate_1d)

__all__ = [
    "UPSAMPLING_OPS",
    "depth_to_space_1d",
    "linear_bank",
    "polyphase_upsample_1d",
    "sinc_bank",
    "space_to_depth_1d",
    "upsample_linear_1d",
    "upsample_nearest_1d",
    "upsample_sinc_1d",
    "DOWNSAMPLING_OPS",
    "decimate_1d",
    "downsample_average_1d",
    "downsample_sinc_1d",
    "polyphase_downsample_1d",
    "sinc_prototype",
]

# Operations are private, as in Keras; these names were public in 0.1.
_MOVED = {"DepthToSpace1D": "depth_to_space_1d", "SpaceToDepth1D": "space_to_depth_1d",
          "Upsample1DOp": "upsample_nearest_1d / upsample_linear_1d / upsample_sinc_1d"}


def __getattr__(name):
    if name in _MOVED:
        warnings.warn(
            f"upsample1d.ops.{name} (a keras.Operation) is private since 0.2; call "
            f"{_MOVED[name]} (it returns symbolic tensors for KerasTensor inputs).",
            DeprecationWarning, stacklevel=2)
        from upsample1d.ops import _polyphase, shuffle

        if name == "Upsample1DOp":
            def upsample_op(primitive, factor, data_format, *, name=None, **options):
                return _polyphase._Resample(primitive, factor, 1, data_format,
                                            (factor, data_format), options, name=name)

            return upsample_op
        inverse = name == "SpaceToDepth1D"

        def operation(block_size, data_format="channels_last", mode="DCR", *, name=None):
            return shuffle._ShuffleOp(block_size, data_format, mode, inverse, name=name)

        return operation
    raise AttributeError(f"module 'upsample1d.ops' has no attribute {name!r}")

from upsample1d.ops.alias_free import (  # noqa: E402
    downsample_alias_free_1d,
    kaiser_sinc_filter,
    upsample_alias_free_1d,
)

__all__ += ["downsample_alias_free_1d", "kaiser_sinc_filter", "upsample_alias_free_1d"]
