"""``upsample1d stream``: a WAV file through a model chunk by chunk, the same samples as the
offline model; latency and real-time factor printed; bad arguments named."""

import keras
import numpy as np
import pytest
from conftest import has_module
from test_cli import run

from upsample1d.streaming import files

pytestmark = pytest.mark.skipif(not has_module("soundfile"),
                                reason="the stream command reads and writes with soundfile")


@pytest.fixture
def wav(tmp_path):
    import soundfile

    from upsample1d.audio import synthetic_audio

    path = tmp_path / "in.wav"
    # stereo, a length that is no multiple of the hop: the last chunk is padded
    audio = np.concatenate([synthetic_audio(1, 3001, seed=s)[0] for s in (1, 2)], axis=1)
    soundfile.write(path, audio, 16000, subtype="FLOAT")
    return path, audio


def test_stream_writes_the_offline_output_and_reports(capsys, tmp_path, wav):
    import soundfile

    path, audio = wav
    out = tmp_path / "out.wav"
    code, stdout, stderr = run(capsys, "stream", str(path), str(out), "--chunk", "256",
                               "--seed", "3", "--no-compile")
    assert code == 0, stderr
    written, rate = soundfile.read(out, dtype="float32", always_2d=True)
    assert rate == 16000
    model = files.reference_model("autoencoder", 2, seed=3)
    padded = np.concatenate([audio, np.zeros((3, 2), np.float32)])  # to 3004, a multiple of 4
    offline = keras.ops.convert_to_numpy(model(padded[None]))[0, :3001]
    assert written.shape == (3001, 2)
    assert np.abs(written - offline).max() <= 1e-6 * np.abs(offline).max()
    assert "latency: 48 samples (3.0 ms at 16000 Hz) of lookahead, plus one chunk of 256 " \
           "(16.0 ms)" in stdout
    assert "real-time factor: " in stdout
    assert "streamed 3001 samples in 12 chunks of 256 (the last padded with 3 zeros)" in stderr


def test_stream_refuses_a_chunk_that_is_not_a_multiple_of_the_hop(capsys, tmp_path, wav):
    code, _, stderr = run(capsys, "stream", str(wav[0]), str(tmp_path / "o.wav"),
                          "--reference", "demucs", "--chunk", "300")
    assert code == 2
    assert "chunk length 300 is not a multiple of the stream's hop 256" in stderr


def test_stream_refuses_a_saved_model_that_cannot_stream(capsys, tmp_path, wav):
    from upsample1d.models import demucs_like

    path = tmp_path / "bi.keras"
    demucs_like(length=None, depth=1, channels=4, in_channels=2).save(path)
    code, _, stderr = run(capsys, "stream", str(wav[0]), str(tmp_path / "o.wav"),
                          "--model", str(path))
    assert code == 2
    assert "layer 'lstm0' (Bidirectional) cannot stream" in stderr


def test_stream_argument_errors(capsys, tmp_path, wav):
    code, _, stderr = run(capsys, "stream", str(tmp_path / "missing.wav"), "o.wav")
    assert code == 2 and "no such file" in stderr
    code, _, stderr = run(capsys, "stream", str(wav[0]), "o.wav", "--chunk", "0")
    assert code == 2 and "--chunk" in stderr
    code, _, stderr = run(capsys, "stream", str(wav[0]), "o.wav", "--reference", "bigvgan")
    assert code == 2 and "invalid choice: 'bigvgan'" in stderr


def test_stream_checks_the_output_before_any_work(capsys, tmp_path, wav):
    code, stdout, stderr = run(capsys, "stream", str(wav[0]), str(tmp_path / "out.txt"))
    assert code == 2 and "cannot write" in stderr and "'.txt'" in stderr
    assert "building the stream" not in stderr and not stdout
    folder = tmp_path / "a.wav"
    folder.mkdir()
    code, _, stderr = run(capsys, "stream", str(wav[0]), str(folder))
    assert code == 2 and "it is a folder" in stderr
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, stderr = run(capsys, "stream", str(wav[0]), str(blocker / "out.wav"))
    assert code == 2 and "cannot write" in stderr
    code, _, stderr = run(capsys, "stream", str(wav[0]), str(tmp_path / "new" / "out.wav"),
                          "--chunk", "4096", "--no-compile")
    assert code == 0, stderr
    assert (tmp_path / "new" / "out.wav").is_file()


def test_stream_refuses_a_file_that_is_no_sound_file(capsys, tmp_path):
    path = tmp_path / "in.wav"
    path.write_text("plain text, not audio")
    code, _, stderr = run(capsys, "stream", str(path), str(tmp_path / "out.wav"))
    assert code == 2 and f"cannot read {str(path)!r} as a sound file" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("extension, subtype, clipped", [(".wav", "FLOAT", False),
                                                         (".flac", "PCM_16", True)])
def test_stream_keeps_samples_beyond_full_scale(capsys, tmp_path, extension, subtype,
                                                clipped):
    import soundfile

    path = tmp_path / "in.wav"
    audio = 0.5 * np.sin(np.arange(1024) / 7.0)[:, None]
    soundfile.write(path, audio, 16000, subtype="PCM_16")
    model = keras.Sequential([keras.Input((None, 1)), keras.layers.Rescaling(4.0)])
    model.save(tmp_path / "gain.keras")
    out = tmp_path / f"out{extension}"
    code, _, stderr = run(capsys, "stream", str(path), str(out), "--model",
                          str(tmp_path / "gain.keras"), "--chunk", "256", "--no-compile")
    assert code == 0, stderr
    assert soundfile.info(out).subtype == subtype
    written, _ = soundfile.read(out, always_2d=True)
    expected = 4 * soundfile.read(path, always_2d=True)[0]
    assert "the output peaks at 2 > 1" in stderr
    if clipped:
        assert "samples clipped to [-1, 1]" in stderr
        assert np.abs(written).max() <= 1
    else:
        assert "written as 32-bit float (FLOAT)" in stderr
        np.testing.assert_allclose(written, expected, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Explicitly requested dtype float64:UserWarning")  # JAX
@pytest.mark.parametrize("policy", ["float64", "mixed_float16", "mixed_bfloat16"])
def test_stream_a_model_of_another_dtype(capsys, tmp_path, policy):
    """A float64 model streams the file's samples cast to float64; a mixed-precision model's
    16-bit output is written widened to float32 (soundfile writes no 16-bit floats)."""
    import soundfile

    path = tmp_path / "in.wav"
    soundfile.write(path, 0.5 * np.sin(np.arange(1000) / 7.0), 16000, subtype="FLOAT")
    inputs = keras.Input((None, 1), dtype="float64" if policy == "float64" else "float32")
    conv = keras.layers.Conv1D(1, 3, padding="same", dtype=policy,
                               kernel_initializer=keras.initializers.GlorotUniform(seed=1))
    model = keras.Model(inputs, conv(inputs))
    model.save(tmp_path / "m.keras")
    out = tmp_path / "out.wav"
    code, _, stderr = run(capsys, "stream", str(path), str(out), "--model",
                          str(tmp_path / "m.keras"), "--chunk", "64", "--no-compile")
    assert code == 0, stderr
    written, _ = soundfile.read(out, always_2d=True)
    audio = soundfile.read(path, always_2d=True)[0]
    offline = keras.ops.convert_to_numpy(keras.ops.cast(model(audio[None]), "float32"))[0]
    np.testing.assert_allclose(written, offline, atol=1e-6 * np.abs(offline).max())
