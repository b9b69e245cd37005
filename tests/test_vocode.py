"""``upsample1d vocode`` and its helpers (upsample1d.vocoder): WAV in and out, the sample-rate
check, copy-synthesis through the command on the active backend."""

import json
import wave

import keras
import numpy as np
import pytest
from conftest import BACKEND
from helpers_bigvgan import CONFIGS, reduced, write_checkpoint

from upsample1d import cli, vocoder
from upsample1d.audio import synthetic_audio

pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")


def needs_official():
    pytest.importorskip("torch")
    pytest.importorskip("bigvgan", reason="the official package: bigvgan==2.4.1 (--no-deps)")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint of a reduced official generator (written with torch and bigvgan)."""
    needs_official()
    directory = tmp_path_factory.mktemp("vocode") / "ckpt"
    config = reduced("bigvgan_22khz_80band", channels=64)
    write_checkpoint(str(directory), config, seed=3)
    return str(directory), config


def write_pcm(path, samples, rate, width, channels=1):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.tobytes())


def test_wav_round_trip(tmp_path):
    audio = synthetic_audio(1, 2000, 22050)[0, :, 0]
    vocoder.write_wav(tmp_path / "a.wav", audio, 22050)
    back, rate = vocoder.read_wav(tmp_path / "a.wav")
    assert rate == 22050 and back.dtype == np.float32
    np.testing.assert_allclose(back, audio, atol=2.0 / 32767)  # truncated, read / 32768


@pytest.mark.parametrize("width", [1, 3, 4])
def test_reads_other_widths_and_mixes_channels(tmp_path, width):
    rng = np.random.default_rng(width)
    full = 2 ** (8 * width - 1)
    values = rng.integers(-full // 2, full // 2, size=(300, 2)).astype(np.int64)
    if width == 1:
        raw = (values + 128).astype(np.uint8)
    elif width == 3:
        raw = np.stack([(values >> s) & 0xFF for s in (0, 8, 16)], axis=-1).astype(np.uint8)
    else:
        raw = values.astype(np.int32)
    write_pcm(tmp_path / "x.wav", raw, 8000, width, channels=2)
    audio, rate = vocoder.read_wav(tmp_path / "x.wav")
    assert rate == 8000 and audio.shape == (300,)
    np.testing.assert_allclose(audio, values.mean(axis=1) / full, atol=1e-6)


def test_write_wav_checks_the_rate_before_making_the_file(tmp_path):
    with pytest.raises(ValueError, match="`rate` must be a positive int, got rate=0"):
        vocoder.write_wav(tmp_path / "a.wav", np.zeros(10), 0)
    assert not (tmp_path / "a.wav").exists()


def test_refuses_what_is_not_a_wav(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"not a wav at all")
    with pytest.raises(ValueError, match="cannot read .* as a PCM WAV file"):
        vocoder.read_wav(tmp_path / "x.wav")


def test_rate_is_checked_or_resampled(tmp_path):
    """Another rate is refused, or resampled by resample_1d ("hq"): a tone keeps its
    frequency and level."""
    config = {"sampling_rate": 22050}
    audio = synthetic_audio(1, 16000, 16000)[0, :, 0]
    vocoder.write_wav(tmp_path / "in.wav", audio, 16000)
    with pytest.raises(ValueError, match="is 16000 Hz but the checkpoint expects 22050 Hz: "
                                         "pass --resample"):
        vocoder.read_audio(str(tmp_path / "in.wav"), config, allow_resample=False)
    said = []
    heard, rate = vocoder.read_audio(str(tmp_path / "in.wav"), config, True)
    resampled = vocoder.prepare_audio(heard, rate, config, "in.wav", said.append)
    assert resampled.shape == (22050,) and "in.wav from 16000 Hz to 22050 Hz" in said[0]
    assert "resample_1d" in said[0]
    tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)
    vocoder.write_wav(tmp_path / "tone.wav", tone, 16000)
    out = vocoder.prepare_audio(*vocoder.read_audio(str(tmp_path / "tone.wav"), config, True),
                                config)
    expected = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(22050) / 22050)
    assert np.abs(out - expected)[2000:-2000].max() < 1e-3  # 16-bit WAV in, edges aside


def test_a_resampled_overshoot_is_scaled_and_said():
    """A full-scale square wave overshoots once resampled (Gibbs): scaled back to peak 1."""
    square = np.where(np.arange(4000) % 40 < 20, 1.0, -1.0).astype(np.float32)
    said = []
    out = vocoder.prepare_audio(square, 16000, {"sampling_rate": 22050}, say=said.append)
    assert np.abs(out).max() == pytest.approx(1.0, abs=1e-6)
    assert len(said) == 2 and "the resampled audio peaks at 1." in said[1]
    assert "scaled by 1/" in said[1]
    same = vocoder.prepare_audio(square, 22050, {"sampling_rate": 22050}, say=said.append)
    assert same is square and len(said) == 2  # at the rate and within [-1, 1]: untouched


def test_mel_file_layout(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((80, 7), np.float32))
    assert vocoder.read_mel(tmp_path / "m.npy", 80).shape == (1, 80, 7)
    np.save(tmp_path / "t.npy", np.zeros((7, 80), np.float32))
    with pytest.raises(ValueError, match=r"holds shape \(7, 80\);"):
        vocoder.read_mel(tmp_path / "t.npy", 80)


def slow_on_jax(test):
    """In JAX's slow run only: JAX runs the generator eagerly, op by op (34 s and 16 s)."""
    return pytest.mark.slow(test) if BACKEND == "jax" else test


