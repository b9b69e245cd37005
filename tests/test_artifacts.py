"""The qualitative claims of Pons et al. (2021), "Upsampling artifacts in neural audio synthesis",
reproduced with :mod:`upsample1d.artifacts` on the active backend (several seeds, margins)."""

import warnings

import keras
import numpy as np
import pytest
from scipy.signal import resample_poly

from upsample1d import artifacts
from upsample1d.layers import (
    InterpolationUpsample1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import upsample_linear_1d, upsample_nearest_1d, upsample_sinc_1d

SEEDS = (0, 1, 2)
SECONDS = 0.5  # 8000 input samples at 16 kHz: fast, and ~60 Welch segments per spectrum
TONE_DB = 15.0  # a tone stands at least this far above its floor
NO_TONE_DB = 3.0  # "within 3 dB of the floor"


def measure(upsampler, **kw):
    kw.setdefault("seconds", SECONDS)
    return artifacts.measure(upsampler, **kw)


def transposed(seed, overlap=None, kernel_size=None, initializer="glorot_uniform", c_in=4):
    keras.utils.set_random_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # partial overlap warns, on purpose
        layer = TransposedConvUpsample1D(2, 4, overlap=overlap or "full", kernel_size=kernel_size,
                                         kernel_initializer=initializer)
    layer.build((None, None, c_in))
    return layer


def subpixel(seed, initializer=None, c_in=4):
    keras.utils.set_random_seed(seed)
    layer = SubpixelConv1D(2, 4, kernel_size=3, kernel_initializer=initializer)
    layer.build((None, None, c_in))
    return layer


OVERLAPS = {"none": ("none", None), "full": ("full", None), "partial": ("full", 6)}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("overlap", OVERLAPS)
def test_transposed_random_init_has_tones(overlap, seed):
    report = measure(transposed(seed, *OVERLAPS[overlap]), signal="ones", seed=seed)
    assert report.tonal_db > TONE_DB, report.summary()


def test_transposed_all_ones_partial_overlap_tones_full_overlap_none():
    for seed in SEEDS:
        full = measure(transposed(seed, "full", initializer="ones"), signal="ones", seed=seed)
        none = measure(transposed(seed, "none", initializer="ones"), signal="ones", seed=seed)
        partial = measure(transposed(seed, "full", 6, initializer="ones"), signal="ones",
                          seed=seed)
        assert full.tonal_db < NO_TONE_DB, full.summary()
        assert none.tonal_db < NO_TONE_DB, none.summary()
        assert partial.tonal_db > TONE_DB, partial.summary()


@pytest.mark.parametrize("seed", SEEDS)
def test_subpixel_glorot_has_tones_icnr_has_none(seed):
    glorot = measure(subpixel(seed, "glorot_uniform"), signal="ones", seed=seed)
    icnr = measure(subpixel(seed), signal="ones", seed=seed)
    assert glorot.tonal_db > TONE_DB, glorot.summary()
    assert icnr.tonal_db < NO_TONE_DB, icnr.summary()
    assert artifacts.predicted_tone_level_db(subpixel(seed)) < -200


@pytest.mark.parametrize("signal", ["ones", "noise"])
def test_interpolation_has_no_tones(signal):
    for op in (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d):
        for seed in SEEDS:
            report = measure(op, factor=4, signal=signal, seed=seed)
            assert report.tonal_db < NO_TONE_DB, (op.__name__, report.summary())
    for method in ("nearest", "linear", "sinc"):  # with the learned conv after it, too
        keras.utils.set_random_seed(0)
        layer = InterpolationUpsample1D(2, 4, method=method)
        report = measure(layer, signal=signal, channels=3)
        assert report.tonal_db < NO_TONE_DB, (method, report.summary())


def test_filtering_linear_attenuates_more_than_nearest_sinc_is_flat():
    for seed in SEEDS:
        nearest = measure(upsample_nearest_1d, factor=4, seed=seed)
        linear = measure(upsample_linear_1d, factor=4, seed=seed)
        sinc = measure(upsample_sinc_1d, factor=4, seed=seed)
        # |sinc| vs sinc^2: about 2.4 dB vs 5.2 dB from the low band to the top band.
        assert 1.5 < nearest.filtering_db < 3.5, nearest.summary()
        assert linear.filtering_db > nearest.filtering_db + 2.0, (linear.summary(),
                                                                  nearest.summary())
        assert sinc.droop_db < 1.0, sinc.summary()
        assert sinc.filtering_db < nearest.filtering_db
        # Interpolation images a sine less than zero-stuffing; the sinc hardly at all.
        assert sinc.replica_db < -50 < linear.replica_db < nearest.replica_db < -10


def test_filtering_difference_holds_with_the_same_learned_conv():
    # Same conv kernel after both interpolators: the conv's response cancels in the difference.
    layers = {}
    for method in ("nearest", "linear"):
        keras.utils.set_random_seed(3)
        layers[method] = InterpolationUpsample1D(1, 4, method=method)
        layers[method].build((None, None, 2))
    diff = (measure(layers["linear"]).filtering_db - measure(layers["nearest"]).filtering_db)
    assert diff == pytest.approx(5.22 - 2.41, abs=0.5)


@pytest.mark.parametrize("seed", SEEDS)
def test_bias_or_relu_before_upsampling_creates_dc_replicas(seed):
    layer = transposed(seed, "full", c_in=1)
    plain = measure(layer, signal="noise", seed=seed)
    bias = measure(lambda x: layer(x + 0.25), factor=4, channels=1, signal="noise", seed=seed)
    relu = measure(lambda x: layer(keras.ops.relu(x)), factor=4, channels=1, signal="noise",
                   seed=seed)
    assert plain.tonal_db < 6.0, plain.summary()  # zero-mean noise: no lines, only shaping
    assert bias.tonal_db > TONE_DB, bias.summary()
    assert relu.tonal_db > TONE_DB - 5, relu.summary()
    np.testing.assert_allclose(bias.tone_hz, [16000, 32000])


def test_bias_inside_subpixel_differing_per_phase_is_a_tone_without_input():
    keras.utils.set_random_seed(0)
    layer = SubpixelConv1D(1, 4, kernel_size=3, use_bias=True,
                           bias_initializer=keras.initializers.RandomUniform(-0.3, 0.3))
    layer.build((None, None, 1))
    with_bias = measure(layer, signal="noise")
    layer.bias.assign(np.zeros(4, np.float32))
    without = measure(layer, signal="noise")
    assert with_bias.tonal_db > TONE_DB, with_bias.summary()
    assert without.tonal_db < NO_TONE_DB, without.summary()


@pytest.mark.parametrize("seed", SEEDS)
def test_phase_gains_predict_measured_tone_level(seed):
    candidates = [
        subpixel(seed, "glorot_uniform"),
        transposed(seed, "none"),
        transposed(seed, "full"),
        transposed(seed, "full", 6),
        transposed(seed, "full", 6, initializer="ones"),
    ]
    keras.utils.set_random_seed(seed)
    crd = SubpixelConv1D(3, 4, kernel_size=5, mode="CRD", kernel_initializer="glorot_uniform")
    crd.build((None, None, 2))
    wrapped = Upsample1D(2, 4, method="transposed", overlap="none")
    wrapped.build((None, None, 3))
    candidates += [crd, wrapped]
    for layer in candidates:
        predicted = artifacts.predicted_tone_level_db(layer)
        measured = measure(layer, signal="ones", seed=seed).tone_level_db
        assert measured == pytest.approx(predicted, abs=0.1), type(layer).__name__


def test_phase_gains_closed_forms():
    layer = transposed(0, "full", 6, initializer="ones", c_in=2)
    # factor 4, kernel 6, all ones, 2 input channels: each phase sums 1 or 2 taps per channel.
    gains = artifacts.phase_gains(layer)
    assert sorted(gains.tolist()) == [2.0, 2.0, 4.0, 4.0]
    assert np.allclose(artifacts.phase_gains(transposed(0, "full", initializer="ones")), 8.0)
    icnr = artifacts.phase_gains(subpixel(0))
    assert np.allclose(icnr, icnr[0])
    keras.utils.set_random_seed(0)
    linear = InterpolationUpsample1D(1, 4, method="linear")
    linear.build((None, None, 1))
    assert np.allclose(artifacts.phase_gains(linear), artifacts.phase_gains(linear)[0])
    with pytest.raises(ValueError, match="built"):
        artifacts.phase_gains(SubpixelConv1D(1, 2))
    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(TypeError):
        artifacts.phase_gains(dense)


def test_measure_inputs_and_report():
    report = measure(subpixel(0), signal=np.ones(4000), sample_rate=8000)
    assert report.signal == "array" and report.factor == 4 and report.output_rate == 32000
    assert report.input_channels == 4 and len(report.output) == 16000
    assert set(report.summary()) >= {"tonal_db", "filtering_db", "replica_db", "droop_db"}
    assert report.freqs.shape == report.spectrum_db.shape
    with pytest.raises(ValueError, match="factor"):
        artifacts.measure(lambda x: x)
    with pytest.raises(ValueError, match="signal"):
        artifacts.measure(upsample_nearest_1d, factor=2, signal="pink")
    with pytest.raises(ValueError, match="expected"):
        artifacts.measure(lambda x: upsample_nearest_1d(x, 2), factor=3, seconds=0.1)


def test_plot_spectrograms(tmp_path):
    pytest.importorskip("matplotlib")
    reports = {name: measure(op, factor=2, signal="ones", seconds=0.2)
               for name, op in (("nearest", upsample_nearest_1d), ("linear", upsample_linear_1d),
                                ("sinc", upsample_sinc_1d))}
    path = tmp_path / "grid.png"
    fig = artifacts.plot_spectrograms(reports, path=path, ncols=2)
    assert path.stat().st_size > 1000
    assert len([ax for ax in fig.axes if ax.get_visible()]) >= 3


def zero_stuffing(x):
    """Zero-stuffing by 2: images at full level (0 dB)."""
    stuffed = keras.ops.stack([x, keras.ops.zeros_like(x)], axis=2)
    return keras.ops.reshape(stuffed, (x.shape[0], x.shape[1] * 2, x.shape[2]))


def test_replicas_near_dc_and_nyquist_are_counted():
    """Every image is counted once, wherever it folds: with factor 2 a sine on bin 1 has its
    only image on the bin next to the output Nyquist."""
    assert artifacts.image_bins(16000, 2, 1) == [15999]
    assert artifacts.image_bins(16000, 4, 1000) == [15000, 17000, 31000]
    for sine_hz in (1, 2, 1000):
        report = measure(zero_stuffing, sine_hz=sine_hz)
        assert abs(report.replica_db) < 0.5, (sine_hz, report.replica_db)


def test_measure_refuses_factor_one_and_bad_trim():
    with pytest.raises(ValueError, match="factor >= 2.*factor 1"):
        measure(lambda x: x)
    with pytest.raises(ValueError, match="factor >= 2"):
        measure(upsample_nearest_1d, factor=1)
    with pytest.raises(ValueError, match="trim=-5"):
        measure(upsample_nearest_1d, factor=2, trim=-5)
    with pytest.raises(TypeError, match="trim"):
        measure(upsample_nearest_1d, factor=2, trim=2.5)
    with pytest.raises(ValueError, match=r"`trim` \(9000\)"):
        measure(upsample_nearest_1d, factor=2, trim=9000)
    assert measure(upsample_nearest_1d, factor=2, trim=0).factor == 2


def test_measure_refuses_silence_non_finite_audio_and_a_sine_outside_the_band():
    # silence read +260 dB of "tone" (a line over an empty floor), NaN every level NaN, and
    # sine_hz outside (0, fs / 2) was clamped to the band's edge without a word
    with pytest.raises(ValueError, match="silent .all 16000 samples are 0"):
        artifacts.measure(upsample_nearest_1d, factor=2, signal=np.zeros(16000))
    noisy = np.random.default_rng(0).normal(size=16000)
    noisy[100] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite samples in the 16000"):
        artifacts.measure(upsample_nearest_1d, factor=2, signal=noisy)
    for sine_hz in (0, -1000, 8000, 50000):
        with pytest.raises(ValueError, match=rf"`sine_hz` .* \(8000 Hz\).*sine_hz={sine_hz}"):
            measure(upsample_nearest_1d, factor=2, sine_hz=sine_hz)
    with pytest.raises(TypeError, match="sine_hz=nan"):
        measure(upsample_nearest_1d, factor=2, sine_hz=float("nan"))
    # the band's own edges are fine: 2 Hz apart at 8000 samples
    assert measure(upsample_nearest_1d, factor=2, sine_hz=7996).factor == 2


def test_measure_resampler_keeps_an_image_apart_from_its_tone():
    """A zero-order hold 8 -> 16 kHz: gain cos(pi f / 16k), image sin(pi f / 16k), exactly.
    The top tone, 2 bins from the input Nyquist, had its image counted as itself (gain
    -6.4 dB, spur -253 dB against -3.0 / -3.0): such a tone is left out."""
    report = artifacts.measure_resampler(lambda x: np.repeat(x, 2, axis=-1), 8000, 16000,
                                         tones=24, window=4096)
    expected_gain = 20 * np.log10(np.cos(np.pi * report.tones_hz / 16000))
    expected_image = 20 * np.log10(np.sin(np.pi * report.tones_hz / 16000))
    np.testing.assert_allclose(report.gain_db, expected_gain, atol=0.01)
    low = report.tones_hz > 200  # the lowest images lie beyond the hold's own sidelobes
    np.testing.assert_allclose(report.spur_db[low], expected_image[low], atol=0.01)
    assert report.tones_hz.max() < 8000 - 24 * 16000 / 4096 / 2


def test_measure_resampler_short_windows_when_downsampling():
    """48 -> 12 kHz leaves a wide input band in a short window: the window check let 64-200
    samples through to an IndexError, and 204-249 shifted every gain (+0.075 dB at 210), the
    lobe of the probe sine running past the spectrum. A decimator flat in its passband reads
    0 dB at every window; windows too short for a tone's bins are refused."""
    def decimate(x):
        return resample_poly(x, 1, 4, axis=-1)

    for window in (100, 160):  # no tone fits below 3 kHz, but the sweep runs
        assert artifacts.measure_resampler(decimate, 48000, 12000, tones=40, window=window)
    for window in (210, 256, 4096):  # resample_poly's passband ripple is 0.012 dB
        report = artifacts.measure_resampler(decimate, 48000, 12000, tones=40, window=window)
        low = report.tones_hz < 3000
        assert low.any()
        np.testing.assert_allclose(report.gain_db[low], 0.0, atol=0.02)
    with pytest.raises(ValueError, match="at least 100 output samples.*window=64"):
        artifacts.measure_resampler(decimate, 48000, 12000, tones=8, window=64)


def test_predicted_tone_level_includes_biases():
    """A zero kernel with a bias that differs between phases is a tone by itself."""
    layer = SubpixelConv1D(1, 2, use_bias=True, kernel_initializer="zeros")
    layer.build((None, None, 1))
    layer.bias.assign(np.array([1.0, -1.0], np.float32))
    np.testing.assert_array_equal(artifacts.phase_offsets(layer), [1.0, -1.0])
    measured = measure(layer, signal="ones").tone_level_db
    predicted = artifacts.predicted_tone_level_db(layer)
    assert predicted == pytest.approx(0.0, abs=1e-9)
    assert measured == pytest.approx(predicted, abs=0.1)
