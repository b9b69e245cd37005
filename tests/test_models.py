"""Reference models: shapes for every upsampler, training, serialization, errors.

Small sizes throughout so the file runs in seconds on every backend.
"""

import keras
import numpy as np
import pytest
from conftest import BACKEND

from upsample1d.layers import TransposedConvUpsample1D, Upsample1D
from upsample1d.models import DEMUCS_PAPER_CONFIG, GLU, autoencoder, demucs_like

METHODS = ("subpixel", "transposed", "nearest", "linear", "sinc")
SMALL = {"depth": 2, "channels": 4, "lstm_layers": 0}


def _audio(batch, length, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 64.0
    phase = rng.uniform(0, 2 * np.pi, size=(batch, 1, channels))
    return (0.5 * np.sin(t[None, :, None] + phase)).astype("float32")


@pytest.mark.parametrize("method", METHODS)
def test_demucs_like_shapes(method):
    model = demucs_like(method, length=64, **SMALL)
    assert model.output_shape == (None, 64, 1)
    y = keras.ops.convert_to_numpy(model(_audio(2, 64)))
    assert y.shape == (2, 64, 1)
    assert np.all(np.isfinite(y))
    ups = [layer for layer in model.layers if layer.name.endswith("_up")]
    assert len(ups) == SMALL["depth"]
    expected = TransposedConvUpsample1D if method == "transposed" else Upsample1D
    assert all(isinstance(layer, expected) for layer in ups)
    if method == "transposed":
        assert all(layer.kernel_size == 8 and layer.factor == 4 for layer in ups)
    else:
        assert all(layer.method == method for layer in ups)


def test_demucs_like_channels_and_dynamic_length():
    model = demucs_like("nearest", length=None, depth=2, channels=4, lstm_layers=0,
                        in_channels=2, out_channels=6)
    assert model.output_shape == (None, None, 6)
    for length in (16, 32):
        assert tuple(model(_audio(1, length, 2)).shape) == (1, length, 6)
    widths = [layer.filters for layer in model.layers if layer.name.endswith("_conv")]
    assert widths == [4, 8]


def test_demucs_like_accepts_an_upsampler_factory():
    def factory(filters, factor, name):
        return keras.layers.UpSampling1D(factor, name=name)

    model = demucs_like(factory, length=32, depth=2, channels=4, growth=1, lstm_layers=0,
                        out_channels=4)
    assert model.name == "demucs_like_custom"
    assert isinstance(model.get_layer("decoder0_up"), keras.layers.UpSampling1D)
    assert model.output_shape == (None, 32, 4)


def test_demucs_like_modified_variant_has_no_bias_and_no_first_relu():
    model = demucs_like("transposed", length=64, depth=2, channels=4, lstm_layers=1,
                        bias=False, first_relu=False)
    assert model.name == "demucs_like_transposed_modified"
    for layer in model.layers:
        if hasattr(layer, "use_bias") and not isinstance(layer, keras.layers.Bidirectional):
            assert layer.use_bias is False, layer.name
    first = model.get_layer("encoder0_conv")
    assert first.activation is keras.activations.linear
    assert model.get_layer("encoder1_conv").activation is keras.activations.relu
    default = demucs_like("transposed", length=64, depth=2, channels=4, lstm_layers=0)
    assert default.get_layer("encoder0_conv").activation is keras.activations.relu
    assert default.get_layer("decoder0_up").use_bias is True


def test_autoencoder_bias_switch_is_backward_compatible():
    seed = autoencoder(upsampler="transposed", length=64, factor=4,
                       upsampler_options={"overlap": "none"})
    assert seed.output_shape == (None, 64, 1)
    assert seed.get_layer("encode").use_bias is True
    no_bias = autoencoder("subpixel", length=64, bias=False)
    assert no_bias.get_layer("encode").use_bias is False
    assert no_bias.get_layer("latent").use_bias is False


@pytest.mark.parametrize("method", ("subpixel", "transposed"))
def test_demucs_like_trains(method):
    keras.utils.set_random_seed(0)
    model = demucs_like(method, length=256, depth=2, channels=8, lstm_layers=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    x = _audio(4, 256)
    losses = model.fit(x, x, batch_size=4, epochs=10, verbose=0, shuffle=False)
    losses = losses.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0], losses


def test_demucs_like_keras_round_trip(tmp_path):
    model = demucs_like("subpixel", length=32, depth=2, channels=4, lstm_layers=2,
                        bias=False, first_relu=False)
    # The bottleneck: 2 bidirectional LSTMs of 8 units per direction, then Dense back to 8.
    assert model.get_layer("lstm1").output.shape == (None, 2, 16)
    assert model.get_layer("lstm_linear").output.shape == (None, 2, 8)
    x = _audio(2, 32)
    want = keras.ops.convert_to_numpy(model(x))
    path = tmp_path / "demucs.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), want, rtol=1e-5,
                               atol=1e-6)
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert isinstance(loaded.get_layer("encoder0_glu"), GLU)


