"""The mel front end (upsample1d.mel) against BigVGAN's ``meldataset.mel_spectrogram`` (torch
STFT, librosa's filters): ``max |ours - official| <= 1e-5 * max |official|`` on real-looking
audio (harmonic tones plus noise made in code, and a recording made with sox or espeak-ng
where those are installed)."""

import shutil
import subprocess

import keras
import numpy as np
import pytest
from conftest import BACKEND

from upsample1d.audio import synthetic_audio
from upsample1d.mel import MelSpectrogram, bigvgan_mel, hann_window, mel_filters, mel_spectrogram

RELATIVE = 1e-5
# (sampling_rate, n_fft, num_mels, hop_size, win_size, fmin, fmax) of the published configs,
# and one with a window shorter than the FFT and an odd n_fft - hop_size
SETTINGS = {
    "24khz_100band": (24000, 1024, 100, 256, 1024, 0, None),
    "44khz_128band": (44100, 2048, 128, 512, 2048, 0, None),
    "22khz_80band": (22050, 1024, 80, 256, 1024, 0, 8000),
    "short_window": (16000, 512, 40, 160, 400, 50, 7000),
}


def official(audio, settings):
    torch = pytest.importorskip("torch")
    meldataset = pytest.importorskip("bigvgan.meldataset")
    sr, n_fft, mels, hop, win, fmin, fmax = settings
    return meldataset.mel_spectrogram(torch.from_numpy(audio), n_fft, mels, sr, hop, win,
                                      fmin, fmax).numpy()


def ours(audio, settings, data_format="channels_first"):
    sr, n_fft, mels, hop, win, fmin, fmax = settings
    y = mel_spectrogram(audio, n_fft, mels, sr, hop, win, fmin, fmax, data_format=data_format)
    return np.asarray(keras.ops.convert_to_numpy(y))


def relative_error(got, expected):
    return float(np.abs(got - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize("name", SETTINGS)
def test_filters_equal_librosa(name):
    librosa = pytest.importorskip("librosa")
    sr, n_fft, mels, _, _, fmin, fmax = SETTINGS[name]
    expected = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=mels, fmin=fmin, fmax=fmax)
    np.testing.assert_array_equal(mel_filters(sr, n_fft, mels, fmin, fmax), expected)


def test_window_equals_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(hann_window(1024), torch.hann_window(1024).numpy(), rtol=0,
                               atol=6e-8)  # one float32 ulp of 0.5 .. 1
    padded = hann_window(400, 512)
    assert padded.shape == (512,) and padded[:56].max() == 0 and padded[456:].max() == 0


@pytest.mark.parametrize("name", SETTINGS)
def test_parity_on_synthetic_audio(name):
    settings = SETTINGS[name]
    audio = synthetic_audio(2, settings[3] * 30 + 7, settings[0], seed=4)[..., 0]
    expected = official(audio, settings)
    got = ours(audio, settings)
    assert got.shape == expected.shape
    assert relative_error(got, expected) <= RELATIVE


def test_parity_on_a_recording(tmp_path):
    """A file made by sox (a plucked chord with noise) or espeak-ng (speech), when installed."""
    soundfile = pytest.importorskip("soundfile")
    path = tmp_path / "recording.wav"
    if shutil.which("sox"):
        command = ["sox", "-n", "-r", "24000", "-b", "16", str(path), "synth", "1.5",
                   "pluck", "C3", "pluck", "E3", "pluck", "G3", "whitenoise", "remix", "-",
                   "gain", "-n", "-3"]
    elif shutil.which("espeak-ng"):
        command = ["espeak-ng", "-w", str(path), "upsampling one dimension at a time"]
    else:
        pytest.skip("neither sox nor espeak-ng is installed (apt-get install sox)")
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)[None]
    settings = (rate, 1024, 100, 256, 1024, 0, None)
    expected = official(audio, settings)
    assert relative_error(ours(audio, settings), expected) <= RELATIVE


def test_layouts_and_ranks():
    settings = SETTINGS["24khz_100band"]
    audio = synthetic_audio(2, 256 * 12, 24000, seed=1)[..., 0]
    first = ours(audio, settings)
    assert first.shape == (2, 100, 12)
    np.testing.assert_array_equal(ours(audio[:, :, None], settings, "channels_last"),
                                  np.transpose(first, (0, 2, 1)))
    np.testing.assert_array_equal(ours(audio[:, None, :], settings, "channels_first"), first)


def test_layer_symbolic_and_serialized(tmp_path):
    layer = MelSpectrogram(1024, 100, 24000, 256, 1024, data_format="channels_first")
    inputs = keras.Input((None,))
    assert layer(inputs).shape == (None, 100, None)
    assert MelSpectrogram(1024, 100, 24000, 256, 1024)(keras.Input((2560, 1))).shape == (
        None, 10, 100)
    model = keras.Model(inputs, layer(inputs))
    path = tmp_path / "mel.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    audio = synthetic_audio(1, 2560, 24000)[..., 0]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(audio)),
                               keras.ops.convert_to_numpy(model(audio)), rtol=0, atol=0)


