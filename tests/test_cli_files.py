"""The files of ``upsample1d vocode`` and ``upsample1d stream``: what is refused before any
work (the output path, the mel, a short or empty input), the WAV reader's headers and cut-off
files, the stream's real-time factor, channels and rate notes, and its seeding without
TensorFlow."""

import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import BACKEND, has_module
from helpers_bigvgan import CONFIGS
from test_cli import ROOT, run

from upsample1d import cli, vocoder

needs_soundfile = pytest.mark.skipif(not has_module("soundfile"),
                                     reason="the stream command reads and writes with soundfile")
CONFIG = CONFIGS["bigvgan_v2_24khz_100band_256x"]  # 24 kHz, n_fft 1024, hop 256, 100 mels


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint folder that passes the checks made before any work: its config.json, and
    a weights file that loading would refuse (so nothing gets past the checks unnoticed)."""
    directory = tmp_path / "ckpt"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(CONFIG))
    (directory / "bigvgan_generator.pt").write_bytes(b"not loaded before the checks")
    return str(directory)


@pytest.fixture
def in_wav(tmp_path):
    path = tmp_path / "in.wav"
    vocoder.write_wav(path, 0.3 * np.sin(np.arange(2400) * 0.05), 24000)
    return str(path)


def refused_before_any_work(code, stdout, stderr, *parts):
    assert code == 2, stderr
    assert stderr.startswith("upsample1d: error: ") and stderr.count("\n") == 1, stderr
    assert "importing Keras" not in stderr and "loading the checkpoint" not in stderr
    assert not stdout
    for part in parts:
        assert part in stderr, stderr


# --- 1, 2: vocode's output path ---------------------------------------------------------------

def test_vocode_checks_the_output_before_any_work(capsys, tmp_path, checkpoint, in_wav):
    folder = tmp_path / "out.wav"
    folder.mkdir()
    refused_before_any_work(*run(capsys, "vocode", "--checkpoint", checkpoint, in_wav,
                                 str(folder)), f"cannot write {str(folder)!r}: it is a folder")
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    target = blocker / "sub" / "o.wav"
    refused_before_any_work(*run(capsys, "vocode", "--checkpoint", checkpoint, in_wav,
                                 str(target)),
                            f"cannot write {str(target)!r}: {str(blocker)!r} is a file")
    cli._vocode_output(str(tmp_path / "new" / "o.wav"))  # passes, and makes its folder
    assert (tmp_path / "new").is_dir() and not (tmp_path / "new" / "o.wav").exists()


@pytest.mark.parametrize("name", ["out.flac", "out.WAV.mp3", "out", "out.npy"])
def test_vocode_refuses_an_output_that_is_not_wav(capsys, tmp_path, checkpoint, in_wav, name):
    out = str(tmp_path / name)
    extension = name[name.rfind("."):] if "." in name else ""
    refused_before_any_work(*run(capsys, "vocode", "--checkpoint", checkpoint, in_wav, out),
                            f"cannot write {out!r}", "16-bit PCM WAV only",
                            repr(extension) if extension else "ending in .wav")
    assert not (tmp_path / name).exists()


def test_vocode_takes_wav_in_any_letter_case(tmp_path):
    for name in ("a.wav", "b.WAV", "c.Wav"):
        cli._vocode_output(str(tmp_path / name))


# --- 3, 4: the mel file ----------------------------------------------------------------------

def test_read_mel_refuses_non_finite_values(tmp_path):
    mel = np.random.default_rng(0).normal(-5, 2, (100, 20)).astype(np.float32)
    mel[:, 3] = np.nan
    mel[7, 11] = np.inf
    np.save(tmp_path / "m.npy", mel)
    with pytest.raises(ValueError, match=r"--mel '.*m\.npy' holds 101 values that are not "
                       r"finite \(100 NaN, 1 infinite\) in 2 of its 20 frames \(frames 3, 11\)"):
        vocoder.read_mel(tmp_path / "m.npy", 100)
    np.save(tmp_path / "big.npy", np.full((100, 4), 1e300))  # finite, but not in float32
    with pytest.raises(ValueError, match="400 beyond float32's range"):
        vocoder.read_mel(tmp_path / "big.npy", 100)


def test_read_mel_refuses_no_frames(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((100, 0), np.float32))
    with pytest.raises(ValueError, match=r"'.*m\.npy' holds no frames"):
        vocoder.read_mel(tmp_path / "m.npy", 100)


@pytest.mark.parametrize("dtype", ["complex64", "bool", "int16", "int64", "uint8"])
def test_read_mel_refuses_what_is_not_real_floating_point(tmp_path, dtype):
    """Integers are refused too: a log-mel is real-valued (mostly negative), so an integer
    array is more likely something else; the message says how to convert real mels."""
    np.save(tmp_path / "m.npy", np.zeros((100, 4), dtype))
    with pytest.raises(ValueError, match=rf"'.*m\.npy' holds {dtype} values; a log-mel "
                       r"spectrogram is real floating point"):
        vocoder.read_mel(tmp_path / "m.npy", 100)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_read_mel_takes_floats_of_any_width(tmp_path, dtype):
    np.save(tmp_path / "m.npy", np.full((1, 100, 4), -3.5, dtype))
    mel = vocoder.read_mel(tmp_path / "m.npy", 100)
    assert mel.dtype == np.float32 and mel.shape == (1, 100, 4) and (mel == -3.5).all()


def test_read_mel_refuses_npz_other_files_and_pickles(tmp_path):
    expected = "a mel spectrogram is expected as a NumPy .npy file (np.save) of shape " \
               "(num_mels, frames)"
    np.savez(tmp_path / "m.npz", mel=np.zeros((100, 4), np.float32))
    vocoder.write_wav(tmp_path / "w.npy", np.zeros(100), 24000)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "m.npz").read_bytes()[:0])
    np.save(tmp_path / "short.npy", np.zeros((100, 4), np.float32))
    (tmp_path / "short.npy").write_bytes((tmp_path / "short.npy").read_bytes()[:-8])
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name, reason in [("m.npz", "it is a zip archive (an .npz?)"),
                         ("w.npy", "it is not a .npy file"),
                         ("cut.npy", "it is not a .npy file"),
                         ("short.npy", ""),
                         ("objects.npy", "it holds Python objects, which are not loaded")]:
        with pytest.raises(ValueError) as error:
            vocoder.read_mel(tmp_path / name, 100)
        message = str(error.value)
        assert message.startswith(f"cannot read --mel {str(tmp_path / name)!r}: {reason}")
        assert message.endswith(expected + ".") and "\n" not in message
        assert "allow_pickle" not in message


def test_vocode_mel_refusals_come_before_any_work(capsys, tmp_path, checkpoint):
    np.save(tmp_path / "nan.npy", np.full((100, 5), np.nan, np.float32))
    np.savez(tmp_path / "m.npz", mel=np.zeros((100, 4), np.float32))
    for name, part in [("nan.npy", "not finite"), ("m.npz", "an .npz?")]:
        refused_before_any_work(*run(capsys, "vocode", "--checkpoint", checkpoint, "--mel",
                                     str(tmp_path / name), str(tmp_path / "o.wav")), part)
    code, _, stderr = run(capsys, "vocode", "--checkpoint", checkpoint, "--mel",
                          str(tmp_path), str(tmp_path / "o.wav"))
    assert code == 2 and "is a folder, not a mel spectrogram (.npy)" in stderr


# --- 5: the WAV reader -----------------------------------------------------------------------

PCM_GUID = bytes.fromhex("0100000000001000800000aa00389b71")
FLOAT_GUID = bytes.fromhex("0300000000001000800000aa00389b71")


def riff(*chunks):
    body = b"WAVE" + b"".join(name + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
                              for name, data in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt(channels, rate, bits, tag=1, guid=PCM_GUID, valid=None):
    width = (bits + 7) // 8
    head = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * width,
                       channels * width, bits)
    if tag != 0xFFFE:
        return head
    return head + struct.pack("<HHI", 22, valid or bits, 3) + guid


def pcm_bytes(values, width):
    """Signed integer samples (frames x channels) as little-endian PCM of ``width`` bytes."""
    values = np.asarray(values, np.int64)
    if width == 1:
        return (values + 128).astype(np.uint8).tobytes()
    raw = np.stack([(values >> (8 * i)) & 0xFF for i in range(width)], -1).astype(np.uint8)
    return raw.tobytes()


@pytest.mark.parametrize("bits, channels", [(16, 1), (16, 2), (24, 1), (24, 3), (32, 2),
                                            (8, 1)])
def test_read_wav_takes_wave_format_extensible_pcm(tmp_path, bits, channels):
    """WAVE_FORMAT_EXTENSIBLE with the PCM subformat, as sox and ffmpeg write it beyond 16 bits
    or two channels (Python < 3.12's ``wave`` refuses it), read as the plain header is."""
    rng = np.random.default_rng(bits)
    full = 2 ** (bits - 1)
    values = rng.integers(-full, full, size=(50, channels))
    data = pcm_bytes(values, bits // 8)
    (tmp_path / "ext.wav").write_bytes(riff((b"fmt ", fmt(channels, 16000, bits, 0xFFFE)),
                                            (b"data", data)))
    (tmp_path / "plain.wav").write_bytes(riff((b"fmt ", fmt(channels, 16000, bits)),
                                              (b"data", data)))
    audio, rate = vocoder.read_wav(tmp_path / "ext.wav")
    assert rate == 16000 and audio.shape == (50,) and audio.dtype == np.float32
    np.testing.assert_allclose(audio, values.mean(axis=1) / full, atol=1e-6)
    np.testing.assert_array_equal(audio, vocoder.read_wav(tmp_path / "plain.wav")[0])


def test_read_wav_takes_other_chunks_in_any_order(tmp_path):
    values = np.arange(-20, 20).reshape(-1, 1) * 500
    data = pcm_bytes(values, 2)
    (tmp_path / "a.wav").write_bytes(riff((b"LIST", b"INFOabc"), (b"data", data),
                                          (b"fmt ", fmt(1, 8000, 16)), (b"id3 ", b"x" * 9)))
    audio, rate = vocoder.read_wav(tmp_path / "a.wav")
    assert rate == 8000
    np.testing.assert_array_equal(audio, (values[:, 0] / 32768).astype(np.float32))


@needs_soundfile
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_U8"])
def test_read_wav_reads_what_soundfile_writes_as_wavex(tmp_path, subtype):
    import soundfile

    x = 0.5 * np.sin(np.arange(3000) * 0.05)[:, None] * np.array([[1.0, -0.5, 0.25]])
    soundfile.write(tmp_path / "x.wav", x, 24000, subtype=subtype, format="WAVEX")
    audio, rate = vocoder.read_wav(tmp_path / "x.wav")
    expected = soundfile.read(tmp_path / "x.wav", dtype="float64")[0].mean(axis=1)
    assert rate == 24000
    np.testing.assert_allclose(audio, expected, atol=1e-6)


@pytest.mark.parametrize("header, reason", [
    (fmt(1, 8000, 32, tag=3), "format 3: IEEE float, not PCM"),
    (fmt(1, 8000, 32, 0xFFFE, FLOAT_GUID), "WAVE_FORMAT_EXTENSIBLE with subformat IEEE float"),
    (fmt(1, 8000, 16, 0xFFFE, b"\x01" * 16), "WAVE_FORMAT_EXTENSIBLE with subformat unknown"),
    (fmt(1, 8000, 16, tag=7), "format 7: mu-law, not PCM"),
    (fmt(1, 8000, 16)[:12], "no complete fmt chunk"),
], ids=["float", "extensible-float", "extensible-unknown", "mu-law", "short-fmt"])
def test_read_wav_refuses_float_and_other_formats(tmp_path, header, reason):
    (tmp_path / "x.wav").write_bytes(riff((b"fmt ", header), (b"data", b"\0" * 8)))
    with pytest.raises(ValueError, match=rf"cannot read '.*x\.wav' as a PCM WAV file "
                                         rf"\({reason}.*\); convert it"):
        vocoder.read_wav(str(tmp_path / "x.wav"))


def test_read_wav_reads_a_cut_off_file_to_its_last_whole_frame(tmp_path):
    """A file cut inside a frame (or its data chunk) keeps its whole frames, and says so."""
    values = np.arange(-300, 300, dtype=np.int64).reshape(-1, 2) * 50
    whole = riff((b"fmt ", fmt(2, 16000, 24)), (b"data", pcm_bytes(values, 3)))
    (tmp_path / "whole.wav").write_bytes(whole)
    full, _ = vocoder.read_wav(tmp_path / "whole.wav")
    (tmp_path / "cut.wav").write_bytes(whole[:-4])  # 2 bytes into the last 6-byte frame
    said = []
    audio, rate = vocoder.read_wav(str(tmp_path / "cut.wav"), said.append)
    assert rate == 16000 and audio.shape == (299,)
    np.testing.assert_array_equal(audio, full[:299])
    assert len(said) == 2 and said[0].startswith(f"{str(tmp_path / 'cut.wav')!r} is cut off")
    assert said[1].endswith("has 2 channels: vocoding their average (mono), as BigVGAN's own "
                            "pipeline does")
    assert "declares 1800 bytes of audio but it holds 1796; read its 299 whole frames" in said[0]
    # a data chunk whose declared size is no whole number of frames
    odd = riff((b"fmt ", fmt(2, 16000, 24)), (b"data", pcm_bytes(values, 3)[:-1]))
    (tmp_path / "odd.wav").write_bytes(odd)
    said.clear()
    audio, _ = vocoder.read_wav(str(tmp_path / "odd.wav"), said.append)
    assert audio.shape == (299,) and "ends inside a frame: its last 5 bytes" in said[0]
    assert vocoder.read_wav(tmp_path / "cut.wav")[0].shape == (299,)  # no say: quiet


def test_read_wav_refuses_what_is_not_riff_wave(tmp_path):
    for name, content, reason in [("x.wav", b"RIFX" + b"\0" * 40, "a big-endian RIFX file"),
                                  ("y.wav", b"RIFF\0\0\0\0WAVE", "no complete fmt chunk"),
                                  ("z.wav", riff((b"fmt ", fmt(1, 8000, 16))), "no data chunk"),
                                  ("e.wav", b"", "no RIFF/WAVE header")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=rf"'.*{name}' as a PCM WAV file \({reason}"):
            vocoder.read_wav(str(tmp_path / name))


def test_vocoder_imports_no_framework():
    code = ("import sys; import upsample1d.vocoder; "
            "print(sorted(m for m in ('keras', 'torch', 'jax', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT}, timeout=120, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


# --- 6: an input too short for one mel frame -------------------------------------------------

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_shortest_input_is_what_the_mel_front_end_takes(name):
    """Tried around the limit: one sample fewer is refused by the mel front end itself."""
    from upsample1d.mel import bigvgan_mel

    shortest = vocoder.shortest_input(CONFIGS[name])
    mel = bigvgan_mel(CONFIGS[name], data_format="channels_first")
    assert tuple(mel(np.zeros((1, shortest), np.float32)).shape)[2] >= 1
    with pytest.raises(ValueError, match="mel_spectrogram needs at least"):
        mel(np.zeros((1, shortest - 1), np.float32))


@pytest.mark.parametrize("n_fft, hop", [(1024, 255), (512, 512), (64, 8), (1000, 1)])
def test_shortest_input_for_other_hops(n_fft, hop):
    from upsample1d.mel import bigvgan_mel

    config = {"n_fft": n_fft, "hop_size": hop, "win_size": n_fft, "num_mels": 8,
              "sampling_rate": 16000, "fmin": 0, "fmax": None}
    shortest = vocoder.shortest_input(config)
    mel = bigvgan_mel(config)
    mel(np.zeros((1, shortest), np.float32))
    with pytest.raises(ValueError):
        mel(np.zeros((1, shortest - 1), np.float32))


def test_read_audio_refuses_a_file_too_short_for_one_frame(tmp_path):
    vocoder.write_wav(tmp_path / "short.wav", np.zeros(384), 24000)
    vocoder.write_wav(tmp_path / "empty.wav", np.zeros(0), 24000)
    vocoder.write_wav(tmp_path / "ok.wav", np.zeros(385), 24000)
    for name, held in [("short.wav", 384), ("empty.wav", 0)]:
        path = str(tmp_path / name)
        with pytest.raises(ValueError, match=rf"^{path!r} is too short: it holds {held} "
                           r"samples, but one mel frame needs at least 385 samples at 24000 Hz "
                           r"\(n_fft=1024, hop_size=256\)\.$"):
            vocoder.read_audio(path, CONFIG, False)
    assert vocoder.read_audio(str(tmp_path / "ok.wav"), CONFIG, False)[0].shape == (385,)
    # resampled: the length at the checkpoint's rate counts (ceil(T * 24000 / 16000))
    vocoder.write_wav(tmp_path / "16k.wav", np.zeros(256), 16000)
    with pytest.raises(ValueError, match=r"holds 256 samples at 16000 Hz \(384 at 24000 Hz\)"):
        vocoder.read_audio(str(tmp_path / "16k.wav"), CONFIG, True)
    vocoder.write_wav(tmp_path / "16k.wav", np.zeros(257), 16000)
    assert vocoder.read_audio(str(tmp_path / "16k.wav"), CONFIG, True)[0].shape == (257,)


def test_vocode_refuses_a_short_wav_before_any_work(capsys, tmp_path, checkpoint):
    vocoder.write_wav(tmp_path / "tiny.wav", np.zeros(300), 24000)
    refused_before_any_work(*run(capsys, "vocode", "--checkpoint", checkpoint,
                                 str(tmp_path / "tiny.wav"), str(tmp_path / "o.wav")),
                            "is too short: it holds 300 samples", "at least 385")


# --- 7, 9: stream: the real-time factor, empty files, channels, rates ------------------------

def write_sound(path, audio, rate):
    import soundfile

    soundfile.write(path, audio, rate, subtype="PCM_16")
    return str(path)


RTF = r"real-time factor: ([\d.]+) \(.*? by time over audio: ([\d.]+) ms for " \
      r"([\d.]+) ms of audio\)"


@needs_soundfile
def test_stream_real_time_factor_counts_the_audio_each_chunk_held(capsys, tmp_path):
    import re

    path = write_sound(tmp_path / "one_s.wav", 0.3 * np.sin(np.arange(16000) * 0.05), 16000)
    code, stdout, stderr = run(capsys, "stream", path, str(tmp_path / "o.wav"), "--chunk",
                               "20000", "--no-compile")
    assert code == 0, stderr
    rtf, took, held = map(float, re.search(RTF, stdout).groups())
    assert held == 1000.0  # the file's 16000 samples, not --chunk's 20000
    assert rtf == pytest.approx(took / held, rel=2e-3, abs=1e-4)
    assert "streamed 16000 samples in 1 chunk of 20000 (the last padded" not in stderr
    assert "streamed 16000 samples in 1 chunk of 20000" in stderr


def test_stream_run_records_the_samples_of_each_chunk():
    from upsample1d.streaming import Stream, files

    stream = Stream(files.reference_model("autoencoder", 1, seed=0))
    audio = np.zeros((1001, 1), np.float32)
    run_ = files.stream_audio(stream, audio, 512)
    assert run_.samples == [512, 489, 0] and run_.padded == 3
    run_.seconds = [0.512, 0.9, 0.0]  # the short chunk took as long: 1.84 ms per sample
    assert run_.median_chunk() == 0
    run_.seconds = [0.512, 0.3, 0.0]
    assert run_.median_chunk() == 1  # lower median of (1 ms, 0.61 ms) per sample: the 2nd
    with pytest.raises(ValueError, match="needs at least one sample"):
        files.stream_audio(stream, np.zeros((0, 1), np.float32), 512)


def test_the_real_time_factor_leaves_out_chunks_that_compiled():
    """The first calls with new chunk or state shapes compile (a compiled step, JAX's eager
    ops): on a short file the median chunk was one of them (an audit read 56.67 for 0.2)."""
    from upsample1d.streaming import Stream, files

    stream = Stream(files.reference_model("autoencoder", 1, seed=0))
    run_ = files.stream_audio(stream, np.zeros((64 * 7 + 10, 1), np.float32), 64)
    # the state fills in the first steps, then repeats; the short last chunk is new again
    assert run_.steady[0] is False and run_.steady[-2:] == [False, False]
    assert any(run_.steady)
    first_steady = run_.steady.index(True)
    run_.seconds = [10.0] * first_steady + [0.064] * (7 - first_steady) + [10.0, 0.0]
    assert run_.steady[run_.median_chunk()]
    assert run_.seconds[run_.median_chunk()] == 0.064


@needs_soundfile
def test_stream_refuses_an_empty_file_before_any_work(capsys, tmp_path):
    path = write_sound(tmp_path / "empty.wav", np.zeros(0), 16000)
    code, stdout, stderr = run(capsys, "stream", path, str(tmp_path / "o.wav"))
    assert code == 2 and not stdout
    assert stderr == f"upsample1d: error: {path!r} holds no samples: nothing to stream\n"
    assert not (tmp_path / "o.wav").exists()


@needs_soundfile
def test_stream_names_the_channels_of_the_file_and_the_model(capsys, tmp_path):
    import keras

    x = 0.3 * np.sin(np.arange(2000) * 0.05)
    path = write_sound(tmp_path / "stereo.wav", np.stack([x, x], 1), 16000)
    inputs = keras.Input((None, 1))
    model = str(tmp_path / "mono.keras")
    keras.Model(inputs, keras.layers.Conv1D(1, 3, padding="same")(inputs)).save(model)
    code, _, stderr = run(capsys, "stream", path, str(tmp_path / "o.wav"), "--model", model,
                          "--no-compile")
    assert code == 2
    assert f"{path!r} has 2 channels but the model {model!r} takes 1 channel" in stderr
    code, _, stderr = run(capsys, "stream", path, str(tmp_path / "o.wav"), "--model",
                          str(tmp_path))
    assert code == 2 and "is a folder, not a saved model (.keras)" in stderr


@needs_soundfile
def test_stream_says_when_the_output_rate_is_rounded(capsys, tmp_path):
    import keras
    import soundfile

    from upsample1d.layers import SpaceToDepth1D

    x = 0.3 * np.sin(np.arange(4000) * 0.05)
    inputs = keras.Input((None, 1))
    outputs = keras.layers.Conv1D(1, 3, padding="same")(SpaceToDepth1D(4)(inputs))
    model = str(tmp_path / "down4.keras")
    keras.Model(inputs, outputs).save(model)
    for rate, note in [(22050, True), (16000, False)]:
        path = write_sound(tmp_path / f"in{rate}.wav", x, rate)
        out = tmp_path / f"o{rate}.wav"
        code, _, stderr = run(capsys, "stream", path, str(out), "--model", model,
                              "--no-compile")
        assert code == 0, stderr
        assert soundfile.info(out).samplerate == round(rate / 4)
        said = "the output rate, 22050 Hz x 1/4 = 5512.5 Hz, is not a whole number: the " \
               "file is written at 5512 Hz"
        assert (said in stderr) == note, stderr


def test_stream_description_says_how_channels_are_handled():
    from upsample1d.cli import build_parser

    parser = build_parser()
    stream = next(a for a in parser._actions if a.dest == "command").choices["stream"]
    text = " ".join(stream.format_help().split())
    assert "a reference model is built for the file's channel count" in text
    assert "a saved model must take the file's channel count" in text


# --- 8: the reference model's seed without TensorFlow ----------------------------------------

@pytest.mark.skipif(BACKEND == "tensorflow", reason="TensorFlow is the backend")
def test_reference_model_is_seeded_without_importing_tensorflow():
    """The same weights as after keras.utils.set_random_seed (what it called before), from
    the seed alone, and TensorFlow never imported on JAX or torch."""
    code = textwrap.dedent("""
        import random, sys
        import numpy as np
        import keras
        from upsample1d.models import demucs_like
        from upsample1d.streaming import files

        def weights(model):
            return [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]

        first = weights(files.reference_model("demucs", 2, seed=5))
        random.random(), np.random.random()  # the global generators move on
        again = weights(files.reference_model("demucs", 2, seed=5))
        other = weights(files.reference_model("demucs", 2, seed=6))
        assert "tensorflow" not in sys.modules, "tensorflow imported"
        assert all(np.array_equal(a, b) for a, b in zip(first, again)), "not deterministic"
        assert not all(np.array_equal(a, b) for a, b in zip(first, other)), "seed unused"
        keras.utils.set_random_seed(5)
        old = weights(demucs_like(length=None, in_channels=2, lstm="unidirectional"))
        assert all(np.array_equal(a, b) for a, b in zip(first, old)), "not set_random_seed's"
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT, "KERAS_BACKEND": BACKEND,
                                 "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.stdout.strip() == "ok", result.stderr[-3000:]
