"""Learned upsamplers: SubpixelConv1D + ICNR, TransposedConvUpsample1D (both implementations)
against native transposed convs, weight conversion, InterpolationUpsample1D, Upsample1D."""

import warnings

import keras
import numpy as np
import pytest
from conftest import has_module, sampled_grid, to_backend, to_numpy
from test_interpolate import assert_close

import backends
from upsample1d import _backend, convert
from upsample1d.initializers import ICNR
from upsample1d.layers import (
    InterpolationUpsample1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import (
    depth_to_space_1d,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)

FORMATS = ("channels_last", "channels_first")
# (factor, kernel_size): none, full, triple and partial overlap, and stride 1
TRANSPOSED_CASES = [(1, 1), (1, 2), (2, 2), (2, 4), (2, 3), (2, 5), (3, 3), (3, 6), (3, 9),
                    (3, 4), (4, 4), (4, 8), (4, 16), (4, 6)]


def signal(time, channels, data_format, seed=0):
    x = np.random.default_rng(seed).normal(size=(2, time, channels)).astype(np.float32)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def conv_same(x, kernel, data_format):
    """keras.ops.conv with "same" padding, run channels_last (TF's CPU kernels without oneDNN
    cannot run NCW convolutions, and this is the reference, not the code under test)."""
    if data_format == "channels_last":
        return keras.ops.conv(x, kernel, padding="same")
    y = keras.ops.conv(keras.ops.transpose(x, (0, 2, 1)), kernel, padding="same")
    return keras.ops.transpose(y, (0, 2, 1))


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- ICNR
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_icnr_phases_are_identical(mode):
    w = to_numpy(ICNR(4, mode=mode, seed=1)((3, 5, 8)))
    phases = w.reshape(3, 5, 4, 2) if mode == "DCR" else w.reshape(3, 5, 2, 4)
    phases = phases if mode == "DCR" else np.moveaxis(phases, 3, 2)
    for i in range(1, 4):
        np.testing.assert_array_equal(phases[:, :, i], phases[:, :, 0])
    assert np.std(phases[:, :, 0]) > 0


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_icnr_subpixel_equals_nearest_after_conv(mode):
    """At init every phase has the same filter: the layer is nearest upsampling of a conv."""
    layer = SubpixelConv1D(2, 3, kernel_size=5, mode=mode)
    x = to_backend(signal(20, 4, "channels_last"))
    y = to_numpy(layer(x))
    base = keras.ops.conv(x, to_numpy(layer.kernel)[..., :2] if mode == "DCR"
                          else to_numpy(layer.kernel)[..., ::3], padding="same")
    np.testing.assert_allclose(y, to_numpy(upsample_nearest_1d(base, 3)), rtol=1e-6, atol=1e-6)


def test_icnr_serializes_and_rejects_bad_shapes():
    init = ICNR(2, initializer="he_normal", mode="crd", seed=3)
    clone = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert isinstance(clone, ICNR) and clone.get_config() == init.get_config()
    np.testing.assert_array_equal(to_numpy(clone((2, 3, 4))), to_numpy(init((2, 3, 4))))
    with pytest.raises(ValueError, match=r"ICNR\(factor=2\).*multiple of factor.*\(3, 4, 5\)"):
        init((3, 4, 5))
    with pytest.raises(ValueError, match="factor=0"):
        ICNR(0)


# ----------------------------------------------------------------------------- subpixel
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_subpixel_conv_is_conv_then_shuffle(data_format, mode):
    layer = SubpixelConv1D(3, 2, kernel_size=3, mode=mode, data_format=data_format,
                           use_bias=True, kernel_initializer="glorot_uniform",
                           bias_initializer="random_normal")
    x = to_backend(signal(9, 4, data_format))
    y = layer(x)
    conv = conv_same(x, layer.kernel, data_format)
    bias = layer.bias if data_format == "channels_last" else keras.ops.reshape(layer.bias,
                                                                                (1, -1, 1))
    expected = depth_to_space_1d(conv + bias, 2, data_format, mode)
    np.testing.assert_array_equal(to_numpy(y), to_numpy(expected))
    assert layer.compute_output_shape(x.shape) == tuple(y.shape)


# ----------------------------------------------------------------------------- transposed
def reference_names():
    return [name for name in ("numpy", "torch", "tensorflow", "jax") if has_module(name)]


@pytest.mark.parametrize(("factor", "kernel_size", "data_format", "implementation"), sampled_grid(
    [(f, k, df, i) for f, k in TRANSPOSED_CASES for df in FORMATS
     for i in ("polyphase", "native")], every=2))
def test_transposed_matches_native(factor, kernel_size, data_format, implementation):
    """Against loops in float64, torch ConvTranspose1d, tf.nn.conv1d_transpose and
    lax.conv_transpose (each installed one), same weights, within 1e-5 relative."""
    layer = quiet(TransposedConvUpsample1D, 5, factor, kernel_size=kernel_size,
                  implementation=implementation, data_format=data_format)
    x = signal(11, 3, data_format)
    got = to_numpy(layer(to_backend(x)))
    kernel = to_numpy(layer.kernel)
    for name in reference_names():
        if name == "tensorflow" and factor == 1 and kernel_size % 2 == 0:
            continue  # TF's SAME crops an even kernel at stride 1 on the other side
        expected = backends.load(name).conv_transpose_1d(
            x.astype(np.float64) if name == "numpy" else x, kernel, factor, data_format)
        assert_close(got, expected, 1e-5)


@pytest.mark.parametrize("data_format", FORMATS)
def test_transposed_matches_keras_conv1d_transpose(data_format):
    for factor, kernel_size in [(2, 4), (4, 4), (4, 8), (3, 9)]:
        layer = TransposedConvUpsample1D(6, factor, kernel_size=kernel_size, use_bias=True,
                                         data_format=data_format,
                                         bias_initializer="random_normal")
        # Keras' layer runs channels_last: TF's CPU kernels cannot run its NCW form.
        native = keras.layers.Conv1DTranspose(6, kernel_size, strides=factor, padding="same")
        x_last = signal(10, 3, "channels_last")
        x = to_backend(x_last if data_format == "channels_last" else np.swapaxes(x_last, 1, 2))
        native.build(x_last.shape)
        layer.build(x.shape)
        native.set_weights(layer.get_weights())
        expected = to_numpy(native(to_backend(x_last)))
        if data_format == "channels_first":
            expected = np.swapaxes(expected, 1, 2)
        assert_close(to_numpy(layer(x)), expected, 1e-5)


@pytest.mark.parametrize(("data_format", "implementation"),
                         [("channels_first", "polyphase"), ("channels_last", "native")])
def test_transposed_inference_follows_every_weight_change(data_format, implementation):
    """In inference (no gradient recording) torch keeps the kernel it made from the weight
    between calls (_backend.derived_kernel): a kernel written by set_weights, or in place as
    an optimizer does, must give the new output at once; calls in between the same output."""
    layer = TransposedConvUpsample1D(4, 2, implementation=implementation,
                                     data_format=data_format)
    x = to_backend(signal(9, 3, data_format))
    layer.build(x.shape)
    rng = np.random.default_rng(1)

    def expected():
        kernel = to_numpy(layer.kernel).astype(np.float64)
        return backends.load("numpy").conv_transpose_1d(
            to_numpy(x).astype(np.float64), kernel, 2, data_format)

    with _backend.inference():
        first = to_numpy(layer(x))
        np.testing.assert_array_equal(to_numpy(layer(x)), first)
        assert_close(first, expected(), 1e-5)
        layer.set_weights([rng.normal(size=layer.kernel.shape).astype("float32")])
        assert_close(to_numpy(layer(x)), expected(), 1e-5)
        layer.kernel.assign(layer.kernel * 2.0)
        assert_close(to_numpy(layer(x)), expected(), 1e-5)
        if keras.backend.backend() == "torch":  # writes that move no version counter
            import torch

            kernel = layer.kernel.value
            kernel.grad = torch.ones_like(kernel)
            torch.optim.Adam([kernel], lr=0.5, fused=True).step()
            assert_close(to_numpy(layer(x)), expected(), 1e-5)
            kernel.data = kernel.data * 3.0  # a new tensor behind the same parameter
            assert_close(to_numpy(layer(x)), expected(), 1e-5)


@pytest.mark.parametrize("factor", [2, pytest.param(3, marks=pytest.mark.slow), 4,
                                    pytest.param(5, marks=pytest.mark.slow)])
def test_torch_recipe_for_the_alignment(factor):
    """torch.nn.ConvTranspose1d(padding=(K - r) // 2) then its first T * r samples: the recipe
    the TransposedConvUpsample1D docstring gives (torch returns one sample more when K - r is
    odd, and output_padding cannot remove it)."""
    torch = pytest.importorskip("torch")
    time = 11
    x = signal(time, 3, "channels_first")
    for kernel_size in range(factor, 3 * factor + 1):
        layer = quiet(TransposedConvUpsample1D, 2, factor, kernel_size=kernel_size,
                      data_format="channels_first")
        y = to_numpy(layer(to_backend(x)))
        conv = torch.nn.ConvTranspose1d(3, 2, kernel_size, stride=factor,
                                        padding=(kernel_size - factor) // 2, bias=False)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.transpose(to_numpy(layer.kernel), (2, 1, 0))))
            full = conv(torch.from_numpy(x)).numpy()
        assert full.shape[2] == time * factor + (kernel_size - factor) % 2
        assert_close(y, full[:, :, :time * factor], 1e-5)


def test_partial_overlap_warns_and_bad_arguments_fail():
    with pytest.warns(UserWarning, match="kernel_size=3 is not a multiple of factor=2"):
        TransposedConvUpsample1D(4, 2, kernel_size=3)
    with pytest.raises(ValueError, match=r"`kernel_size` \(2\) must be at least factor=4"):
        TransposedConvUpsample1D(4, 4, kernel_size=2)
    with pytest.raises(ValueError, match="overlap='partial'"):
        TransposedConvUpsample1D(4, 2, overlap="partial")
    with pytest.raises(ValueError, match="implementation='cudnn'"):
        TransposedConvUpsample1D(4, 2, implementation="cudnn")
    assert TransposedConvUpsample1D(4, 3, overlap="none").kernel_size == 3
    assert TransposedConvUpsample1D(4, 3).kernel_size == 6


# ----------------------------------------------------------------------------- conversion
@pytest.mark.parametrize(("factor", "kernel_size", "use_bias"), sampled_grid(
    [(f, k, b) for f, k in TRANSPOSED_CASES for b in (False, True)], every=2))
def test_conversion_both_ways_keeps_outputs(factor, kernel_size, use_bias):
    transposed = quiet(TransposedConvUpsample1D, 4, factor, kernel_size=kernel_size,
                       use_bias=use_bias, bias_initializer="random_normal")
    x = to_backend(signal(9, 3, "channels_last"))
    y = to_numpy(transposed(x))
    subpixel = convert.to_subpixel(transposed)
    assert subpixel.kernel_size == convert.subpixel_kernel_size(kernel_size, factor)
    assert_close(to_numpy(subpixel(x)), y, 1e-5)
    back = convert.to_transposed(subpixel)
    assert_close(to_numpy(back(x)), y, 1e-5)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize(("factor", "kernel_size"), [(2, 1), (4, 1), (4, 2), (4, 3), (3, 2)])
def test_kernel_shorter_than_factor_converts_exactly(factor, kernel_size, mode):
    """Keras crops a "same" transposed conv by max(K - r, 0) // 2: with K < r it crops
    nothing (it pads the end). The re-indexed kernel was one output sample early there."""
    rng = np.random.default_rng(kernel_size)
    kernel = rng.normal(size=(kernel_size, 3, 2)).astype("float32")
    x = rng.normal(size=(1, 7, 2)).astype("float32")
    native = keras.layers.Conv1DTranspose(3, kernel_size, strides=factor, padding="same",
                                          use_bias=False)
    native.build((None, 7, 2))
    native.kernel.assign(kernel)
    subpixel = convert.transposed_to_subpixel_kernel(to_backend(kernel), factor, mode)
    assert subpixel.shape[0] == convert.subpixel_kernel_size(kernel_size, factor)
    y = depth_to_space_1d(keras.ops.conv(to_backend(x), subpixel, padding="same"), factor,
                          mode=mode)
    np.testing.assert_allclose(to_numpy(y), to_numpy(native(to_backend(x))), atol=1e-5)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4])
