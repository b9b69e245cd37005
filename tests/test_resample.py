"""Resampling by any rational ratio (issue 20): ``resample_1d`` and ``Resample1D`` against
``scipy.signal.resample_poly`` (the ``"poly"`` quality, zero edges), integer ratios against the
sinc ops (bit for bit), edges against NumPy's padding, gradients against finite differences
(float64), the presets' filters against their published parameters, and the errors."""

import importlib.util
import math

import keras
import numpy as np
import pytest
from conftest import BACKEND, compile_fn, to_backend, to_numpy, vjp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from upsample1d import filters
from upsample1d.layers import Resample1D
from upsample1d.ops import downsample_sinc_1d, resample_1d, upsample_sinc_1d

FORMATS = ("channels_last", "channels_first")
# the grid: 1/2, 2/1, 2/3, 3/2, 48 -> 44.1 kHz, 44.1 -> 48 kHz, 44.1 -> 8 kHz
RATIOS = [(1, 2), (2, 1), (2, 3), (3, 2), (147, 160), (160, 147), (80, 441)]
LENGTHS = (1, 2, 7, 64, 101)


def _signal(time, data_format="channels_last", channels=2, batch=2, seed=0, dtype="float32"):
    x = np.random.default_rng(seed).normal(size=(batch, time, channels)).astype(dtype)
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()


def _relative(got, expected):
    assert got.shape == expected.shape, (got.shape, expected.shape)
    return np.abs(got - expected).max(initial=0) / max(np.abs(expected).max(initial=0), 1e-30)


def _poly(x, up, down, data_format):
    axis = 1 if data_format == "channels_last" else 2
    return resample_poly(np.asarray(x, np.float64), up, down, axis=axis)


@pytest.mark.parametrize("data_format", FORMATS)
@pytest.mark.parametrize(("up", "down"), RATIOS)
def test_poly_equals_scipy_resample_poly(up, down, data_format):
    for time in LENGTHS:
        x = _signal(time, data_format, seed=time)
        got = to_numpy(resample_1d(to_backend(x), up, down, data_format=data_format))
        assert _relative(got, _poly(x, up, down, data_format)) <= 1e-6, (up, down, time)


