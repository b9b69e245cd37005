"""Subpixel1D and SpaceToDepth1D: shapes, config, serialization, build-time errors."""

import keras
import numpy as np
import pytest
from conftest import bits, to_backend

from upsample1d.layers import SpaceToDepth1D, Subpixel1D
from upsample1d.ops import depth_to_space_1d, space_to_depth_1d

LAYERS = [(Subpixel1D, depth_to_space_1d), (SpaceToDepth1D, space_to_depth_1d)]


@pytest.mark.parametrize(("layer_cls", "op"), LAYERS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_layer_equals_op(layer_cls, op, data_format, mode):
    x = np.random.default_rng(0).normal(size=(2, 8, 8)).astype(np.float32)
    layer = layer_cls(2, data_format=data_format, mode=mode)
    np.testing.assert_array_equal(bits(layer(to_backend(x))),
                                  bits(op(to_backend(x), 2, data_format, mode)))


def test_default_data_format_follows_keras_config():
    previous = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        assert Subpixel1D(2).data_format == "channels_first"
    finally:
        keras.config.set_image_data_format(previous)
    assert Subpixel1D(2).data_format == previous


def test_compute_output_shape_keeps_none():
    assert Subpixel1D(4).compute_output_shape((None, None, 64)) == (None, None, 16)
    assert Subpixel1D(4, "channels_first").compute_output_shape((None, 64, None)) == (
        None, 16, None)
    assert SpaceToDepth1D(4).compute_output_shape((None, 16, 2)) == (None, 4, 8)
    assert SpaceToDepth1D(4).compute_output_shape((None, None, 2)) == (None, None, 8)


@pytest.mark.parametrize(("layer_cls", "_"), LAYERS)
def test_get_config_round_trip(layer_cls, _):
    layer = layer_cls(3, data_format="channels_first", mode="crd", name="shuffle")
    config = layer.get_config()
    assert config["block_size"] == 3 and config["mode"] == "CRD"
    assert config["data_format"] == "channels_first"
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is layer_cls and restored.get_config() == config


def test_keras_file_save_and_load(tmp_path):
    inputs = keras.Input((None, 8))
    x = SpaceToDepth1D(2, mode="CRD")(inputs)
    x = keras.layers.Conv1D(12, 3, padding="same", use_bias=False)(x)
    outputs = Subpixel1D(3)(x)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "shuffle.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert isinstance(loaded.layers[-1], Subpixel1D)


def test_errors_at_build_time_for_static_shapes():
    with pytest.raises(ValueError, match=r"channel axis \(10\) must be divisible by block_size=4"):
        Subpixel1D(4)(keras.Input((16, 10)))
    with pytest.raises(ValueError, match=r"time axis \(15\) must be divisible by block_size=4"):
        SpaceToDepth1D(4)(keras.Input((15, 2)))
    with pytest.raises(ValueError, match="ndim=3"):
        Subpixel1D(2)(keras.Input((4,)))


@pytest.mark.parametrize(("layer_cls", "_"), LAYERS)
def test_constructor_errors(layer_cls, _):
    with pytest.raises(ValueError, match="block_size=0"):
        layer_cls(0)
    with pytest.raises(TypeError, match="block_size"):
        layer_cls(True)
    with pytest.raises(ValueError, match="data_format='channels_middle'"):
        layer_cls(2, data_format="channels_middle")
    with pytest.raises(ValueError, match="mode='XYZ'"):
        layer_cls(2, mode="XYZ")


def test_seed_autoencoder_shapes():
    """The seed article's model: 16384 samples, down by 4 then up by 4."""
    inputs = keras.Input((16384, 1))
    x = SpaceToDepth1D(4)(inputs)
    x = keras.layers.Conv1D(32, 9, padding="same")(x)
    x = keras.layers.Conv1D(4, 9, padding="same")(x)
    outputs = Subpixel1D(4)(x)
    assert keras.Model(inputs, outputs).output_shape == (None, 16384, 1)