def test_subpixel_to_transposed(kernel_size, mode):
    subpixel = SubpixelConv1D(3, 4, kernel_size=kernel_size, mode=mode,
                              kernel_initializer="glorot_uniform")
    x = to_backend(signal(8, 2, "channels_last"))
    y = to_numpy(subpixel(x))
    transposed = convert.to_transposed(subpixel, implementation="native")
    assert transposed.kernel_size == 4 * (kernel_size + (kernel_size % 2 == 0))
    assert_close(to_numpy(transposed(x)), y, 1e-5)


def test_conversion_refuses_phase_dependent_bias():
    subpixel = SubpixelConv1D(2, 2, use_bias=True, bias_initializer="random_normal")
    subpixel.build((None, None, 3))
    with pytest.raises(ValueError, match="bias that differs between phases"):
        convert.to_transposed(subpixel)


# ----------------------------------------------------------------------------- interpolation
@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(("method", "op"), [("nearest", upsample_nearest_1d),
                                            ("linear", upsample_linear_1d),
                                            ("sinc", upsample_sinc_1d)])
def test_interpolation_layer_is_interpolation_then_conv(method, op, data_format):
    layer = InterpolationUpsample1D(4, 2, method=method, kernel_size=5, data_format=data_format)
    x = to_backend(signal(16, 3, data_format))
    y = to_numpy(layer(x))
    expected = conv_same(op(x, 2, data_format), layer.kernel, data_format)
    np.testing.assert_allclose(y, to_numpy(expected), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- Upsample1D
@pytest.mark.parametrize("method", ["subpixel", "transposed", "nearest", "linear", "sinc"])
def test_upsample1d_by_name_round_trips(method, tmp_path):
    inputs = keras.Input((None, 3))
    outputs = Upsample1D(4, 2, method=method, use_bias=True)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.layers[-1].get_config()
    assert config["method"] == method and config["filters"] == 4 and config["factor"] == 2
    x = signal(12, 3, "channels_last")
    expected = model.predict(x, verbose=0)
    assert expected.shape == (2, 24, 4)
    path = tmp_path / f"{method}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    restored = Upsample1D.from_config(config)
    assert restored.get_config() == config


def test_upsample1d_errors():
    with pytest.raises(ValueError, match=r"'subpixel'.*'sinc'.*method='bicubic'"):
        Upsample1D(4, 2, method="bicubic")
    with pytest.raises(ValueError, match="filters=0"):
        Upsample1D(0, 2)
    with pytest.raises(ValueError, match="factor=-1"):
        Upsample1D(4, -1, method="nearest")
    with pytest.raises(TypeError, match="factor"):
        Upsample1D(4, 1.5, method="transposed")
    with pytest.raises(ValueError, match=r"'linear'.*method='cubic'"):
        InterpolationUpsample1D(4, 2, method="cubic")


def test_learned_layers_need_known_channels():
    for layer in (SubpixelConv1D(2, 2), TransposedConvUpsample1D(2, 2),
                  InterpolationUpsample1D(2, 2)):
        with pytest.raises(ValueError, match="known channel dimension"):
            layer.build((None, None, None))
