"""Models and helpers shared by the streaming tests and the streaming benchmark: a model per
layer configuration, partitions of a signal into chunks, and one run of a stream."""

import keras
import numpy as np

from upsample1d.layers import (
    AliasFreeActivation1D,
    Downsample1D,
    FilteredDownsample1D,
    InterpolationUpsample1D,
    Resample1D,
    Snake1D,
    SpaceToDepth1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)


def to_numpy(x):
    x = keras.ops.convert_to_numpy(x)
    return np.asarray(x)


def package_layers(df):
    """name -> a function making a fresh layer of this package in data format ``df``
    (every layer, both implementations, every overlap, every method)."""
    L = {
        "Subpixel1D-DCR": lambda: Subpixel1D(2, data_format=df),
        "Subpixel1D-CRD": lambda: Subpixel1D(3, data_format=df, mode="CRD"),
        "SpaceToDepth1D": lambda: SpaceToDepth1D(3, data_format=df),
        "SubpixelConv1D-k3": lambda: SubpixelConv1D(3, 2, data_format=df, use_bias=True,
                                                    bias_initializer="random_normal"),
        "SubpixelConv1D-k4-CRD": lambda: SubpixelConv1D(2, 3, kernel_size=4, mode="CRD",
                                                        data_format=df),
        "StridedConv1D-k5r3": lambda: StridedConv1D(3, 3, kernel_size=5, data_format=df,
                                                    use_bias=True),
        "StridedConv1D-k2r3": lambda: StridedConv1D(2, 3, kernel_size=2, data_format=df),
        "SpaceToDepthConv1D-k3": lambda: SpaceToDepthConv1D(3, 2, data_format=df),
        "SpaceToDepthConv1D-k4-CRD": lambda: SpaceToDepthConv1D(2, 3, kernel_size=4,
                                                                mode="CRD", data_format=df),
        "FilteredDownsample1D-sinc": lambda: FilteredDownsample1D(2, 2, data_format=df),
        "FilteredDownsample1D-average": lambda: FilteredDownsample1D(2, 3, method="average",
                                                                     data_format=df),
        "Snake1D": lambda: Snake1D(alpha=0.7, use_beta=True, data_format=df),
    }
    for impl in ("polyphase", "native"):
        for overlap in ("full", "none"):
            L[f"TransposedConv-{impl}-{overlap}"] = (
                lambda i=impl, o=overlap: TransposedConvUpsample1D(
                    3, 2, overlap=o, implementation=i, data_format=df, use_bias=True))
        L[f"TransposedConv-{impl}-k7r3"] = (
            lambda i=impl: TransposedConvUpsample1D(2, 3, kernel_size=6, implementation=i,
                                                    data_format=df))
    for method in ("nearest", "linear", "sinc"):
        for impl in ("fused", "direct"):
            L[f"Interpolation-{method}-{impl}"] = (
                lambda m=method, i=impl: InterpolationUpsample1D(
                    2, 2, method=m, implementation=i, kernel_size=5, data_format=df))
        L[f"Interpolation-{method}-r3k9"] = (
            lambda m=method: InterpolationUpsample1D(2, 3, method=m, data_format=df))
    for method in ("subpixel", "transposed", "nearest", "linear", "sinc"):
        L[f"Upsample1D-{method}"] = lambda m=method: Upsample1D(2, 2, method=m, data_format=df)
    for method in ("strided", "space_to_depth", "sinc", "average"):
        L[f"Downsample1D-{method}"] = lambda m=method: Downsample1D(2, 2, method=m,
                                                                   data_format=df)
    L.update(alias_free_layers(df))
    L.update({
        "Resample1D-3/2": lambda: Resample1D(3, 2, data_format=df),
        "Resample1D-2/3-replicate": lambda: Resample1D(2, 3, edge="replicate",
                                                       data_format=df),
        "Resample1D-up2-poly": lambda: Resample1D(2, data_format=df),
        "Resample1D-down3-reflect": lambda: Resample1D(1, 3, zero_crossings=4, edge="reflect",
                                                       data_format=df),
    })
    return L


def alias_free_layers(df):
    return {
        "AliasFree-snake": lambda: AliasFreeActivation1D("snake", data_format=df),
        "AliasFree-tanh-up3-down2": lambda: AliasFreeActivation1D(
            "tanh", up=3, down=2, data_format=df),
        "AliasFree-leaky-up4-down4-k13": lambda: AliasFreeActivation1D(
            "leaky_relu", up=4, down=4, up_kernel_size=13, down_kernel_size=9,
            data_format=df),
        "AliasFree-sinc_bank": lambda: AliasFreeActivation1D(
            "snakebeta", filter="sinc_bank", up_kernel_size=20, down_kernel_size=20,
            data_format=df),
        "AliasFree-up2-down1": lambda: AliasFreeActivation1D("tanh", up=2, down=1,
                                                             data_format=df),
    }