@slow_on_jax
def test_command_copy_synthesis(tmp_path, checkpoint, capsys):
    directory, config = checkpoint
    audio = synthetic_audio(1, 256 * 10, 22050, seed=2)[0, :, 0]
    vocoder.write_wav(tmp_path / "in.wav", audio, 22050)
    out = tmp_path / "out" / "out.wav"
    assert cli.main(["vocode", "--checkpoint", directory, str(tmp_path / "in.wav"),
                     str(out)]) == 0
    captured = capsys.readouterr()
    assert "real-time factor" in captured.out and "loading the checkpoint" in captured.err
    written, rate = vocoder.read_wav(out)
    assert rate == 22050 and written.shape == (10 * 256,)

    from upsample1d.bigvgan import load_checkpoint
    from upsample1d.mel import bigvgan_mel

    model = load_checkpoint(directory, data_format="channels_first")
    heard, _ = vocoder.read_wav(tmp_path / "in.wav")
    mel = bigvgan_mel(config, data_format="channels_first")(heard[None])
    expected = keras.ops.convert_to_numpy(model(mel))[0, 0]
    np.testing.assert_allclose(written, expected, atol=2.0 / 32767)

    np.save(tmp_path / "mel.npy", keras.ops.convert_to_numpy(mel))
    assert cli.main(["vocode", "--checkpoint", directory, "--mel", str(tmp_path / "mel.npy"),
                     str(tmp_path / "from_mel.wav")]) == 0
    np.testing.assert_array_equal(vocoder.read_wav(tmp_path / "from_mel.wav")[0], written)


