"""The files of copy-synthesis with a BigVGAN checkpoint, for ``upsample1d vocode``: PCM WAV in
and out, a mel ``.npy``, the checkpoint directory's ``config.json`` and its checks (the
generator's fields, :func:`check_config`, and the mel's), and the check of the input's sample
rate (resampled on request). The synthesis itself is
:func:`upsample1d.bigvgan.copy_synthesis`.

Importing this module imports no framework: a wrong file, config or sample rate is refused
before Keras starts.
"""

from __future__ import annotations

import json
import math
import os
import struct
import wave

import numpy as np

from upsample1d import _validation as check

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "bigvgan_generator.pt"
MAX_WAV_VALUE = 32767.0  # BigVGAN writes int16 as round(y * 32767)
_PCM = {1: np.uint8, 2: np.int16, 4: np.int32}
# WAVE_FORMAT_EXTENSIBLE's subformat GUIDs (KSDATAFORMAT_SUBTYPE_PCM, ..._IEEE_FLOAT, ...):
# the format code in the first two bytes, then these 14
_PCM_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
_FORMATS = {1: "PCM", 3: "IEEE float", 6: "A-law", 7: "mu-law", 0xFFFE: "extensible"}
_UNTIL_THE_END = 0xFFFFFFFF  # a data size streaming writers (e.g. ffmpeg to a pipe) leave
MEL_FIELDS = ("sampling_rate", "n_fft", "num_mels", "hop_size", "win_size")


def _wav_error(path, reason):
    return ValueError(f"cannot read {path!r} as a PCM WAV file ({reason}); convert it, e.g. "
                      f"`sox in.flac -b 16 out.wav`")


def _wav_layout(path, f):
    """``(channels, rate, width, data_offset, declared_size)`` of the RIFF/WAVE file ``f``:
    its ``fmt `` chunk checked to be integer PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with
    the PCM subformat) in whole bytes of 1 to 4 per sample."""
    header = f.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:] != b"WAVE":
        kind = {b"RIFX": "a big-endian RIFX file", b"RF64": "an RF64 file"}.get(header[:4])
        raise _wav_error(path, f"{kind}, which is not read here" if kind else
                         "no RIFF/WAVE header")
    fmt = data = None
    while data is None or fmt is None:
        chunk = f.read(8)
        if len(chunk) < 8:
            break
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"fmt ":
            fmt = f.read(size)
            if size % 2:
                f.read(1)
        elif name == b"data":
            data = (f.tell(), size)
            if fmt is None and size != _UNTIL_THE_END:  # fmt after data: unusual, allowed
                f.seek(size + size % 2, os.SEEK_CUR)
            elif fmt is None:
                break
        else:
            f.seek(size + size % 2, os.SEEK_CUR)
    if fmt is None or len(fmt) < 16:
        raise _wav_error(path, "no complete fmt chunk")
    if data is None:
        raise _wav_error(path, "no data chunk")
    tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE:
        if len(fmt) < 40:
            raise _wav_error(path, "a WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes")
        subformat = fmt[24:40]
        if subformat[2:] != _PCM_GUID_TAIL or subformat[:2] != b"\x01\x00":
            code = struct.unpack("<H", subformat[:2])[0]
            name = _FORMATS.get(code, "unknown") if subformat[2:] == _PCM_GUID_TAIL else \
                "unknown"
            raise _wav_error(path, f"WAVE_FORMAT_EXTENSIBLE with subformat {name}, not PCM")
    elif tag != 1:
        raise _wav_error(path, f"format {tag}: {_FORMATS.get(tag, 'unknown')}, not PCM")
    width = (bits + 7) // 8
    if channels < 1 or rate < 1 or not 1 <= width <= 4 or block != channels * width:
        raise _wav_error(path, f"{channels} channels, {rate} Hz, {bits} bits per sample in "
                         f"blocks of {block} bytes: not a PCM layout read here (8, 16, 24 or "
                         "32-bit)")
    return channels, rate, width, *data


def read_wav(path, say=None):
    """``(audio, rate)``: a PCM WAV file (8, 16, 24 or 32-bit; a plain ``fmt`` chunk or
    WAVE_FORMAT_EXTENSIBLE with the PCM subformat, as sox and ffmpeg write beyond 16 bits or
    2 channels) as float32 mono in [-1, 1] (channels averaged, which ``say`` says). ValueError
    naming the file for
    anything else (float WAVs included). A file cut off inside its data (fewer bytes than
    its header declares, or a size that is no whole number of frames) is read up to its last
    whole frame, and ``say`` (if given) says how much was dropped."""
    try:
        with open(path, "rb") as f:
            channels, rate, width, offset, declared = _wav_layout(path, f)
            size = os.fstat(f.fileno()).st_size
            f.seek(offset)
            available = size - offset if declared == _UNTIL_THE_END else \
                min(declared, size - offset)
            block = channels * width
            data = f.read(available - available % block)
    except OSError as error:
        raise ValueError(f"cannot read {path!r}: {error.strerror or error}") from None
    if say is not None and declared != _UNTIL_THE_END and available < declared:
        say(f"{path!r} is cut off: its header declares {declared} bytes of audio but it holds "
            f"{available}; read its {len(data) // block} whole frames")
    elif say is not None and available % block:
        say(f"{path!r} ends inside a frame: its last {available % block} bytes (part of a "
            f"{block}-byte frame) are dropped")
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
    if say is not None and channels > 1:
        say(f"{path!r} has {channels} channels: vocoding their average (mono), as BigVGAN's "
            "own pipeline does")
    return audio.astype(np.float32), rate