def keras_layers():
    """name -> a function making a fresh Keras layer (channels_last)."""
    L = keras.layers
    return {
        "Conv1D-same-k5": lambda: L.Conv1D(3, 5, padding="same", activation="tanh"),
        "Conv1D-same-k4-d2": lambda: L.Conv1D(3, 4, padding="same", dilation_rate=2),
        "Conv1D-valid-k4": lambda: L.Conv1D(3, 4, padding="valid"),
        "Conv1D-causal-k3-d3": lambda: L.Conv1D(3, 3, padding="causal", dilation_rate=3),
        "Conv1D-same-s2-k5": lambda: L.Conv1D(3, 5, strides=2, padding="same"),
        "Conv1D-same-s3-k2": lambda: L.Conv1D(3, 2, strides=3, padding="same"),
        "Conv1D-valid-s2-k5": lambda: L.Conv1D(3, 5, strides=2, padding="valid"),
        "Conv1D-causal-s2-k4": lambda: L.Conv1D(3, 4, strides=2, padding="causal"),
        "Conv1DTranspose-same-s2-k4": lambda: L.Conv1DTranspose(3, 4, strides=2,
                                                                padding="same"),
        "Conv1DTranspose-same-s3-k5": lambda: L.Conv1DTranspose(3, 5, strides=3,
                                                                padding="same"),
        "Conv1DTranspose-valid-s2-k3": lambda: L.Conv1DTranspose(3, 3, strides=2,
                                                                 padding="valid"),
        "MaxPooling1D-same": lambda: L.MaxPooling1D(3, strides=2, padding="same"),
        "AveragePooling1D-valid": lambda: L.AveragePooling1D(2),
        "UpSampling1D": lambda: L.UpSampling1D(3),
        "Dense": lambda: L.Dense(4, activation="relu"),
        "LayerNormalization": lambda: L.LayerNormalization(),
        "LSTM": lambda: L.LSTM(4, return_sequences=True),
        "GRU": lambda: L.GRU(4, return_sequences=True),
    }


def single_layer_model(make_layer, channels=6, df="channels_last", dtype=None):
    keras.utils.set_random_seed(1)
    shape = (None, channels) if df == "channels_last" else (channels, None)
    inputs = keras.Input(shape, dtype=dtype)
    layer = make_layer()
    return keras.Model(inputs, layer(inputs))


def residual_model(channels=4):
    """Branches whose latencies differ, merged three ways; and a GLU and normalisations."""
    from upsample1d.models import GLU

    keras.utils.set_random_seed(2)
    L = keras.layers
    inputs = keras.Input((None, channels))
    a = L.Conv1D(channels, 7, padding="same", name="wide")(inputs)
    b = L.Conv1D(channels, 3, padding="causal", name="causal")(inputs)
    x = L.Add(name="add")([inputs, a])
    x = L.Multiply(name="gate")([x, L.Activation("sigmoid")(b)])
    x = L.Concatenate(name="concat")([x, b, inputs])
    x = GLU()(L.Dense(2 * channels)(x))
    x = L.LayerNormalization()(x)
    x = L.BatchNormalization()(x)
    y = StridedConv1D(channels, 2, data_format="channels_last")(x)
    y = SubpixelConv1D(channels, 2, data_format="channels_last")(y)
    return keras.Model(inputs, L.Subtract()([x, y]), name="residual")


def alias_free_gru_sinc_model(channels=2):
    """An alias-free Snake, a GRU carrying state, a fused sinc upsampler: replicate edges,
    a recurrent state and a long reach in one model."""
    keras.utils.set_random_seed(21)
    inputs = keras.Input((None, channels))
    x = AliasFreeActivation1D("snake", data_format="channels_last")(inputs)
    x = keras.layers.GRU(3, return_sequences=True)(x)
    x = InterpolationUpsample1D(2, 2, method="sinc", data_format="channels_last")(x)
    return keras.Model(inputs, x, name="alias_free_gru_sinc")


def partitions(length, hop, rng):
    """Chunk sizes (multiples of ``hop``) covering ``length``: one hop each, mixed sizes,
    one chunk."""
    steps = length // hop
    mixed, left = [], steps
    while left:
        size = int(rng.integers(1, min(left, 9) + 1))
        mixed.append(size * hop)
        left -= size
    return {"hop": [hop] * steps, "mixed": mixed, "one": [length]}


def run_stream(stream, x, sizes, step=None):
    """The stream's output for ``x`` cut into ``sizes`` (along time), flush included, and
    the length each step returned."""
    step = step or stream.step
    axis = 1 if stream.data_format == "channels_last" else 2
    state = stream.initial_state(x.shape[0])
    parts, start = [], 0
    for size in sizes:
        chunk = x[:, start:start + size] if axis == 1 else x[:, :, start:start + size]
        y, state = step(keras.ops.convert_to_tensor(chunk), state)
        parts.append(to_numpy(y))
        start += size
    parts.append(to_numpy(stream.flush(state)))
    return np.concatenate(parts, axis=axis), [p.shape[axis] for p in parts]


def relative_error(streamed, offline):
    assert streamed.shape == offline.shape, (streamed.shape, offline.shape)
    scale = np.abs(offline).max()
    return float(np.abs(streamed - offline).max() / (scale if scale else 1.0))
