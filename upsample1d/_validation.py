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


def boolean(value, name):
    """``value`` as a Python bool: ``True``, ``False`` or a NumPy bool; TypeError otherwise
    (``bool()`` would take the string ``"false"``, or any number, as an answer)."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"`{name}` must be True or False, got {value!r} of type {type(value).__name__}."
        )
    return bool(value)


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


def floating(dtype, where):
    """TypeError naming ``where`` unless ``dtype`` is a floating-point dtype; returns its
    standard name."""
    name = _dtype_name(dtype)
    if "float" not in name:
        raise TypeError(f"{where} needs a floating-point input, got dtype {name}.")
    return name


def _dtype_name(dtype):
    """``dtype``'s standard name ("float32"), from a NumPy, framework or string dtype."""
    import keras

    return keras.backend.standardize_dtype(dtype)


def resampled_length(time, up=1, down=1):
    """``ceil(time * up / down)``: the output length of every resampler (``None`` kept)."""
    return None if time is None else -(-time * up // down)


def chunk_length(value, hop, name="chunk"):
    """A streaming chunk length: a positive int (``name`` in the error) that is a multiple of
    the stream's ``hop``."""
    value = positive_int(value, name)
    if value % hop:
        raise ValueError(f"the chunk length {value} is not a multiple of the stream's hop "
                         f"{hop}; pad or split the signal into chunks of a multiple of {hop} "
                         f"samples.")
    return value


EDGES = ("zeros", "replicate", "reflect")


def edge(value):
    """An edge mode of the polyphase engine: ``"zeros"``, ``"replicate"`` or ``"reflect"``."""
    return choice(value, "edge", EDGES)


def cutoff(value):
    """A cutoff in cycles per sample, in ``[0, 0.5]``."""
    value = non_negative_number(value, "cutoff")
    if value > 0.5:
        raise ValueError(f"`cutoff` must be in [0, 0.5] (cycles per sample), got "
                         f"cutoff={value!r}.")
    return value


def filter_bank(bank):
    """A caller's polyphase bank as a float64 NumPy array of shape ``(taps, factor)``."""
    import numpy as np

    bank = np.asarray(bank, np.float64)
    if bank.ndim != 2 or 0 in bank.shape:
        raise ValueError(f"`bank` must have shape (taps, factor) with taps and factor >= 1, "
                         f"got shape {bank.shape}.")
    return bank


def padding_pair(pad, taps):
    """``pad`` as ``(left, right)`` ints >= 0 with ``left + right + 1 == taps``."""
    try:
        left, right = pad
    except (TypeError, ValueError):
        raise ValueError(f"`pad` must be a pair (left, right) of ints >= 0, got pad={pad!r}."
                         ) from None
    left, right = (non_negative_int(p, "pad") for p in (left, right))
    if taps != left + right + 1:
        raise ValueError(f"a bank of {taps} taps needs left + right padding of {taps - 1}, "
                         f"got pad={tuple(pad)}.")
    return left, right


def prototype(taps):
    """A caller's decimation filter as a non-empty 1-D float64 NumPy array."""
    import numpy as np

    taps = np.asarray(taps, np.float64)
    if taps.ndim != 1 or taps.size == 0:
        raise ValueError(f"`prototype` must be a non-empty 1-D array of taps, got shape "
                         f"{taps.shape}.")
    return taps


def mel_bands(sampling_rate, n_fft, num_mels, fmin, fmax):
    """The mel filters' settings (:func:`upsample1d.mel.mel_filters`) checked:
    ``(sampling_rate, n_fft, num_mels, fmin, fmax)``, ``fmax=None`` giving
    ``sampling_rate / 2``."""
    sampling_rate = positive_int(sampling_rate, "sampling_rate")
    n_fft = positive_int(n_fft, "n_fft")
    num_mels = positive_int(num_mels, "num_mels")
    fmin = non_negative_number(fmin, "fmin")
    nyquist = sampling_rate / 2
    fmax = nyquist if fmax is None else positive_number(fmax, "fmax")
    if not fmin < fmax <= nyquist:
        raise ValueError(f"need 0 <= fmin < fmax <= sampling_rate / 2 = {nyquist:g}, got "
                         f"fmin={fmin:g}, fmax={fmax:g}.")
    return sampling_rate, n_fft, num_mels, fmin, fmax


def stft_frames(n_fft, hop_size, win_size):
    """The STFT's ``(hop_size, win_size)`` checked: positive ints, at most ``n_fft`` (a checked
    int)."""
    hop_size = positive_int(hop_size, "hop_size")
    win_size = positive_int(win_size, "win_size")
    if win_size > n_fft:
        raise ValueError(f"`win_size` ({win_size}) must be at most n_fft={n_fft}.")
    if hop_size > n_fft:
        raise ValueError(f"`hop_size` ({hop_size}) must be at most n_fft={n_fft}.")
    return hop_size, win_size


def alias_free_kernel_size(kernel_size, factor, name, filter_name, up):
    """``kernel_size`` as an int, or an error naming ``name``: alias-free-torch's upsampler
    needs ``K > r`` (with ``K <= r`` its final crop is empty or negative)."""
    kernel_size = positive_int(kernel_size, name)
    if up and filter_name == "alias_free_torch" and kernel_size <= factor:
        raise ValueError(f"`{name}` must be larger than the ratio ({factor}) for the "
                         f"alias_free_torch filter (alias-free-torch's UpSample1d returns no "
                         f"samples otherwise), got {name}={kernel_size}.")
    return kernel_size


def rolloff(value):
    """A filter's cutoff as a fraction of the lower Nyquist, in ``(0, 1]``."""
    value = positive_number(value, "rolloff")
    if value > 1:
        raise ValueError(f"`rolloff` must be in (0, 1] (a fraction of the lower Nyquist), got "
                         f"rolloff={value!r}.")
    return value


def filter_bank_size(up, down, taps, limit_bytes):
    """ValueError, naming the ratio and the size, if a ``taps x up`` float64 bank is larger
    than ``limit_bytes``."""
    size = 8 * taps * up
    if size > limit_bytes:
        raise ValueError(
            f"resampling by up={up}, down={down} (after dividing by their gcd) needs a filter "
            f"bank of {taps} x {up} taps, {size / 2**30:.1f} GiB in float64: more than the "
            f"{limit_bytes / 2**30:.0f} GiB resample_1d builds; choose rates whose ratio has "
            "smaller terms, or resample in two steps.")


# the private primitive of each fixed resampler op -> (the op, the layers that save it)
_INTERPOLATION = "the layer InterpolationUpsample1D or Upsample1D (this interpolation " \
    "followed by a learned convolution)"
_FILTERED = "the layer FilteredDownsample1D or Downsample1D (this filter followed by a " \
    "learned convolution)"
_ALIAS_FREE = "the layer AliasFreeActivation1D (this resampler around an activation)"
_SAVED_FORMS = {
    "upsample1d.ops.interpolate._nearest": ("upsample_nearest_1d", _INTERPOLATION),
    "upsample1d.ops.interpolate._linear": ("upsample_linear_1d", _INTERPOLATION),
    "upsample1d.ops.interpolate._sinc": ("upsample_sinc_1d", _INTERPOLATION),
    "upsample1d.ops._polyphase.up": ("polyphase_upsample_1d", None),
    "upsample1d.ops.downsample._sinc_down": ("downsample_sinc_1d", _FILTERED),
    "upsample1d.ops.downsample._average": ("downsample_average_1d", _FILTERED),
    "upsample1d.ops.downsample._decimate": ("decimate_1d", None),
    "upsample1d.ops._polyphase.down": ("polyphase_downsample_1d", None),
    "upsample1d.ops.alias_free._upsample": ("upsample_alias_free_1d", _ALIAS_FREE),
    "upsample1d.ops.alias_free._downsample": ("downsample_alias_free_1d", _ALIAS_FREE),
    "upsample1d.ops.resample._resample": ("resample_1d",
                                          "the layer Resample1D (the same resampler)"),
}


def unsaved_resampler(primitive):
    """NotImplementedError for saving a model that applies the fixed resampler op whose
    primitive is ``primitive`` (``module.name``) to a KerasTensor: it names the op and the
    layer that saves the same resampling (Keras' own error named a private class)."""
    op, layers = _SAVED_FORMS.get(primitive, ("this upsample1d.ops resampler", None))
    advice = f"use {layers} in a model to be saved, or call " if layers else "call "
    raise NotImplementedError(
        f"a Keras model that applies {op} to a KerasTensor cannot be saved (the op's symbolic "
        f"form holds a private function, not a config): {advice}{op} in the call() of a layer "
        "of your own, registered with keras.saving.register_keras_serializable().")
