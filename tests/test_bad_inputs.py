"""Every bad argument of every public op, layer and initializer, in one table: what it raises
and the words its message must contain (the argument's name and, where it has one, its value).
Warnings (a working but discouraged argument) are rows too."""

import keras
import numpy as np
import pytest

from upsample1d.audio import synthetic_audio
from upsample1d.initializers import ICNR
from upsample1d.layers import (
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    Snake1D,
    SpaceToDepth1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import (
    decimate_1d,
    depth_to_space_1d,
    downsample_average_1d,
    downsample_sinc_1d,
    polyphase_downsample_1d,
    space_to_depth_1d,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)

X = np.zeros((1, 4, 4), np.float32)  # channels_last (B, T, C), divisible by 2 and 4
INTERPOLATION_OPS = {"upsample_nearest_1d": upsample_nearest_1d,
                     "upsample_linear_1d": upsample_linear_1d,
                     "upsample_sinc_1d": upsample_sinc_1d}


def build(layer, shape):
    return lambda: layer()(keras.Input(shape[1:], batch_size=shape[0]))


def _rows():
    rows = []
    for name, op in (("depth_to_space_1d", depth_to_space_1d),
                     ("space_to_depth_1d", space_to_depth_1d)):
        rows += [
            (f"{name}-block_size=0", lambda op=op: op(X, 0), ValueError, ["block_size=0"]),
            (f"{name}-block_size=-3", lambda op=op: op(X, -3), ValueError, ["block_size=-3"]),
            (f"{name}-block_size=2.0", lambda op=op: op(X, 2.0), TypeError,
             ["block_size", "2.0", "float"]),
            (f"{name}-block_size=True", lambda op=op: op(X, True), TypeError,
             ["block_size", "True", "bool"]),
            (f"{name}-block_size='2'", lambda op=op: op(X, "2"), TypeError, ["block_size", "'2'"]),
            (f"{name}-block_size=None", lambda op=op: op(X, None), TypeError,
             ["block_size", "None"]),
            (f"{name}-data_format", lambda op=op: op(X, 2, data_format="NWC"), ValueError,
             ["data_format", "'NWC'", "channels_last"]),
            (f"{name}-data_format=1", lambda op=op: op(X, 2, data_format=1), ValueError,
             ["data_format=1"]),
            (f"{name}-mode", lambda op=op: op(X, 2, mode="RDC"), ValueError,
             ["mode", "'RDC'", "DCR"]),
            (f"{name}-mode=None", lambda op=op: op(X, 2, mode=None), ValueError, ["mode=None"]),
            (f"{name}-rank2", lambda op=op: op(np.zeros((4, 4), np.float32), 2), ValueError,
             ["rank-3", "rank 2", "(4, 4)"]),
            (f"{name}-rank4", lambda op=op: op(np.zeros((1, 4, 4, 1), np.float32), 2), ValueError,
             ["rank-3", "rank 4"]),
            (f"{name}-symbolic-block_size", lambda op=op: op(keras.KerasTensor((None, 4, 4)), 0),
             ValueError, ["block_size=0"]),
        ]
    rows += [
        ("depth_to_space_1d-channels", lambda: depth_to_space_1d(
            np.zeros((1, 5, 6), np.float32), 4),
         ValueError, ["channel axis (6)", "block_size=4", "(1, 5, 6)"]),
        ("depth_to_space_1d-channels_first", lambda: depth_to_space_1d(
            np.zeros((1, 6, 5), np.float32), 4, "channels_first"), ValueError,
         ["channel axis (6)", "block_size=4", "channels_first"]),
        ("depth_to_space_1d-symbolic-channels", lambda: depth_to_space_1d(
            keras.KerasTensor((None, None, 6)), 4), ValueError, ["channel axis (6)"]),
        ("space_to_depth_1d-time", lambda: space_to_depth_1d(np.zeros((1, 7, 2), np.float32), 2),
         ValueError, ["time axis (7)", "block_size=2"]),
        ("space_to_depth_1d-time-channels_first", lambda: space_to_depth_1d(
            np.zeros((1, 2, 7), np.float32), 2, "channels_first"), ValueError,
         ["time axis (7)", "channels_first"]),
        ("space_to_depth_1d-symbolic-time", lambda: space_to_depth_1d(
            keras.KerasTensor((None, 9, 2)), 4), ValueError, ["time axis (9)", "block_size=4"]),
    ]
    for name, op in INTERPOLATION_OPS.items():
        rows += [
            (f"{name}-factor=0", lambda op=op: op(X, 0), ValueError, ["factor=0"]),
            (f"{name}-factor=1.5", lambda op=op: op(X, 1.5), TypeError, ["factor", "1.5"]),
            (f"{name}-factor=True", lambda op=op: op(X, True), TypeError, ["factor", "True"]),
            (f"{name}-data_format", lambda op=op: op(X, 2, data_format="NCW"), ValueError,
             ["data_format", "'NCW'"]),
            (f"{name}-rank2", lambda op=op: op(np.zeros((4, 4), np.float32), 2), ValueError,
             [name, "rank-3", "(4, 4)"]),
            (f"{name}-rank4", lambda op=op: op(np.zeros((1, 4, 4, 1), np.float32), 2),
             ValueError, [name, "rank-3"]),
        ]
    for name in ("upsample_linear_1d", "upsample_sinc_1d"):
        rows.append((f"{name}-int-input", lambda op=INTERPOLATION_OPS[name]: op(
            np.zeros((1, 4, 2), np.int32), 2), TypeError, [name, "floating-point", "int32"]))
    rows += [
        ("upsample_sinc_1d-half_width=0", lambda: upsample_sinc_1d(X, 2, half_width=0),
         ValueError, ["half_width=0"]),
        ("upsample_sinc_1d-half_width=2.5", lambda: upsample_sinc_1d(X, 2, half_width=2.5),
         TypeError, ["half_width", "2.5"]),
        ("upsample_sinc_1d-kaiser_beta=-1", lambda: upsample_sinc_1d(X, 2, kaiser_beta=-1.0),
         ValueError, ["kaiser_beta", "-1.0"]),
        ("upsample_sinc_1d-kaiser_beta=nan", lambda: upsample_sinc_1d(
            X, 2, kaiser_beta=float("nan")), ValueError, ["kaiser_beta", "nan"]),
    ]

    # ------------------------------------------------------------------ shuffle layers
    for cls in (Subpixel1D, SpaceToDepth1D):
        n = cls.__name__
        rows += [
            (f"{n}-block_size=0", lambda cls=cls: cls(0), ValueError, ["block_size=0"]),
            (f"{n}-block_size=2.0", lambda cls=cls: cls(2.0), TypeError, ["block_size", "2.0"]),
            (f"{n}-block_size=True", lambda cls=cls: cls(True), TypeError, ["block_size"]),
            (f"{n}-data_format", lambda cls=cls: cls(2, data_format="channels_middle"),
             ValueError, ["data_format='channels_middle'"]),
            (f"{n}-mode", lambda cls=cls: cls(2, mode="XYZ"), ValueError, ["mode='XYZ'"]),
            (f"{n}-rank2", build(lambda cls=cls: cls(2), (None, 4)), ValueError,
             ["ndim=3", "ndim=2"]),
        ]
    rows += [
        ("Subpixel1D-channels", build(lambda: Subpixel1D(4), (None, 16, 10)), ValueError,
         ["channel axis (10)", "block_size=4"]),
        ("Subpixel1D-channels_first", build(lambda: Subpixel1D(4, "channels_first"),
                                            (None, 10, 16)), ValueError,
         ["channel axis (10)", "channels_first"]),
        ("SpaceToDepth1D-time", build(lambda: SpaceToDepth1D(4), (None, 15, 2)), ValueError,
         ["time axis (15)", "block_size=4"]),
    ]

    # ------------------------------------------------------------------ learned upsamplers
    learned = {
        "SubpixelConv1D": lambda *a, **k: SubpixelConv1D(*a, **k),
        "TransposedConvUpsample1D": lambda *a, **k: TransposedConvUpsample1D(*a, **k),
        "InterpolationUpsample1D": lambda *a, **k: InterpolationUpsample1D(*a, **k),
        "Upsample1D": lambda *a, **k: Upsample1D(*a, **k),
    }
    for n, make in learned.items():
        rows += [
            (f"{n}-filters=0", lambda make=make: make(0, 2), ValueError, ["filters=0"]),
            (f"{n}-filters=2.5", lambda make=make: make(2.5, 2), TypeError, ["filters", "2.5"]),
            (f"{n}-factor=0", lambda make=make: make(4, 0), ValueError, ["factor=0"]),
            (f"{n}-factor='2'", lambda make=make: make(4, "2"), TypeError, ["factor", "'2'"]),
            (f"{n}-data_format", lambda make=make: make(4, 2, data_format="NWC"), ValueError,
             ["data_format='NWC'"]),
            (f"{n}-initializer", lambda make=make: make(4, 2, kernel_initializer="nope"),
             ValueError, ["nope"]),
            (f"{n}-rank4", build(lambda make=make: make(4, 2), (None, 4, 4, 1)), ValueError,
             ["rank-3", "(None, 4, 4, 1)"] if n == "Upsample1D" else ["ndim=3", "ndim=4"]),
            (f"{n}-unknown-channels", build(lambda make=make: make(4, 2), (None, 8, None)),
             ValueError, ["known channel dimension", "(None, 8, None)"]),
            # bool() took "false" as True
            (f"{n}-use_bias='false'", lambda make=make: make(4, 2, use_bias="false"),
             TypeError, ["use_bias", "'false'", "str"]),
            (f"{n}-use_bias=1", lambda make=make: make(4, 2, use_bias=1), TypeError,
             ["use_bias", "1", "int"]),
        ]
    rows += [
        ("SubpixelConv1D-kernel_size=0", lambda: SubpixelConv1D(4, 2, kernel_size=0),
         ValueError, ["kernel_size=0"]),
        ("SubpixelConv1D-mode", lambda: SubpixelConv1D(4, 2, mode="DRC"), ValueError,
         ["mode='DRC'"]),
        ("TransposedConvUpsample1D-overlap", lambda: TransposedConvUpsample1D(
            4, 2, overlap="half"), ValueError, ["overlap", "'half'", "full"]),
        ("TransposedConvUpsample1D-implementation", lambda: TransposedConvUpsample1D(
            4, 2, implementation="fft"), ValueError, ["implementation", "'fft'", "polyphase"]),
        ("TransposedConvUpsample1D-kernel_size<factor", lambda: TransposedConvUpsample1D(
            4, 4, kernel_size=3), ValueError, ["kernel_size", "(3)", "factor=4"]),
        ("TransposedConvUpsample1D-kernel_size=0", lambda: TransposedConvUpsample1D(
            4, 2, kernel_size=0), ValueError, ["kernel_size=0"]),
        ("TransposedConvUpsample1D-partial-overlap", lambda: TransposedConvUpsample1D(
            4, 2, kernel_size=3), UserWarning, ["kernel_size=3", "factor=2", "partial overlap"]),
        ("InterpolationUpsample1D-method", lambda: InterpolationUpsample1D(
            4, 2, method="cubic"), ValueError, ["method", "'cubic'", "sinc"]),
        ("InterpolationUpsample1D-kernel_size=-1", lambda: InterpolationUpsample1D(
            4, 2, kernel_size=-1), ValueError, ["kernel_size=-1"]),
        ("InterpolationUpsample1D-int-input", lambda: InterpolationUpsample1D(
            4, 2, method="linear")(np.zeros((1, 4, 2), np.int32)), TypeError,
         ["floating-point", "int32"]),
        ("Upsample1D-method", lambda: Upsample1D(4, 2, method="bicubic"), ValueError,
         ["method", "'bicubic'", "subpixel"]),
        ("Upsample1D-option-of-another-family", lambda: Upsample1D(
            4, 2, method="subpixel", overlap="full"), (TypeError, ValueError), ["overlap"]),
        ("Upsample1D-transposed-mode", lambda: Upsample1D(4, 2, method="transposed",
                                                          overlap="some"), ValueError,
         ["overlap='some'"]),
        ("Upsample1D-sinc-kernel_size", lambda: Upsample1D(4, 2, method="sinc", kernel_size=0),
         ValueError, ["kernel_size=0"]),
    ]

    # ------------------------------------------------------------------ downsampling ops
    downsampling_ops = {"downsample_sinc_1d": downsample_sinc_1d,
                        "downsample_average_1d": downsample_average_1d,
                        "decimate_1d": decimate_1d,
                        "polyphase_downsample_1d": lambda x, factor, **k: polyphase_downsample_1d(
                            x, [0.5, 0.5], factor, **k)}
    for name, op in downsampling_ops.items():
        rows += [
            (f"{name}-factor=0", lambda op=op: op(X, 0), ValueError, ["factor=0"]),
            (f"{name}-factor=1.5", lambda op=op: op(X, 1.5), TypeError, ["factor", "1.5"]),
            (f"{name}-factor=True", lambda op=op: op(X, True), TypeError, ["factor", "True"]),
            (f"{name}-data_format", lambda op=op: op(X, 2, data_format="NCW"), ValueError,
             ["data_format", "'NCW'"]),
            (f"{name}-rank2", lambda op=op: op(np.zeros((4, 4), np.float32), 2), ValueError,
             [name, "rank-3", "(4, 4)"]),
            (f"{name}-symbolic-factor", lambda op=op: op(keras.KerasTensor((None, 4, 4)), -2),
             ValueError, ["factor=-2"]),
        ]
    for name in ("downsample_sinc_1d", "downsample_average_1d", "polyphase_downsample_1d"):
        rows.append((f"{name}-int-input", lambda op=downsampling_ops[name]: op(
            np.zeros((1, 4, 2), np.int32), 2), TypeError, [name, "floating-point", "int32"]))
    rows += [
        ("downsample_sinc_1d-half_width=0", lambda: downsample_sinc_1d(X, 2, half_width=0),
         ValueError, ["half_width=0"]),
        ("downsample_sinc_1d-kaiser_beta=-1", lambda: downsample_sinc_1d(
            X, 2, kaiser_beta=-1.0), ValueError, ["kaiser_beta", "-1.0"]),
        ("polyphase_downsample_1d-prototype", lambda: polyphase_downsample_1d(
            X, np.ones((2, 2)), 2), ValueError, ["prototype", "(2, 2)"]),
        ("polyphase_downsample_1d-empty-prototype", lambda: polyphase_downsample_1d(
            X, [], 2), ValueError, ["prototype", "(0,)"]),
        ("polyphase_downsample_1d-left=-1", lambda: polyphase_downsample_1d(
            X, [1.0], 2, left=-1), ValueError, ["left=-1"]),
        ("polyphase_downsample_1d-edge", lambda: polyphase_downsample_1d(
            X, [1.0], 2, edge="wrap"), ValueError, ["edge='wrap'", "reflect"]),
    ]

    # ------------------------------------------------------------------ learned downsamplers
    downsamplers = {
        "StridedConv1D": lambda *a, **k: StridedConv1D(*a, **k),
        "SpaceToDepthConv1D": lambda *a, **k: SpaceToDepthConv1D(*a, **k),
        "FilteredDownsample1D": lambda *a, **k: FilteredDownsample1D(*a, **k),
        "Downsample1D": lambda *a, **k: Downsample1D(*a, **k),
    }
    for n, make in downsamplers.items():
        rows += [
            (f"{n}-filters=0", lambda make=make: make(0, 2), ValueError, ["filters=0"]),
            (f"{n}-filters=2.5", lambda make=make: make(2.5, 2), TypeError, ["filters", "2.5"]),
            (f"{n}-factor=0", lambda make=make: make(4, 0), ValueError, ["factor=0"]),
            (f"{n}-factor='2'", lambda make=make: make(4, "2"), TypeError, ["factor", "'2'"]),
            (f"{n}-kernel_size=0", lambda make=make: make(4, 2, kernel_size=0), ValueError,
             ["kernel_size=0"]),
            (f"{n}-data_format", lambda make=make: make(4, 2, data_format="NWC"), ValueError,
             ["data_format='NWC'"]),
            (f"{n}-initializer", lambda make=make: make(4, 2, kernel_initializer="nope"),
             ValueError, ["nope"]),
            (f"{n}-rank4", build(lambda make=make: make(4, 2), (None, 4, 4, 1)), ValueError,
             ["rank-3", "(None, 4, 4, 1)"] if n == "Downsample1D" else ["ndim=3", "ndim=4"]),
            (f"{n}-unknown-channels", build(lambda make=make: make(4, 2), (None, 8, None)),
             ValueError, ["known channel dimension", "(None, 8, None)"]),
            (f"{n}-int-input", lambda make=make: make(4, 2)(np.zeros((1, 4, 2), np.int32)),
             TypeError, ["floating-point", "int32"]),
            (f"{n}-use_bias='False'", lambda make=make: make(4, 2, use_bias="False"),
             TypeError, ["use_bias", "'False'", "str"]),
        ]
    rows += [
        ("StridedConv1D-short-kernel", lambda: StridedConv1D(4, 4, kernel_size=3), UserWarning,
         ["kernel_size=3", "factor=4", "never read"]),
        ("SpaceToDepthConv1D-mode", lambda: SpaceToDepthConv1D(4, 2, mode="DRC"), ValueError,
         ["mode='DRC'"]),
        ("FilteredDownsample1D-method", lambda: FilteredDownsample1D(4, 2, method="decimate"),
         ValueError, ["method", "'decimate'", "sinc", "average"]),
        ("Downsample1D-method", lambda: Downsample1D(4, 2, method="maxpool"), ValueError,
         ["method", "'maxpool'", "strided", "space_to_depth"]),
        ("Downsample1D-option-of-another-family", lambda: Downsample1D(
            4, 2, method="strided", mode="DCR"), (TypeError, ValueError), ["mode"]),
        ("SpaceToDepthConv1D-from_strided", lambda: SpaceToDepthConv1D.from_strided(
            SubpixelConv1D(2, 2)), TypeError, ["from_strided", "StridedConv1D"]),
        ("StridedConv1D-from_space_to_depth", lambda: StridedConv1D.from_space_to_depth(
            StridedConv1D(2, 2)), TypeError, ["from_space_to_depth", "SpaceToDepthConv1D"]),
    ]

    # ------------------------------------------------------------------ Snake1D
    rows += [
        ("Snake1D-use_beta='false'", lambda: Snake1D(use_beta="false"), TypeError,
         ["use_beta", "'false'", "str"]),
        ("Snake1D-use_beta=0", lambda: Snake1D(use_beta=0), TypeError, ["use_beta", "0", "int"]),
        ("Snake1D-alpha_logscale='no'", lambda: Snake1D(alpha_logscale="no"), TypeError,
         ["alpha_logscale", "'no'", "str"]),
        ("Snake1D-alpha_logscale=None", lambda: Snake1D(alpha_logscale=None), TypeError,
         ["alpha_logscale", "None"]),
    ]

    # ------------------------------------------------------------------ ICNR
    rows += [
        ("ICNR-factor=0", lambda: ICNR(0), ValueError, ["factor=0"]),
        ("ICNR-factor=2.0", lambda: ICNR(2.0), TypeError, ["factor", "2.0"]),
        ("ICNR-mode", lambda: ICNR(2, mode="XYZ"), ValueError, ["mode='XYZ'"]),
        ("ICNR-initializer", lambda: ICNR(2, initializer="not_an_initializer"), ValueError,
         ["not_an_initializer"]),
        ("ICNR-shape", lambda: ICNR(4)((3, 2, 6)), ValueError,
         ["factor=4", "multiple", "(3, 2, 6)"]),
        ("ICNR-empty-shape", lambda: ICNR(2)(()), ValueError, ["factor=2", "shape=()"]),
        ("ICNR-in-layer", build(lambda: SubpixelConv1D(3, 2, kernel_initializer=ICNR(4)),
                                (None, 8, 2)), ValueError, ["ICNR(factor=4", "factor=2"]),
        ("ICNR-smaller-factor-in-layer", lambda: SubpixelConv1D(
            8, 4, kernel_initializer=ICNR(2)), ValueError, ["ICNR(factor=2", "factor=4"]),
        ("ICNR-other-mode-in-layer", lambda: SubpixelConv1D(
            8, 4, mode="CRD", kernel_initializer=ICNR(4)), ValueError,
         ["mode='DCR'", "mode='CRD'"]),
    ]

    # ------------------------------------------------------------------ synthetic_audio
    # sample_rate=0 gave NaN samples, a negative one noise only, length=0 an IndexError
    rows += [
        ("synthetic_audio-sample_rate=0", lambda: synthetic_audio(1, 8, sample_rate=0),
         ValueError, ["sample_rate=0"]),
        ("synthetic_audio-sample_rate=-16000", lambda: synthetic_audio(1, 8, sample_rate=-16000),
         ValueError, ["sample_rate=-16000"]),
        ("synthetic_audio-length=0", lambda: synthetic_audio(1, 0), ValueError, ["length=0"]),
        ("synthetic_audio-batch=0", lambda: synthetic_audio(0, 8), ValueError, ["batch=0"]),
        ("synthetic_audio-length=8.5", lambda: synthetic_audio(1, 8.5), TypeError,
         ["length", "8.5"]),
        ("synthetic_audio-noise=-1", lambda: synthetic_audio(1, 8, noise=-1), ValueError,
         ["noise=-1"]),
    ]
    return rows


ROWS = _rows()


def test_table_covers_every_public_name():
    names = {row[0].split("-")[0] for row in ROWS}
    assert names >= {"depth_to_space_1d", "space_to_depth_1d", "upsample_nearest_1d",
                     "upsample_linear_1d", "upsample_sinc_1d", "Subpixel1D", "SpaceToDepth1D",
                     "SubpixelConv1D", "TransposedConvUpsample1D", "InterpolationUpsample1D",
                     "Upsample1D", "ICNR", "downsample_sinc_1d", "downsample_average_1d",
                     "decimate_1d", "polyphase_downsample_1d", "StridedConv1D",
                     "SpaceToDepthConv1D", "FilteredDownsample1D", "Downsample1D", "Snake1D"}


@pytest.mark.parametrize(("call", "error", "words"), [row[1:] for row in ROWS],
                         ids=[row[0] for row in ROWS])
def test_bad_input(call, error, words):
    if isinstance(error, type) and issubclass(error, Warning):
        with pytest.warns(error) as record:
            call()
        message = " ".join(str(w.message) for w in record if issubclass(w.category, error))
    else:
        with pytest.raises(error) as info:
            call()
        message = str(info.value)
    missing = [w for w in words if w not in message]
    assert not missing, f"message lacks {missing}: {message!r}"


def test_numpy_bools_are_flags():
    """A NumPy bool (from an array, a loaded config) is a flag, kept as a Python bool."""
    layer, snake = SubpixelConv1D(4, 2, use_bias=np.True_), Snake1D(use_beta=np.bool_(False))
    assert layer.use_bias is True and snake.use_beta is False