@settings(max_examples=20, deadline=None)
@given(up=st.integers(1, 200), down=st.integers(1, 200), time=st.integers(1, 90))
def test_poly_equals_scipy_for_random_ratios(up, down, time):
    divisor = math.gcd(up, down)
    x = _signal(time, seed=up * 1000 + down)
    got = to_numpy(resample_1d(to_backend(x), up, down))
    expected = _poly(x, up // divisor, down // divisor, "channels_last")
    assert _relative(got, expected) <= 1e-6


def test_rates_are_reduced_by_their_gcd():
    x = _signal(960)
    a = to_numpy(resample_1d(to_backend(x), 44100, 48000))
    b = to_numpy(resample_1d(to_backend(x), 147, 160))
    assert a.shape == (2, 882, 2) and np.array_equal(a, b)
    assert to_numpy(resample_1d(to_backend(x), 5, 5)).tolist() == x.tolist()


@pytest.mark.parametrize("factor", (2, 3, 4))
def test_integer_ratios_are_the_sinc_ops_exactly(factor):
    x = to_backend(_signal(37))
    assert np.array_equal(to_numpy(resample_1d(x, factor)), to_numpy(upsample_sinc_1d(x, factor)))
    assert np.array_equal(to_numpy(resample_1d(x, 1, factor)),
                          to_numpy(downsample_sinc_1d(x, factor)))
    assert np.array_equal(to_numpy(resample_1d(x, 2 * factor, 2)),
                          to_numpy(upsample_sinc_1d(x, factor)))


@pytest.mark.parametrize("edge", ("replicate", "reflect"))
@pytest.mark.parametrize(("up", "down"), [(2, 3), (3, 1), (1, 3), (147, 160)])
def test_edges_equal_numpy_padding_then_resample_poly(edge, up, down):
    """The input extended by numpy.pad (mode "edge" or "reflect") far enough that the filter
    never reads past it, resampled by resample_poly, and the output's matching part."""
    time = 50
    x = _signal(time, seed=3)
    reach = 10 * max(up, down) // up + 2
    extra = -(-reach // down) * down  # whole blocks of `down`: an integer output offset
    mode = {"replicate": "edge", "reflect": "reflect"}[edge]
    padded = np.pad(x.astype(np.float64), ((0, 0), (extra, extra), (0, 0)), mode=mode)
    offset = extra * up // down
    expected = resample_poly(padded, up, down, axis=1)[:, offset:offset + -(-time * up // down)]
    got = to_numpy(resample_1d(to_backend(x), up, down, edge=edge))
    assert _relative(got, expected) <= 1e-6


@pytest.mark.parametrize("quality", sorted(filters.RESAMPLE_PRESETS))
def test_every_quality_runs_and_keeps_a_constant(quality):
    """DC passes every preset with unit gain (to its phases' ripple) away from the zero
    edges, through the general path and the integer ones."""
    x = np.ones((1, 4000, 1), np.float32)
    for up, down in ((147, 160), (2, 1), (1, 2)):
        y = to_numpy(resample_1d(to_backend(x), up, down, quality=quality))
        middle = y[0, y.shape[1] // 3: 2 * y.shape[1] // 3, 0]
        assert np.abs(middle - 1).max() < 1e-3, (quality, up, down)


def test_the_presets_are_their_published_numbers():
    zeros, rolloff, beta = filters.RESAMPLE_PRESETS["poly"]
    assert (zeros, rolloff, beta) == (10, 1.0, 5.0)
    from scipy.signal import firwin

    for up, down in ((3, 2), (2, 5), (147, 160)):
        half = 10 * max(up, down)
        expected = firwin(2 * half + 1, 1 / max(up, down), window=("kaiser", 5.0)) * up
        np.testing.assert_allclose(filters.resample_prototype(up, down, 10, 1.0, 5.0),
                                   expected, rtol=0, atol=1e-13)
    assert filters.RESAMPLE_PRESETS["kaiser_best"][:2] == (50, 0.9173473712608761)
    assert filters.RESAMPLE_PRESETS["kaiser_fast"][:2] == (24, 0.8682120388377784)


@pytest.mark.skipif(BACKEND == "jax", reason="finite differences need float64; JAX holds it "
                    "as float32 unless jax_enable_x64 is set")
@pytest.mark.parametrize(("up", "down", "edge"), [(3, 2, "zeros"), (2, 5, "replicate"),
                                                   (5, 3, "reflect")])
def test_gradients_equal_finite_differences(up, down, edge):
    x = _signal(23, channels=1, batch=1, seed=4, dtype="float64")
    out_time = -(-23 * up // down)
    cotangent = np.random.default_rng(5).normal(size=(1, out_time, 1))

    def loss(v):
        return float(np.sum(to_numpy(resample_1d(to_backend(v), up, down, edge=edge))
                            * cotangent))

    grad = to_numpy(vjp(lambda v: resample_1d(v, up, down, edge=edge), to_backend(x),
                        to_backend(cotangent)))
    step = 1e-6
    numeric = np.zeros_like(x)
    for t in range(23):
        plus, minus = x.copy(), x.copy()
        plus[0, t, 0] += step
        minus[0, t, 0] -= step
        numeric[0, t, 0] = (loss(plus) - loss(minus)) / (2 * step)
    assert np.abs(grad - numeric).max() <= 1e-7 * max(np.abs(numeric).max(), 1)


def test_compiled_equals_eager():
    x = to_backend(_signal(80))
    fn = lambda v: resample_1d(v, 147, 160, quality="kaiser_fast")  # noqa: E731
    np.testing.assert_allclose(to_numpy(compile_fn(fn, "aot_eager")(x)), to_numpy(fn(x)),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", ("float16", "bfloat16", "float64"))
def test_other_float_dtypes_keep_their_dtype(dtype):
    if dtype == "float64" and BACKEND == "jax":
        pytest.skip("JAX holds float64 as float32 unless jax_enable_x64 is set")
    x = keras.ops.cast(to_backend(_signal(40)), dtype)
    y = resample_1d(x, 3, 2)
    assert keras.backend.standardize_dtype(y.dtype) == dtype
    expected = _poly(_signal(40), 3, 2, "channels_last")
    assert _relative(to_numpy(keras.ops.cast(y, "float32")), expected) <= 3e-2


def test_empty_time_and_symbolic_shapes():
    assert to_numpy(resample_1d(to_backend(np.zeros((2, 0, 3), np.float32)), 3, 2)).shape == \
        (2, 0, 3)
    assert resample_1d(keras.Input((None, 3)), 3, 2).shape == (None, None, 3)
    assert resample_1d(keras.Input((101, 3)), 3, 2).shape == (None, 152, 3)
    assert resample_1d(keras.Input((3, 101)), 3, 2, data_format="channels_first").shape == \
        (None, 3, 152)


# --- the layer --------------------------------------------------------------------------------

@pytest.mark.parametrize("data_format", FORMATS)
def test_layer_equals_the_op_and_round_trips(data_format, tmp_path):
    layer = Resample1D(44100, 48000, quality="KAISER_FAST", edge="Replicate",
                       data_format=data_format)
    assert (layer.up, layer.down, layer.quality, layer.edge) == (147, 160, "kaiser_fast",
                                                                  "replicate")
    x = _signal(320, data_format)
    expected = to_numpy(resample_1d(to_backend(x), 147, 160, "kaiser_fast", edge="replicate",
                                    data_format=data_format))
    np.testing.assert_array_equal(to_numpy(layer(to_backend(x))), expected)
    shape = (320, 2) if data_format == "channels_last" else (2, 320)
    inputs = keras.Input(shape)
    model = keras.Model(inputs, Resample1D(44100, 48000, quality="kaiser_fast",
                                           edge="replicate", data_format=data_format)(inputs))
    assert model.output_shape == ((None, 294, 2) if data_format == "channels_last" else
                                  (None, 2, 294))
    path = tmp_path / "resample.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-7)
    assert Resample1D.from_config(layer.get_config()).get_config() == layer.get_config()


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda x: resample_1d(x, 0, 2), ValueError, r"`up` must be a positive int, got up=0"),
    (lambda x: resample_1d(x, 2.5, 2), TypeError, r"`up` must be a positive int, got 2\.5"),
    (lambda x: resample_1d(x, 3, -1), ValueError, r"`down` must be a positive int"),
    (lambda x: resample_1d(x, 3, 2, quality="best"), ValueError,
     r"`quality` must be one of .*quality='best'"),
    (lambda x: resample_1d(x, 3, 2, rolloff=1.5), ValueError, r"`rolloff` .*rolloff=1\.5"),
    (lambda x: resample_1d(x, 3, 2, zero_crossings=0), ValueError, r"`zero_crossings`"),
    (lambda x: resample_1d(x, 3, 2, edge="wrap"), ValueError, r"`edge` .*edge='wrap'"),
    (lambda x: resample_1d(x, 99991, 99989), ValueError,
     r"up=99991, down=99989 .* bank of \d+ x 99991 taps, [\d.]+ GiB"),
    (lambda x: resample_1d(keras.ops.cast(x, "int32"), 3, 2), TypeError,
     r"resample_1d needs a floating-point input, got dtype int32"),
    (lambda x: Resample1D(3, 2, quality="nope"), ValueError, r"`quality`"),
])
def test_bad_arguments_name_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call(to_backend(_signal(10)))


# --- quality: the measurement and the presets' goal --------------------------------------------

def _rows(fn):
    return lambda x: np.stack([fn(row) for row in x])


def test_measure_resampler_reads_a_known_resampler():
    """resample_poly at 2/1: its cutoff sits at the input Nyquist, so a tone next to it keeps
    a strong image just above (the worst spur of the sweep), while below 0.8 of the band its
    Kaiser(5) filter leaves the images 40 dB down or more; the identity is perfect."""
    from upsample1d.artifacts import measure_resampler

    report = measure_resampler(lambda x: resample_poly(x, 2, 1, axis=-1), 8000, 16000,
                               tones=96, window=4096)  # tones 40 Hz apart: the -3 dB point
    assert -25 < report.aliasing_db < -3
    assert report.spur_db[report.tones_hz < 3200].max() < -40
    assert report.passband_ripple_db < 0.7 and 3600 < report.cutoff_hz < 4000
    identity = measure_resampler(lambda x: x, 8000, 8000, tones=12, window=2048)
    assert identity.aliasing_db < -200 and identity.passband_ripple_db < 1e-9
    with pytest.raises(ValueError, match=r"`resample` must map"):
        measure_resampler(lambda x: x[:, :10], 8000, 16000, tones=4, window=1024)
    with pytest.raises(ValueError, match=r"`orig_rate` must be a positive number"):
        measure_resampler(lambda x: x, 0, 16000)
    with pytest.raises(ValueError, match=r"`passband` must be in \(0, 1\].*passband=1\.5"):
        measure_resampler(lambda x: x, 8000, 8000, passband=1.5)
    with pytest.raises(ValueError, match=r"`window` \(1024 output samples\) is too short for "
                                         r"8000 -> 160000 Hz.*window >= \d+"):
        measure_resampler(lambda x: x, 8000, 160000, window=1024)


@pytest.mark.skipif(BACKEND == "jax", reason="the presets' depths need float64; JAX holds it "
                    "as float32 unless jax_enable_x64 is set")
@pytest.mark.skipif(importlib.util.find_spec("soxr") is None,
                    reason="soxr is not installed (the bench extra)")
def test_hq_and_vhq_are_as_clean_as_soxr():
    """The goal of the presets, on 48 -> 44.1 kHz: "hq" aliases no more than soxr HQ, "vhq"
    no more than soxr VHQ, and both keep a flat band at least as wide (0.9 of Nyquist)."""
    import soxr

    from upsample1d.artifacts import measure_resampler

    def ours(quality):
        return lambda x: to_numpy(resample_1d(to_backend(x[..., None]), 44100, 48000,
                                              quality))[..., 0]

    options = {"tones": 48, "window": 8192}
    for quality, theirs in (("hq", "HQ"), ("vhq", "VHQ")):
        mine = measure_resampler(ours(quality), 48000, 44100, **options)
        soxr_report = measure_resampler(
            _rows(lambda row, q=theirs: soxr.resample(row, 48000, 44100, q)), 48000, 44100,
            **options)
        assert mine.aliasing_db <= soxr_report.aliasing_db, quality
        assert mine.passband_ripple_db <= 1e-3


@pytest.mark.parametrize(("up", "down"), [(147, 160), (160, 147), (3, 2)])
def test_a_nan_reaches_the_outputs_the_docstring_gives(up, down):
    """resample_1d's docstring: one inf input sample makes NaN up to ``up * ceil(taps /
    down)`` outputs (every output of each block whose window holds it), a contiguous run;
    every other output stays finite. 147 at 147/160, as the README says."""
    half = 10 * max(up, down)
    _, taps = filters.rational_geometry(2 * half + 1, half, up, down)
    x = np.zeros((1, 4000, 1), np.float32)
    x[0, 2000, 0] = np.inf
    y = to_numpy(resample_1d(to_backend(x), up, down))[0, :, 0]
    bad = np.flatnonzero(~np.isfinite(y))
    assert 0 < len(bad) <= up * -(-taps // down)
    assert bad[-1] - bad[0] + 1 == len(bad)
    if (up, down) == (147, 160):
        assert len(bad) == 147