def write_wav(path, audio, rate):
    """Write float audio in [-1, 1] as 16-bit PCM mono as BigVGAN's ``save_audio`` does:
    ``int16(y * 32767)``, truncated toward zero. ``rate`` is checked before the file is
    made (a refused rate leaves no empty file behind)."""
    rate = check.positive_int(rate, "rate")
    pcm = np.clip(np.asarray(audio, np.float64) * MAX_WAV_VALUE, -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
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


ACTIVATIONS = ("snake", "snakebeta")
RESBLOCKS = ("1", "2")
REQUIRED = ("num_mels", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel",
            "resblock", "resblock_kernel_sizes", "resblock_dilation_sizes", "activation",
            "snake_logscale")
# the official generator's defaults for the fields that older configs lack
DEFAULTS = {"use_tanh_at_final": True, "use_bias_at_final": True}


def _int_list(value, name):
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"config field `{name}` must be a non-empty list, got {value!r}.")
    return [check.positive_int(v, f"{name}[{i}]") for i, v in enumerate(value)]


def check_config(config):
    """The architecture fields of a BigVGAN ``config.json`` (a dict), checked, with the
    official defaults filled in; other fields (training, mel settings) are kept as they are.
    ValueError naming the field for a missing or bad one."""
    if not isinstance(config, dict):
        raise TypeError(f"a BigVGAN config is a dict (config.json), got {type(config).__name__}.")
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ValueError(f"the BigVGAN config lacks the field(s) {', '.join(missing)}.")
    c = {**DEFAULTS, **config}
    c["num_mels"] = check.positive_int(c["num_mels"], "num_mels")
    c["upsample_initial_channel"] = check.positive_int(c["upsample_initial_channel"],
                                                       "upsample_initial_channel")
    rates = c["upsample_rates"] = _int_list(c["upsample_rates"], "upsample_rates")
    sizes = c["upsample_kernel_sizes"] = _int_list(c["upsample_kernel_sizes"],
                                                   "upsample_kernel_sizes")
    if len(rates) != len(sizes):
        raise ValueError(f"`upsample_rates` ({rates}) and `upsample_kernel_sizes` ({sizes}) "
                         "must have the same length.")
    for i, (u, k) in enumerate(zip(rates, sizes, strict=True)):
        if k < u or (k - u) % 2:
            raise ValueError(
                f"upsample stage {i}: kernel size {k} with rate {u} must have k >= u and k - u "
                "even (torch's ConvTranspose1d(padding=(k - u) // 2) returns one sample more "
                "per stage otherwise, which this model does not reproduce).")
    if c["upsample_initial_channel"] >> len(rates) < 1:
        raise ValueError(f"upsample_initial_channel={c['upsample_initial_channel']} is halved "
                         f"{len(rates)} times: the last stage would have no channel.")
    c["resblock"] = check.choice(str(c["resblock"]), "resblock", RESBLOCKS)
    kernels = c["resblock_kernel_sizes"] = _int_list(c["resblock_kernel_sizes"],
                                                     "resblock_kernel_sizes")
    dilations = c["resblock_dilation_sizes"]
    if not isinstance(dilations, (list, tuple)) or len(dilations) != len(kernels):
        raise ValueError(f"`resblock_dilation_sizes` must be a list of {len(kernels)} lists "
                         f"(one per resblock kernel size), got {dilations!r}.")
    c["resblock_dilation_sizes"] = [_int_list(d, f"resblock_dilation_sizes[{i}]")
                                    for i, d in enumerate(dilations)]
    for k in kernels:
        if k % 2 == 0:
            raise ValueError(f"resblock kernel sizes must be odd (the official residual sum "
                             f"needs same-length convolutions), got {k}.")
    c["activation"] = check.choice(c["activation"], "activation", ACTIVATIONS)
    for key in ("snake_logscale", "use_tanh_at_final", "use_bias_at_final"):
        if not isinstance(c[key], bool):
            raise ValueError(f"config field `{key}` must be true or false, got {c[key]!r}.")
    return c


