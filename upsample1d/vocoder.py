"""The files of copy-synthesis with a BigVGAN checkpoint, for ``upsample1d vocode``: PCM WAV in
and out, a mel ``.npy``, the checkpoint directory's ``config.json``, and the check of the
input's sample rate (resampled on request). The synthesis itself is
:func:`upsample1d.bigvgan.copy_synthesis`.

Importing this module imports no framework: a wrong file or sample rate is refused before
Keras starts.
"""

from __future__ import annotations

import json
import math
import os
import wave

import numpy as np

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "bigvgan_generator.pt"
MAX_WAV_VALUE = 32767.0  # BigVGAN writes int16 as round(y * 32767)
_PCM = {1: np.uint8, 2: np.int16, 4: np.int32}


def read_wav(path):
    """``(audio, rate)``: a PCM WAV file (8, 16, 24 or 32-bit) as float32 mono in [-1, 1]
    (channels averaged). ValueError naming the file for anything else."""
    try:
        with wave.open(str(path), "rb") as f:
            rate, width, channels = f.getframerate(), f.getsampwidth(), f.getnchannels()
            data = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"cannot read {path!r} as a PCM WAV file ({error}); convert it, e.g. "
                         f"`sox in.flac -b 16 out.wav`") from None
    if width == 3:  # 24-bit: widen to int32
        raw = np.frombuffer(data, np.uint8).reshape(-1, 3)
        samples = (raw[:, 0].astype(np.int32) << 8 | raw[:, 1].astype(np.int32) << 16
                   | raw[:, 2].astype(np.int32) << 24)
        scale = 2.0 ** 31
    else:
        samples = np.frombuffer(data, _PCM[width]).astype(np.float64)
        if width == 1:
            samples = samples - 128
        scale = 2.0 ** (8 * width - 1)
    audio = np.asarray(samples, np.float64).reshape(-1, channels).mean(axis=1) / scale
    return audio.astype(np.float32), rate


def write_wav(path, audio, rate):
    """Write float audio in [-1, 1] as 16-bit PCM mono as BigVGAN's ``save_audio`` does:
    ``int16(y * 32767)``, truncated toward zero."""
    pcm = np.clip(np.asarray(audio, np.float64) * MAX_WAV_VALUE, -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(rate))
        f.writeframes(pcm.tobytes())


def resample(audio, rate, target):
    """``audio`` from ``rate`` to ``target`` Hz with ``scipy.signal.resample_poly``."""
    try:
        from scipy.signal import resample_poly
    except ImportError:
        raise ImportError('resampling needs scipy: pip install "upsample1d[analysis]"'
                          ) from None
    g = math.gcd(int(rate), int(target))
    return resample_poly(audio, target // g, rate // g).astype(np.float32)


def read_config(directory):
    """The ``config.json`` of a checkpoint directory, as a dict (not yet checked)."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {CONFIG_FILE} in {directory!r}: a BigVGAN checkpoint "
                                f"directory holds {CONFIG_FILE} and {WEIGHTS_FILE}.")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from None


def checkpoint_config(directory):
    """The checkpoint's ``config.json`` (ValueError / FileNotFoundError with the reason)."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"--checkpoint {directory!r} is not a directory.")
    config = read_config(directory)
    if not os.path.isfile(os.path.join(directory, WEIGHTS_FILE)):
        raise FileNotFoundError(f"no {WEIGHTS_FILE} in {directory!r}.")
    return config


def prepare_audio(path, config, allow_resample, say=None):
    """The input WAV as float32 at the config's ``sampling_rate``: resampled when
    ``allow_resample``, else refused (ValueError) if the rates differ."""
    audio, rate = read_wav(path)
    target = config.get("sampling_rate")
    if target is None:
        raise ValueError("the checkpoint's config.json has no sampling_rate: cannot check the "
                         "input's rate.")
    if rate != target:
        if not allow_resample:
            raise ValueError(f"{path!r} is {rate} Hz but the checkpoint expects {target} Hz: "
                             "pass --resample to resample it (scipy), or convert it first, "
                             f"e.g. `sox {path} -r {target} in_{target}.wav`.")
        if say:
            say(f"resampling {os.path.basename(path)} from {rate} Hz to {target} Hz")
        audio = resample(audio, rate, target)
    if np.abs(audio).max(initial=0) > 1.0:
        audio = audio / np.abs(audio).max()
    return audio


def read_mel(path, num_mels):
    """A mel ``.npy`` in BigVGAN's layout, ``(num_mels, frames)`` or ``(1, num_mels,
    frames)``, as float32 ``(1, num_mels, frames)``."""
    mel = np.load(path)
    if mel.ndim == 2:
        mel = mel[None]
    if mel.ndim != 3 or mel.shape[0] != 1 or mel.shape[1] != num_mels:
        raise ValueError(f"{path!r} holds shape {mel.shape}; the checkpoint needs a mel "
                         f"(num_mels={num_mels}, frames) or (1, {num_mels}, frames), as "
                         "BigVGAN's meldataset.mel_spectrogram makes it.")
    return mel.astype(np.float32)


def summary(result, out_path):
    return (f"wrote {out_path}: {result['audio_s']:.2f} s at {result['rate']} Hz; generation "
            f"took {result['generate_s']:.2f} s on {result['backend']}, real-time factor "
            f"{result['rtf']:.3f} (below 1 is faster than real time; the first call includes "
            "compilation)")
