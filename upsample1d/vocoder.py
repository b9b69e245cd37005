"""The files of copy-synthesis with a BigVGAN checkpoint, for ``upsample1d vocode``: PCM WAV in
and out, a mel ``.npy``, the checkpoint directory's ``config.json``, and the check of the
input's sample rate (resampled on request). The synthesis itself is
:func:`upsample1d.bigvgan.copy_synthesis`.

Importing this module imports no framework: a wrong file or sample rate is refused before
Keras starts.
"""

from __future__ import annotations

import json
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


RESAMPLE_QUALITY = "hq"  # the preset of resample_1d for an input at another rate


def resample(audio, rate, target):
    """Mono float32 ``audio`` from ``rate`` to ``target`` Hz with
    :func:`upsample1d.ops.resample_1d` (quality :data:`RESAMPLE_QUALITY`, replicated edges).
    Imports Keras: call it once the backend runs."""
    import keras

    from upsample1d.ops import resample_1d

    y = resample_1d(np.asarray(audio, np.float32)[None, :, None], int(target), int(rate),
                    RESAMPLE_QUALITY, edge="replicate")
    return np.asarray(keras.ops.convert_to_numpy(y), np.float32)[0, :, 0]


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


def read_audio(path, config, allow_resample):
    """``(audio, rate)``: the input WAV as float32 and its rate, checked against the config's
    ``sampling_rate``: another rate is refused (ValueError) unless ``allow_resample``.
    Imports no framework (the command checks its inputs before starting one)."""
    audio, rate = read_wav(path)
    target = config.get("sampling_rate")
    if target is None:
        raise ValueError("the checkpoint's config.json has no sampling_rate: cannot check the "
                         "input's rate.")
    if rate != target and not allow_resample:
        raise ValueError(f"{path!r} is {rate} Hz but the checkpoint expects {target} Hz: "
                         f"pass --resample to resample it (upsample1d's resample_1d, "
                         f"quality {RESAMPLE_QUALITY!r}), or convert it first, e.g. "
                         f"`sox {path} -r {target} in_{target}.wav`.")
    return audio, rate


def prepare_audio(audio, rate, config, name="the input", say=None):
    """``audio`` (float32 at ``rate`` Hz, from :func:`read_audio`) at the config's
    ``sampling_rate``: :func:`resample` where the rates differ, said through ``say``. Where
    resampling overshoots full scale (a PCM file is within it), the audio is scaled to peak
    at 1, as BigVGAN's front end expects samples in [-1, 1], and ``say`` says by how much.
    Imports Keras when it resamples."""
    target = config["sampling_rate"]
    if rate != target:
        if say:
            say(f"resampling {name} from {rate} Hz to {target} Hz "
                f"(resample_1d, quality {RESAMPLE_QUALITY!r})")
        audio = resample(audio, rate, target)
    peak = float(np.abs(audio).max(initial=0))
    if peak > 1.0:
        if say:
            say(f"the resampled audio peaks at {peak:.4f}: scaled by 1/{peak:.4f} to [-1, 1]")
        audio = audio / peak
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


# --- torch's checkpoint format, read without torch -------------------------------------------
#
# torch.save writes a zip: <name>/data.pkl (a pickle whose tensors are calls of
# torch._utils._rebuild_tensor_v2 on "persistent" storages) and <name>/data/<key> (the raw
# little-endian bytes of each storage). The unpickler below resolves only those few globals,
# as torch.load(weights_only=True) does, so a file cannot run code.

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_}


def _rebuild_tensor(storage, offset, size, stride, *_):
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], tuple(size),
                                           tuple(s * itemsize for s in stride))
    return np.array(view)


class _TorchUnpickler:
    """A restricted unpickler for ``data.pkl`` of a torch zip checkpoint."""

    GLOBALS = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
               ("torch._utils", "_rebuild_parameter"): lambda data, *_: data}

    def __new__(cls, file, archive, prefix):
        import collections
        import pickle

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) in cls.GLOBALS:
                    return cls.GLOBALS[(module, name)]
                if (module, name) == ("collections", "OrderedDict"):
                    return collections.OrderedDict
                if module == "torch" and name in _STORAGE_DTYPES:
                    return _STORAGE_DTYPES[name]
                raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights "
                                             "file")

            def persistent_load(self, pid):
                _, dtype, key, _, _ = pid
                return np.frombuffer(archive.read(f"{prefix}data/{key}"), dtype)

        return Unpickler(file)


def read_torch_weights(path):
    """A checkpoint written by ``torch.save`` (the zip format, torch >= 1.6), read without
    torch: nested dicts, lists and NumPy arrays in place of tensors. ValueError for another
    format (torch's legacy one needs torch) or a file that holds anything but tensors and
    containers."""
    import pickle
    import zipfile

    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path!r} is not in torch's zip format (saved by torch < 1.6?): "
                         "install torch to read it.")
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(names) != 1:
            raise ValueError(f"{path!r} is a zip but not a torch checkpoint (no data.pkl).")
        prefix = names[0][:-len("data.pkl")]
        with archive.open(names[0]) as f:
            try:
                return _TorchUnpickler(f, archive, prefix).load()
            except (pickle.UnpicklingError, ValueError, TypeError) as error:
                raise ValueError(f"cannot read {path!r} as tensors: {error}") from None