def check_checkpoint_config(config, path):
    """``config``, read from ``path``, checked for copy-synthesis before any work: the
    generator's fields (:func:`check_config`), the mel's (:data:`MEL_FIELDS`, ``fmin`` and
    ``fmax`` as :func:`upsample1d.mel.mel_spectrogram` takes them), also with ``--mel``, whose
    output is written at ``sampling_rate``, and ``hop_size`` equal to the generator's samples
    per frame. ValueError naming ``path``, the field and its value. Returns ``config``."""
    try:
        generator = check_config(config)
        missing = [key for key in MEL_FIELDS if key not in config]
        if missing:
            raise ValueError(f"the BigVGAN config lacks the mel field(s) {', '.join(missing)}.")
        n_fft = check.mel_bands(config["sampling_rate"], config["n_fft"], config["num_mels"],
                            config.get("fmin", 0), config.get("fmax"))[1]
        hop_size = check.stft_frames(n_fft, config["hop_size"], config["win_size"])[0]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    # a mel frame is hop_size samples of the input: the generator must make as many, or its
    # audio plays at hop_size / samples times the speed (the official pipeline's too)
    samples = math.prod(generator["upsample_rates"])
    if hop_size != samples:
        raise ValueError(f"{path}: hop_size is {hop_size} but the generator makes {samples} "
                         f"samples per mel frame (upsample_rates {generator['upsample_rates']})"
                         f": its audio would play at {hop_size / samples:g} times the speed. "
                         "The mel's hop_size must be the product of upsample_rates.")
    return config


