"""Argument checks, in one place: every public function and layer validates here, once.

Each check returns the canonical value (an ``int``, a lower- or upper-case string) or raises
an error that names the argument and the value it got. String options follow one rule: letter
case is ignored, and the canonical spelling is returned (``"dcr"`` gives ``"DCR"``,
``"CHANNELS_FIRST"`` gives ``"channels_first"``, ``"Nearest"`` gives ``"nearest"``).

Nothing here imports a framework at module level, so the command line can validate its
arguments before Keras (and with it a backend) is imported.
"""

from __future__ import annotations

import math
import numbers

DATA_FORMATS = ("channels_last", "channels_first")
MODES = ("DCR", "CRD")


def positive_int(value, name):
    """``value`` as an int >= 1; TypeError for non-integers (bools included), else ValueError."""
    return _int(value, name, minimum=1, words="a positive int")


def non_negative_int(value, name):
    """``value`` as an int >= 0."""
    return _int(value, name, minimum=0, words="an int >= 0")


def _int(value, name, minimum, words):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be {words}, got {value!r} of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be {words}, got {name}={value!r}.")
    return int(value)


def non_negative_number(value, name):
    """``value`` as a finite float >= 0 (ints accepted, bools refused)."""
    return _number(value, name, strict=False)


def positive_number(value, name):
    """``value`` as a finite float > 0 (ints accepted, bools refused)."""
    return _number(value, name, strict=True)


def _number(value, name, strict):
    words = "a positive number" if strict else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be {words}, got {value!r} of type {type(value).__name__}."
        )
    value = float(value)
    if not math.isfinite(value) or value < 0 or (strict and value == 0):
        raise ValueError(f"`{name}` must be {words}, got {name}={value!r}.")
    return value


def choice(value, name, choices):
    """The member of ``choices`` equal to ``value`` ignoring letter case."""
    if isinstance(value, str):
        for canonical in choices:
            if value.lower() == canonical.lower():
                return canonical
    raise ValueError(f"`{name}` must be one of {tuple(choices)}, got {name}={value!r}.")


def data_format(value):
    """``"channels_last"`` or ``"channels_first"``; ``None`` means Keras' configured default."""
    if value is None:
        import keras

        return keras.config.image_data_format()
    return choice(value, "data_format", DATA_FORMATS)


def mode(value):
    """``"DCR"`` or ``"CRD"``."""
    return choice(value, "mode", MODES)


def time_axis(data_format):
    """The time axis of a rank-3 tensor in this (canonical) data format."""
    return 1 if data_format == "channels_last" else 2


def channel_axis(data_format):
    """The channel axis of a rank-3 tensor in this (canonical) data format."""
    return 2 if data_format == "channels_last" else 1


def rank3_shape(shape, where):
    """``shape`` as a tuple, or a ValueError naming ``where`` if it is not rank 3."""
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(
            f"{where} expects a rank-3 input (batch, time, channels) or (batch, channels, "
            f"time), got shape {shape} of rank {len(shape)}."
        )
    return shape