@pytest.mark.parametrize("arguments, message", [
    (["in.wav"], "give in.wav and out.wav"),
    (["--mel", "MEL", "a.wav", "b.wav"], "with --mel, give only out.wav"),
])
def test_command_argument_errors(tmp_path, checkpoint, capsys, arguments, message):
    np.save(tmp_path / "mel.npy", np.zeros((80, 4), np.float32))
    arguments = [str(tmp_path / "mel.npy") if a == "MEL" else a for a in arguments]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["vocode", "--checkpoint", checkpoint[0], *arguments])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_command_refusals(tmp_path, checkpoint, capsys):
    assert cli.main(["vocode", "--checkpoint", str(tmp_path / "none"), "a.wav", "b.wav"]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert cli.main(["vocode", "--checkpoint", checkpoint[0], str(tmp_path / "missing.wav"),
                     "b.wav"]) == 2
    assert "no such file" in capsys.readouterr().err
    vocoder.write_wav(tmp_path / "in.wav", np.zeros(8000), 8000)
    assert cli.main(["vocode", "--checkpoint", checkpoint[0], str(tmp_path / "in.wav"),
                     str(tmp_path / "b.wav")]) == 2
    assert "pass --resample" in capsys.readouterr().err


def config_only_checkpoint(directory, config):
    """A checkpoint directory of ``config`` and an empty weights file: all that the checks
    before the work read."""
    directory.mkdir()
    (directory / vocoder.CONFIG_FILE).write_text(json.dumps(config))
    (directory / vocoder.WEIGHTS_FILE).write_bytes(b"")
    return str(directory)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_published_configs_pass_the_checks(tmp_path, name):
    directory = config_only_checkpoint(tmp_path / "ckpt", CONFIGS[name])
    assert vocoder.checkpoint_config(directory) == CONFIGS[name]


GONE = "(removed)"


@pytest.mark.parametrize("field, value, mel, message", [
    ("sampling_rate", GONE, True, "lacks the mel field(s) sampling_rate"),
    ("sampling_rate", 22050.0, False, "`sampling_rate` must be a positive int, got 22050.0 "
                                      "of type float"),
    ("sampling_rate", "22050", False, "`sampling_rate` must be a positive int, got '22050' "
                                      "of type str"),
    ("hop_size", 128, False, "hop_size is 128 but the generator makes 256 samples per mel "
                             "frame (upsample_rates [4, 4, 2, 2, 2, 2]): its audio would play "
                             "at 0.5 times the speed"),
    ("hop_size", 128, True, "hop_size is 128 but the generator makes 256 samples"),
    ("win_size", 2048, True, "`win_size` (2048) must be at most n_fft=1024"),
    ("fmin", "0", False, "`fmin` must be a number >= 0, got '0' of type str"),
    ("fmax", 12000, True, "fmax <= sampling_rate / 2 = 11025, got fmin=0, fmax=12000"),
    ("num_mels", 80.0, True, "`num_mels` must be a positive int, got 80.0 of type float"),
    ("upsample_rates", [4, 4, 2, 2, 2, "2"], False, "`upsample_rates[5]` must be a positive "
                                                    "int, got '2' of type str"),
])
def test_command_checks_the_config_before_any_work(tmp_path, capsys, field, value, mel,
                                                   message):
    """A config that the mel front end, the generator or the output file would refuse (or
    that would play at the wrong speed) is refused before the checkpoint is loaded, naming
    the file, the field and its value; no output file is made."""
    config = reduced("bigvgan_22khz_80band", channels=64)
    if value == GONE:
        del config[field]
    else:
        config[field] = value
    directory = config_only_checkpoint(tmp_path / "ckpt", config)
    np.save(tmp_path / "mel.npy", np.zeros((80, 4), np.float32))
    vocoder.write_wav(tmp_path / "in.wav", np.zeros(2560), 22050)
    out = tmp_path / "out.wav"
    inputs = ["--mel", str(tmp_path / "mel.npy")] if mel else [str(tmp_path / "in.wav")]
    assert cli.main(["vocode", "--checkpoint", directory, *inputs, str(out)]) == 2
    err = capsys.readouterr().err
    assert f"upsample1d: error: {directory}/config.json: " in err and message in err
    assert "loading the checkpoint" not in err and not out.exists()


@slow_on_jax
def test_readme_snippet_runs(tmp_path, monkeypatch):
    """The README's vocoder snippet, as written (run in a scratch folder)."""
    needs_official()
    import pathlib

    repo = pathlib.Path(__file__).resolve().parents[1]
    text = (repo / "README.md").read_text()
    block = text.split("<!-- vocoder-snippet -->")[1].split("<!-- /vocoder-snippet -->")[0]
    code = block.split("```python")[1].split("```")[0]
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert tuple(namespace["wave"].shape) == (1, 1, 23808)
    assert (tmp_path / "out" / "bigvgan_copy" / "bigvgan_generator.pt").is_file()