def test_glu_layer():
    x = np.arange(12, dtype="float32").reshape(1, 2, 6)
    y = keras.ops.convert_to_numpy(GLU()(x))
    np.testing.assert_allclose(y, x[..., :3] / (1 + np.exp(-x[..., 3:])), rtol=1e-6)
    assert GLU().compute_output_shape((None, 5, 6)) == (None, 5, 3)
    with pytest.raises(ValueError, match="even"):
        GLU().compute_output_shape((None, 5, 7))


def test_paper_config_is_documented():
    assert DEMUCS_PAPER_CONFIG["depth"] == 6
    assert DEMUCS_PAPER_CONFIG["channels"] == 64
    assert DEMUCS_PAPER_CONFIG["kernel_size"] == 8
    assert DEMUCS_PAPER_CONFIG["factor"] == 4
    assert DEMUCS_PAPER_CONFIG["lstm_layers"] == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"length": 1000}, ValueError, r"`length` \(1000\).*4\*\*2 = 16.*1008"),
        ({"upsampler": "bilinear"}, ValueError, "bilinear"),
        ({"depth": 0}, ValueError, "depth"),
        ({"factor": 2.0}, TypeError, "factor"),
        ({"upsampler": "Subpixel", "factor": 0}, ValueError, "factor=0"),
        ({"lstm_layers": -1}, ValueError, "lstm_layers"),
        ({"kernel_size": 2}, ValueError, "kernel_size"),
    ],
)
def test_demucs_like_errors(kwargs, error, match):
    options = {"upsampler": "subpixel", "length": 256, **SMALL, **kwargs}
    with pytest.raises(error, match=match):
        demucs_like(**options)


def test_stride_is_a_deprecated_name_of_factor():
    with pytest.warns(DeprecationWarning, match="pass factor="):
        old = demucs_like("subpixel", length=256, stride=2, **SMALL)
    new = demucs_like("subpixel", length=256, factor=2, **SMALL)
    assert old.count_params() == new.count_params()
    assert old.get_layer("encoder0_conv").strides == (2,)


def test_autoencoder_errors():
    with pytest.raises(ValueError, match="1001"):
        autoencoder(length=1001)
    # bool() took the string "false" as True
    with pytest.raises(TypeError, match="`bias` must be True or False, got 'false'"):
        autoencoder(bias="false")
    with pytest.raises(TypeError, match="`first_relu` must be True or False, got 0"):
        demucs_like(length=None, first_relu=0, **SMALL)


@pytest.mark.parametrize("length", [1, 4, 17, 100, 253, 255, 509])
def test_demucs_like_for_any_length_refuses_a_length_off_the_rule(length):
    """``length=None``: a length not divisible by factor**depth (256 here) raised the
    backend's own broadcast error, or for a length under factor (the skips of length 1
    broadcast in Add) gave 256 samples out without a word; and the lengths just under a
    multiple (253, 255, 509: the "same" strided convolutions round them up, and every skip
    then lines up) came out at the multiple."""
    model = demucs_like(length=None, depth=4, channels=4, lstm_layers=0)
    with pytest.raises(ValueError, match="must be divisible by factor\\*\\*depth = 256"):
        model(np.zeros((1, length, 1), "float32"))
    assert tuple(model(np.zeros((1, 512, 1), "float32")).shape) == (1, 512, 1)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="a length unknown while tracing: TF")
def test_demucs_like_refuses_a_length_off_the_rule_in_a_retraced_predict():
    """After predict on two lengths Keras retraces with the length unknown: a third length
    off the rule raised TF's 'Incompatible shapes' from inside the skips."""
    model = demucs_like("nearest", length=None, depth=2, channels=4, lstm_layers=0)
    for length in (16, 32):
        assert model.predict(np.zeros((1, length, 1), "float32"), verbose=0).shape[1] == length
    with pytest.raises(Exception, match=r"divisible by factor\*\*depth=16; its size is\] \[17\]"):
        model.predict(np.zeros((1, 17, 1), "float32"), verbose=0)


def test_demucs_like_transposed_takes_overlap_from_the_options(tmp_path):
    """``upsampler_options={"overlap": "none"}`` gave kernel 8 (full overlap at factor 4)
    while the layers reported 'none'."""
    model = demucs_like("transposed", length=1024, depth=2, channels=4, lstm_layers=0,
                        upsampler_options={"overlap": "none"})
    ups = [layer for layer in model.layers if isinstance(layer, TransposedConvUpsample1D)]
    assert len(ups) == 2 and {(u.kernel_size, u.overlap) for u in ups} == {(4, "none")}
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.saving.load_model(path)
    x = np.random.default_rng(0).normal(size=(1, 1024, 1)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x)),
                                  keras.ops.convert_to_numpy(model(x)))