def checkpoint_config(directory):
    """The checkpoint's ``config.json``, checked (:func:`check_checkpoint_config`);
    ValueError / FileNotFoundError with the reason."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"--checkpoint {directory!r} is not a directory.")
    config = read_config(directory)
    if not os.path.isfile(os.path.join(directory, WEIGHTS_FILE)):
        raise FileNotFoundError(f"no {WEIGHTS_FILE} in {directory!r}.")
    return check_checkpoint_config(config, os.path.join(directory, CONFIG_FILE))


def shortest_input(config):
    """The fewest samples (at the config's ``sampling_rate``) that BigVGAN's mel front end
    (:func:`upsample1d.mel.mel_spectrogram`) takes: with ``p = (n_fft - hop_size) // 2`` of
    reflect padding on each side, more than ``p`` samples (reflection needs them) and one
    whole window, ``n_fft - 2 p`` (``win_size`` is centred inside ``n_fft`` and changes
    nothing). None where the config lacks ``n_fft`` or ``hop_size``."""
    n_fft, hop = config.get("n_fft"), config.get("hop_size")
    if not isinstance(n_fft, int) or not isinstance(hop, int):
        return None
    padding = (n_fft - hop) // 2
    return max(padding + 1, n_fft - 2 * padding)


def read_audio(path, config, allow_resample, say=None):
    """``(audio, rate)``: the input WAV as float32 and its rate, checked against the config's
    ``sampling_rate``: another rate is refused (ValueError) unless ``allow_resample``, and so
    is a file too short for one mel frame (:func:`shortest_input`, once resampled). ``say``:
    as in :func:`read_wav`. Imports no framework (the command checks its inputs before
    starting one)."""
    audio, rate = read_wav(path, say)
    target = config.get("sampling_rate")
    if target is None:
        raise ValueError("the checkpoint's config.json has no sampling_rate: cannot check the "
                         "input's rate.")
    if rate != target and not allow_resample:
        raise ValueError(f"{path!r} is {rate} Hz but the checkpoint expects {target} Hz: "
                         f"pass --resample to resample it (upsample1d's resample_1d, "
                         f"quality {RESAMPLE_QUALITY!r}), or convert it first, e.g. "
                         f"`sox {path} -r {target} in_{target}.wav`.")
    shortest = shortest_input(config)
    length = len(audio) if rate == target else -(-len(audio) * int(target) // rate)
    if shortest is not None and length < shortest:
        held = f"{len(audio)} samples" + ("" if rate == target else
                                          f" at {rate} Hz ({length} at {target} Hz)")
        raise ValueError(f"{path!r} is too short: it holds {held}, but one mel frame needs at "
                         f"least {shortest} samples at {target} Hz (n_fft={config['n_fft']}, "
                         f"hop_size={config['hop_size']}).")
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


def _load_npy(path):
    """The array in the ``.npy`` file ``path``, read without pickles. ValueError naming the
    file for anything else (an ``.npz`` archive, another file, an object array)."""
    expected = ("a mel spectrogram is expected as a NumPy .npy file (np.save) of shape "
                "(num_mels, frames)")
    try:
        with open(path, "rb") as f:
            start = f.read(6)
            f.seek(0)
            if start[:4] == b"PK\x03\x04":
                raise ValueError("it is a zip archive (an .npz?); save the mel alone with "
                                 "np.save")
            if start != b"\x93NUMPY":
                raise ValueError("it is not a .npy file")
            return np.lib.format.read_array(f, allow_pickle=False)
    except OSError as error:
        raise ValueError(f"cannot read --mel {str(path)!r}: {error.strerror or error}"
                         ) from None
    except ValueError as error:  # read_array says what is wrong in its own words
        reason = " ".join(str(error).split()).rstrip(".")
        if "allow_pickle" in reason:
            reason = "it holds Python objects, which are not loaded (no pickles)"
        raise ValueError(f"cannot read --mel {str(path)!r}: {reason}; {expected}.") from None


def read_mel(path, num_mels):
    """A mel ``.npy`` in BigVGAN's layout, ``(num_mels, frames)`` or ``(1, num_mels,
    frames)``, as float32 ``(1, num_mels, frames)``. Refused (ValueError naming the file):
    anything but a ``.npy`` (no pickles are loaded), an array that is not real floating point
    (integers included: a log-mel is real-valued, and integers are more likely another
    array; convert them with ``astype`` if they are mels), another shape, no frames, and
    NaN or infinite values (or finite ones beyond float32's range)."""
    mel = _load_npy(path)
    name = repr(str(path))
    if not np.issubdtype(mel.dtype, np.floating):
        raise ValueError(f"--mel {name} holds {mel.dtype} values; a log-mel spectrogram is "
                         "real floating point (float16, float32 or float64): if these are mel "
                         "values, save them with .astype(np.float32).")
    held = mel.shape
    if mel.ndim == 2:
        mel = mel[None]
    if mel.ndim != 3 or mel.shape[0] != 1 or mel.shape[1] != num_mels:
        raise ValueError(f"--mel {name} holds shape {held}; the checkpoint needs a mel "
                         f"(num_mels={num_mels}, frames) or (1, {num_mels}, frames), as "
                         "BigVGAN's meldataset.mel_spectrogram makes it.")
    if mel.shape[2] == 0:
        raise ValueError(f"--mel {name} holds no frames (shape {mel.shape[1:]}): nothing to "
                         "vocode.")
    with np.errstate(over="ignore"):  # float64 beyond float32's range: counted below
        converted = mel.astype(np.float32)
    bad = ~np.isfinite(converted[0])
    if bad.any():
        frames = np.flatnonzero(bad.any(axis=0))
        where = ", ".join(str(i) for i in frames[:5]) + (", ..." if len(frames) > 5 else "")
        kinds = [f"{n} {what}" for n, what in (
            (np.count_nonzero(np.isnan(mel[0])), "NaN"),
            (np.count_nonzero(np.isinf(mel[0])), "infinite"),
            (np.count_nonzero(bad & np.isfinite(mel[0])), "beyond float32's range"))
            if n]
        raise ValueError(f"--mel {name} holds {int(bad.sum())} values that are not finite "
                         f"({', '.join(kinds)}) in {len(frames)} of its {mel.shape[2]} "
                         f"frames (frame{'s' if len(frames) > 1 else ''} {where}): the "
                         "generator would turn them into silence or noise.")
    return converted


def summary(result, out_path):
    return (f"wrote {out_path}: {result['audio_s']:.2f} s at {result['rate']} Hz; generation "
            f"took {result['generate_s']:.2f} s on {result['backend']}, real-time factor "
            f"{result['rtf']:.3f} (below 1 is faster than real time; the first call includes "
            + ("compilation)" if result["backend"] in ("jax", "tensorflow") else "warm-up)"))


# --- torch's checkpoint format, read without torch -------------------------------------------
#
# torch.save writes a zip: <name>/data.pkl (a pickle whose tensors are calls of
# torch._utils._rebuild_tensor_v2 on "persistent" storages) and <name>/data/<key> (the raw
# little-endian bytes of each storage). The unpickler below resolves only those few globals,
# as torch.load(weights_only=True) does, so a file cannot run code.

_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                   "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_, "BFloat16Storage": "bfloat16"}


def _storage(data, dtype):
    """A storage's bytes as a flat array; bfloat16 (which NumPy lacks) widened to float32,
    exactly: its 16 bits are the high half of a float32's."""
    if dtype == "bfloat16":
        return (np.frombuffer(data, "<u2").astype(np.uint32) << 16).view(np.float32)
    return np.frombuffer(data, dtype)


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
                return _storage(archive.read(f"{prefix}data/{key}"), dtype)

        return Unpickler(file)


def read_torch_weights(path):
    """A checkpoint written by ``torch.save`` (the zip format, torch >= 1.6), read without
    torch: nested dicts, lists and NumPy arrays in place of tensors (bfloat16 ones as float32,
    the same numbers). ValueError for another
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