def test_from_a_bigvgan_config():
    layer = bigvgan_mel({"n_fft": 1024, "num_mels": 80, "sampling_rate": 22050,
                         "hop_size": 256, "win_size": 1024, "fmin": 0, "fmax": 8000},
                        data_format="channels_first")
    assert layer.get_config()["fmax"] == 8000
    with pytest.raises(ValueError, match="lacks the mel field"):
        bigvgan_mel({"n_fft": 1024})


@pytest.mark.parametrize("arguments, message", [
    ({"fmax": 13000}, "fmax <= sampling_rate / 2"),
    ({"fmin": 9000.0, "fmax": 8000}, "fmin < fmax"),
    ({"win_size": 2048}, "win_size"),
    ({"hop_size": 0}, "hop_size"),
    ({"num_mels": 2.5}, "num_mels"),
])
def test_argument_errors(arguments, message):
    args = {"n_fft": 1024, "num_mels": 80, "sampling_rate": 24000, "hop_size": 256,
            "win_size": 1024, **arguments}
    with pytest.raises((ValueError, TypeError), match=message):
        mel_spectrogram(np.zeros((1, 4096), np.float32), **args)


def test_input_errors():
    with pytest.raises(ValueError, match="at least 385 samples"):
        mel_spectrogram(np.zeros((1, 300), np.float32), 1024, 80, 24000, 256, 1024)
    layer = MelSpectrogram(1024, 80, 24000, 256, 1024)  # the layer called on a short clip
    with pytest.raises(ValueError, match="at least 385 samples .* got 300"):
        layer(np.zeros((1, 300), np.float32))
    with pytest.raises(ValueError, match="one channel"):
        mel_spectrogram(np.zeros((1, 4096, 2), np.float32), 1024, 80, 24000, 256, 1024)
    with pytest.raises(TypeError, match="float32 or float64"):
        mel_spectrogram(np.zeros((1, 4096), np.int32), 1024, 80, 24000, 256, 1024)


@pytest.mark.skipif(BACKEND != "jax", reason="jax.jit")
def test_compiles_under_jit():
    import jax

    audio = synthetic_audio(1, 4096, 24000)[..., 0]
    f = jax.jit(lambda x: mel_spectrogram(x, 1024, 100, 24000, 256, 1024))
    np.testing.assert_allclose(np.asarray(f(audio)),
                               ours(audio, SETTINGS["24khz_100band"], "channels_last"),
                               rtol=0, atol=1e-5)


def _numpy_log_mel(audio, settings):
    """The docstring's formula in float64 NumPy, channels_first."""
    sr, n_fft, mels, hop, win, fmin, fmax = settings
    p = (n_fft - hop) // 2
    padded = np.pad(audio, ((0, 0), (p, p)), mode="reflect")
    frames = 1 + (padded.shape[1] - n_fft) // hop
    index = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None]
    spectrum = np.fft.rfft(padded[:, index] * hann_window(win, n_fft), axis=-1)
    magnitude = np.sqrt(spectrum.real ** 2 + spectrum.imag ** 2 + 1e-9)
    mel = magnitude @ mel_filters(sr, n_fft, mels, fmin, fmax).T
    return np.transpose(np.log(np.maximum(mel, 1e-5)), (0, 2, 1))


@pytest.mark.skipif(BACKEND == "jax" and not __import__("jax").config.jax_enable_x64,
                    reason="JAX holds float64 as float32 unless jax_enable_x64 is set")
def test_float64_stays_float64():
    """Keras' torch ``maximum`` returns float32 for float64 inputs: the clip at 1e-5 made a
    float64 mel float32 (1.4e-7) on torch."""
    settings = SETTINGS["short_window"]
    audio = synthetic_audio(2, 160 * 12, 16000, seed=2)[..., 0].astype(np.float64)
    got = ours(audio, settings)
    assert got.dtype == np.float64
    assert relative_error(got, _numpy_log_mel(audio, settings)) <= 1e-12


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "float16"])
def test_a_16_bit_policy_computes_in_float32(policy):
    """Keras' STFT refuses 16-bit floats: under a 16-bit policy the layer takes and gives
    float32 (it raised), eager and symbolic alike, with the float32 layer's numbers."""
    audio = synthetic_audio(1, 256 * 10, 24000, seed=1)[..., 0]
    arguments = (1024, 100, 24000, 256, 1024)
    layer = MelSpectrogram(*arguments, dtype=policy)
    got = layer(audio)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    assert layer(keras.Input((2560,))).dtype == "float32"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(
        MelSpectrogram(*arguments)(audio)))
