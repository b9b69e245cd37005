"""The upsample1d command (also ``python -m upsample1d``): arguments in, library calls out.

Importing this module imports no framework: ``--help``, ``--version`` and bad arguments
answer at once. Keras, and with it the backend, is imported when work starts (see
:func:`start_backend`); the work itself lives in :mod:`upsample1d.compare`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import sys
import tempfile

from upsample1d import __version__, compare
from upsample1d import _validation as check

BACKENDS = ("jax", "torch", "tensorflow")  # the order of preference when none is chosen

DESCRIPTION = """\
1-D upsampling layers on Keras 3 (JAX, TensorFlow, PyTorch): compare the upsampler families
in the seed auto-encoder, measure how much activations alias (plain and alias-free), train
the auto-encoder a few steps, vocode audio with a BigVGAN checkpoint, or stream a sound file
through a model chunk by chunk."""

EPILOG = """\
The backend is --backend, else KERAS_BACKEND, else the first installed of jax, torch,
tensorflow. Framework start-up logs are silenced (set TF_CPP_MIN_LOG_LEVEL to see them)."""

# Environment that quiets the frameworks' start-up logging; each is set only if unset.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR",
                     "GLOG_minloglevel": "2"}
# Lines that absl / glog (TensorFlow, XLA) write to stderr before their log level is read:
# info, warning and error lines such as "cudart_stub.cc:31] Could not find cuda drivers" or
# "Unable to register cuDNN factory" (fatal ones are kept).
_LOG_LINE = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\)|"
                       r"[IWE]\d{4} [\d:.]+ +\d+ \S+:\d+\] ")


# --- argument types: the library's validators, as argparse types --------------------------

def _argument(validate, convert, name, *extra):
    """An argparse type: ``validate(convert(text), name, *extra)``, its errors as one line."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = text  # not even a number: the validator names what it expected
        try:
            return validate(value, name, *extra)
        except (TypeError, ValueError) as error:
            message = str(error).replace(" of type str", "")
            message = message.removeprefix(f"`{name}` ").rstrip(".")
            raise argparse.ArgumentTypeError(message) from None

    parse.__name__ = validate.__name__  # argparse names the type in some messages
    return parse


def _methods(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of upsamplers")
    try:
        return compare.Config(methods=names).methods
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _file(what):
    """An argparse type: the path of an existing file, ``what`` naming it if it is a folder."""

    def parse(path):
        if os.path.isdir(path):
            raise argparse.ArgumentTypeError(f"{path!r} is a folder, not {what}")
        if not os.path.isfile(path):
            raise argparse.ArgumentTypeError(f"no such file: {path!r}")
        return path

    return parse


_audio_file = _file("a sound file")
_model_file = _file("a saved model (.keras)")
_mel_file = _file("a mel spectrogram (.npy)")


_seed = _argument(check.non_negative_int, int, "--seed")


# --- the parser ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit code 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int(help_text, name):
    return {"type": _argument(check.positive_int, int, name), "help": help_text}


def _add_autoencoder(sub):
    ae = sub.add_parser("autoencoder", help="train the seed article's auto-encoder a few steps "
                        "on synthetic audio and print the loss", description="Train the seed "
                        "article's auto-encoder (subpixel upsampler) a few Adam steps on "
                        "synthetic audio; print the loss of each step and the reconstruction "
                        "SNR.")
    ae.add_argument("--steps", default=8, **_int("Adam steps (default: %(default)s)", "--steps"))
    ae.add_argument("--batch", default=4, **_int("batch size (default: %(default)s)", "--batch"))
    ae.add_argument("--length", default=16384, **_int(
        "input length in samples, a multiple of --factor (default: %(default)s)", "--length"))
    ae.add_argument("--factor", default=4, **_int(
        "down/upsampling factor (default: %(default)s)", "--factor"))
    ae.add_argument("--seed", type=_seed, default=0,
                    help="random seed of the weights and the audio, drawn in NumPy: the same "
                    "on every backend (default: %(default)s)")
    ae.set_defaults(run=_autoencoder, parser=ae)


def _add_compare(sub):
    defaults = compare.Config()
    cmp = sub.add_parser(
        "compare", help="compare the upsamplers in the seed auto-encoder: size, speed, "
        "tonal/filtering/replica artifacts at init and after training; writes a markdown "
        "table, JSON and a spectrogram grid", description="Put each upsampler into the seed "
        "auto-encoder; measure parameters, forward and train-step time, and its artifacts "
        "at initialisation and after a short training. Progress on stderr, the table on "
        "stdout; compare.md, compare.json and compare.png in --out.")
    cmp.add_argument("--methods", type=_methods, default=defaults.methods,
                     help=f"comma-separated subset of {','.join(compare.METHODS)} (default: all)")
    cmp.add_argument("--train-steps", default=defaults.train_steps, **_int(
        "Adam steps on synthetic audio per upsampler (default: %(default)s)", "--train-steps"))
    cmp.add_argument("--batch", default=defaults.batch, **_int(
        "batch size of the training and timing (default: %(default)s)", "--batch"))
    cmp.add_argument("--length", default=defaults.length, **_int(
        f"auto-encoder input length, a multiple of {compare.FACTOR} (default: %(default)s)",
        "--length"))
    cmp.add_argument("--seconds", default=defaults.seconds,
                     type=_argument(check.positive_number, float, "--seconds"),
                     help="length of the analysis probes in seconds (default: %(default)s)")
    cmp.add_argument("--audio", type=_audio_file,
                     help="a sound file (read with soundfile) to use as the analysis signal "
                     "instead of synthetic audio; its first --seconds, mixed to mono")
    cmp.add_argument("--out", default=os.path.join("out", "compare"),
                     help="output folder (default: %(default)s)")
    cmp.add_argument("--seed", type=_seed, default=defaults.seed,
                     help="random seed of the weights and the audio, drawn in NumPy: the same "
                     "on every backend (default: %(default)s)")
    cmp.set_defaults(run=_compare, parser=cmp)


def _activations(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of activations")
    return names


def _add_aliasing(sub):
    al = sub.add_parser(
        "aliasing", help="measure how much each activation aliases, plain and alias-free "
        "(BigVGAN's AliasFreeActivation1D); writes a markdown table, JSON and a spectrogram "
        "grid", description="Feed pure tones through each activation, plain and run at twice "
        "the rate between windowed-sinc filters (AliasFreeActivation1D, with BigVGAN's "
        "filters and with longer sinc_bank ones), and report the share of the output that "
        "is aliasing (see upsample1d.artifacts.measure_aliasing). The table goes to stdout; "
        "aliasing.md, aliasing.json and aliasing.png (a sine sweep) to --out.")
    al.add_argument("--activations", type=_activations, default=["snake", "leaky_relu", "tanh"],
                    help="comma-separated Keras activation names, snake or snakebeta "
                    "(default: snake,leaky_relu,tanh)")
    al.add_argument("--out", default=os.path.join("out", "aliasing"),
                    help="output folder (default: %(default)s)")
    al.add_argument("--no-plot", action="store_true",
                    help="skip the spectrogram grid (about 20 s of the run)")
    al.set_defaults(run=_aliasing, parser=al)


def _add_vocode(sub):
    vc = sub.add_parser(
        "vocode", help="copy-synthesis with a BigVGAN checkpoint: in.wav -> mel -> generator "
        "-> out.wav (or --mel file.npy -> out.wav)", description="Load an official BigVGAN "
        "checkpoint directory (config.json and bigvgan_generator.pt, as the official package "
        "saves it or as downloaded from the hub; nothing is downloaded here), compute the mel "
        "spectrogram of in.wav with BigVGAN's front end, run the generator on the chosen "
        "backend and write out.wav (16-bit PCM WAV only: its name must end in .wav). With "
        "--mel, vocode a mel .npy instead (BigVGAN's layout: (num_mels, frames) or (1, "
        "num_mels, frames), real floating point, finite). Progress on "
        "stderr; the result and the real-time factor on stdout.")
    vc.add_argument("--checkpoint", required=True, metavar="DIR",
                    help="checkpoint directory with config.json and bigvgan_generator.pt")
    vc.add_argument("--mel", type=_mel_file, metavar="FILE.npy",
                    help="vocode this mel spectrogram instead of an input WAV: (num_mels, "
                    "frames) or (1, num_mels, frames); a square array (as many frames as "
                    "mels) cannot be told from its transpose, so check its layout")
    vc.add_argument("--resample", action="store_true",
                    help="resample an input WAV whose rate differs from the checkpoint's "
                    "sampling_rate (resample_1d, quality hq); without it such a file is refused")
    vc.add_argument("paths", nargs="+", metavar="in.wav out.wav",
                    help="input WAV (8, 16, 24 or 32-bit PCM, WAVE_FORMAT_EXTENSIBLE too; mixed to "
                    "mono) and output WAV (.wav); only out.wav with --mel")
    vc.set_defaults(run=_vocode, parser=vc)


def _add_stream(sub):
    st = sub.add_parser(
        "stream", help="stream a WAV file through a model chunk by chunk, exactly as offline; "
        "print the latency and the real-time factor", description="Run a saved .keras model "
        "(or a reference model with random weights) on a sound file in chunks of --chunk "
        "samples, as a real-time system would (upsample1d.streaming.Stream), and write the "
        "result: the offline model's output on the input zero-padded to a multiple of the "
        "model's hop, cut to floor(T * rate) samples (T input samples, rate the model's "
        "output rate), in the input's sample format (32-bit float where integer PCM would "
        "clip). Channels: a reference model is built for the file's channel count (it mixes "
        "them); a saved model must take the file's channel count. Where the input rate times "
        "the model's output rate is no whole number, the rate written is rounded (and said). "
        "Progress on stderr; latency (samples and ms) and real-time factor (the median "
        "chunk's time over the audio it held) on stdout.")
    st.add_argument("input", type=_audio_file, help="sound file to read (soundfile)")
    st.add_argument("output", help="sound file to write, at the model's output rate")
    st.add_argument("--chunk", default=512, **_int(
        "samples per chunk, a multiple of the model's hop (default: %(default)s)", "--chunk"))
    which = st.add_mutually_exclusive_group()
    which.add_argument("--model", type=_model_file, metavar="PATH.keras",
                       help="a saved Keras model (.keras) to stream; it must take the "
                       "input file's channel count")
    which.add_argument("--reference", choices=("autoencoder", "demucs"), default="autoencoder",
                       help="a reference model with random weights: the seed auto-encoder, "
                       "or demucs_like with unidirectional LSTMs (default: %(default)s)")
    st.add_argument("--seed", type=_seed, default=0,
                    help="random seed of the reference model's weights (default: %(default)s)")
    st.add_argument("--no-compile", action="store_true",
                    help="run each step eagerly instead of compiled (jax.jit, XLA, "
                    "torch.compile)")
    st.set_defaults(run=_stream, parser=st)


def build_parser():
    """The argument parser (imports no framework)."""
    parser = _Parser(prog="upsample1d", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"upsample1d {__version__}",
                        help="print the version and exit")
    parser.add_argument("--backend", metavar="{" + ",".join(BACKENDS) + "}",
                        type=_argument(check.choice, str, "--backend", BACKENDS),
                        help="Keras backend (default: KERAS_BACKEND, else the first installed "
                        "of jax, torch, tensorflow)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_compare(sub)
    _add_aliasing(sub)
    _add_autoencoder(sub)
    _add_vocode(sub)
    _add_stream(sub)
    return parser


# --- the backend -----------------------------------------------------------------------------

def choose_backend(requested=None, environ=None, find_spec=importlib.util.find_spec,
                   modules=None):
    """``(backend, note)``: ``requested`` (--backend), else the backend of an already
    imported Keras, else ``KERAS_BACKEND``, else the first installed of :data:`BACKENDS`, in
    which case ``note`` says so (else None). ValueError if it is not installed.
    ``environ``, ``find_spec`` and ``modules`` default to os.environ,
    importlib.util.find_spec and sys.modules."""
    environ = os.environ if environ is None else environ
    keras = (sys.modules if modules is None else modules).get("keras")
    note = None
    if requested:
        name, how = requested, "--backend"
    elif keras is not None:
        return keras.backend.backend(), None
    elif environ.get("KERAS_BACKEND"):
        name, how = environ["KERAS_BACKEND"], "KERAS_BACKEND"
    else:
        installed = [b for b in BACKENDS if find_spec(b) is not None]
        if not installed:
            raise ValueError('no Keras backend is installed: pip install "upsample1d[jax]" '
                             "(or [torch], [tensorflow])")
        name, how = installed[0], None
        note = (f"upsample1d: KERAS_BACKEND is not set: using {name} (installed: "
                f"{', '.join(installed)}; choose with --backend)")
    if how and name not in BACKENDS:
        raise ValueError(f"{how}={name!r} is not one of {', '.join(BACKENDS)}")
    if how and find_spec(name) is None:
        raise ValueError(f'backend {name!r} ({how}) is not installed: pip install '
                         f'"upsample1d[{name}]"')
    return name, note


@contextlib.contextmanager
def _quiet_stderr():
    """Drop the absl/glog lines written to file descriptor 2 inside the block (frameworks log
    these while importing, before they read their log level); pass the rest on."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not _LOG_LINE.match(line)))
            sys.stderr.flush()


def start_backend(name):
    """Import Keras on backend ``name`` with the frameworks' start-up logging silenced
    (unless TF_CPP_MIN_LOG_LEVEL was set). ValueError if Keras already runs another one."""
    keras = sys.modules.get("keras")
    if keras is not None:
        if keras.backend.backend() != name:
            raise ValueError(f"Keras is already imported with backend "
                             f"{keras.backend.backend()!r}; the backend {name!r} needs a new "
                             "process")
        return
    quiet = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    os.environ["KERAS_BACKEND"] = name
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    with _quiet_stderr() if quiet else contextlib.nullcontext():
        import keras  # noqa: F401 - imports the backend
    if quiet and "absl.logging" in sys.modules:
        sys.modules["absl.logging"].set_verbosity("error")
    if quiet:
        import logging

        logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)


def _start(backend, progress):
    """Choose and start the backend; a note on stderr when it was picked for the user."""
    name, note = choose_backend(backend)
    if note:
        progress.stage(note)
    progress.status(f"importing Keras on {name}")
    start_backend(name)


# --- the commands ----------------------------------------------------------------------------

def _make_out(path, names):
    """Create the ``--out`` folder and check, by writing a file there, that the files
    ``names`` can be written in it: before the work, not after. ValueError naming ``--out``."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--out {path!r} cannot be a folder: {error.strerror or error}"
                         ) from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"--out {path!r} cannot be written: {error.strerror or error}"
                         ) from None
    for name in names:
        target = os.path.join(path, name)
        if os.path.exists(target) and not os.path.isfile(target):
            raise ValueError(f"--out {path!r} holds {name!r}, which is not a file")


def _compare(args):
    started = compare.clock()
    try:
        config = compare.Config(methods=args.methods, train_steps=args.train_steps,
                                batch=args.batch, length=args.length, seconds=args.seconds,
                                audio=args.audio, seed=args.seed)
        analysis = compare.analysis_signal(config)
        _make_out(args.out, compare.FILES)
    except (ValueError, ImportError, OSError) as error:  # the library names `field`s
        args.parser.error(re.sub(r"`(\w+)`", lambda m: "--" + m[1].replace("_", "-"),
                                 " ".join(str(error).split())))
    missing = compare.missing_dependencies()
    if missing:
        raise ImportError(missing)
    progress = compare.ConsoleProgress(sys.stderr)
    _start(args.backend, progress)
    result = compare.run(config, progress, analysis=analysis, started=started)
    paths = compare.write(result, args.out, progress)
    print(compare.table(result.rows, config.train_steps), flush=True)
    print(f"\nwrote {', '.join(paths)}; run time {result.seconds:.1f} s", flush=True)
    return 0


def _aliasing(args):
    started = compare.clock()
    from upsample1d import aliasing

    try:
        _make_out(args.out, aliasing.FILES)
    except ValueError as error:
        args.parser.error(str(error))
    missing = aliasing.missing_dependencies(plot=not args.no_plot)
    if missing:
        raise ImportError(missing)
    progress = compare.ConsoleProgress(sys.stderr)
    _start(args.backend, progress)
    try:  # activation names are Keras' to know: checked once Keras is running
        activations = aliasing.check_activations(args.activations)
    except (ValueError, TypeError) as error:
        args.parser.error(f"--activations: {' '.join(str(error).split())}")
    paths = aliasing.write(activations, args.out, plot=not args.no_plot,
                           progress=progress.stage)
    print(aliasing.read_table(paths[0]), flush=True)
    print(f"\nwrote {', '.join(paths)}; run time {compare.clock() - started:.1f} s",
          flush=True)
    return 0


def _autoencoder(args):
    if args.length % args.factor:
        args.parser.error(f"--length ({args.length}) must be a multiple of --factor "
                          f"({args.factor})")
    _start(args.backend, compare.ConsoleProgress(sys.stderr))
    compare.autoencoder_demo(args.steps, args.batch, args.length, args.factor, args.seed,
                             say=lambda line: print(line, flush=True))
    return 0


def _vocode_output(path):
    """Check ``out.wav`` before any work: a .wav name (vocode writes 16-bit PCM WAV only), not
    a folder, its folder made and writable."""
    extension = os.path.splitext(path)[1]
    if extension.lower() != ".wav":
        raise ValueError(f"cannot write {path!r}: vocode writes 16-bit PCM WAV only, and its "
                         f"extension is {extension!r}, not '.wav' (convert the WAV afterwards, "
                         "e.g. `sox out.wav out.flac`)" if extension else
                         f"cannot write {path!r}: vocode writes 16-bit PCM WAV only: give a "
                         "name ending in .wav")
    if os.path.isdir(path):
        raise ValueError(f"cannot write {path!r}: it is a folder")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"cannot write {path!r}: it is not a regular file")
    folder = os.path.dirname(path) or "."
    try:
        _make_folder(folder)
    except OSError as error:
        raise ValueError(f"cannot write {path!r}: {error.strerror or error}") from None
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f"cannot write {path!r}: no file can be made in {folder!r} "
                         f"({error.strerror or error})") from None
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise ValueError(f"cannot write {path!r}: it is read-only")


def _vocode(args):
    from upsample1d import vocoder

    wanted = 1 if args.mel else 2
    if len(args.paths) != wanted:
        args.parser.error("give in.wav and out.wav" if wanted == 2 else
                          "with --mel, give only out.wav")
    *inputs, out = args.paths
    progress = compare.ConsoleProgress(sys.stderr)
    try:
        _vocode_output(out)
        config = vocoder.checkpoint_config(args.checkpoint)
        if inputs and not os.path.isfile(inputs[0]):
            raise ValueError(f"no such file: {inputs[0]!r}")
        mel = audio = None
        if args.mel:
            mel = vocoder.read_mel(args.mel, config.get("num_mels"))
        else:  # the rate and the length are checked before the backend starts
            audio, rate = vocoder.read_audio(inputs[0], config, args.resample, progress.stage)
    except (FileNotFoundError, OSError) as error:
        raise ValueError(str(error)) from None
    _start(args.backend, progress)
    if audio is not None:
        audio = vocoder.prepare_audio(audio, rate, config, os.path.basename(inputs[0]),
                                      progress.stage)
    from upsample1d.bigvgan import copy_synthesis

    try:
        result = copy_synthesis(args.checkpoint, out, audio=audio, mel=mel,
                                status=progress.stage)
    except OSError as error:  # checked before the work: the path has changed since
        if error.filename != out:
            raise
        raise ValueError(f"cannot write {out!r}: {error.strerror or error}") from None
    print(vocoder.summary(result, out), flush=True)
    return 0


def _stream_output(path, soundfile):
    """``path``'s soundfile format (from its extension), checked before any work: a known
    extension, not a folder, its folder made."""
    extension = os.path.splitext(path)[1][1:].upper()
    if extension not in soundfile.available_formats():
        raise ValueError(f"cannot write {path!r}: its extension {('.' + extension.lower())!r} "
                         f"is no sound file format soundfile writes (e.g. .wav, .flac)")
    if os.path.isdir(path):
        raise ValueError(f"cannot write {path!r}: it is a folder")
    folder = os.path.dirname(path)
    try:
        if folder:
            _make_folder(folder)
    except OSError as error:
        raise ValueError(f"cannot write {path!r}: {error.strerror or error}") from None
    return extension


def _make_folder(folder):
    """``os.makedirs(folder, exist_ok=True)``; where a file stands in the way, the OSError
    names it."""
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        parent = folder
        while parent and not os.path.exists(parent):
            parent = os.path.dirname(parent)
        raise OSError(f"{parent!r} is a file, not a folder") from None


def _stream_subtype(audio, in_subtype, extension, soundfile):
    """``(subtype, note)``: the input's sample format where the output's file format has it
    (16-bit output of float input would round), and, where integer PCM would clip samples
    beyond [-1, 1], 32-bit float instead (or, if the format has none, a note on the clip)."""
    import numpy as np

    subtype = in_subtype if soundfile.check_format(extension, in_subtype) else \
        soundfile.default_subtype(extension)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak <= 1 or subtype in ("FLOAT", "DOUBLE", "VORBIS", "OPUS"):
        return subtype, ""
    if soundfile.check_format(extension, "FLOAT"):
        return "FLOAT", (f"the output peaks at {peak:.3g} > 1, which {subtype} would clip: "
                         "written as 32-bit float (FLOAT)")
    clipped = int(np.count_nonzero(np.abs(audio) > 1))
    return subtype, (f"the output peaks at {peak:.3g} > 1: {clipped} samples clipped to "
                     f"[-1, 1] ({extension} has no float format; write .wav to keep them)")


def _stream(args):
    if importlib.util.find_spec("soundfile") is None:
        raise ImportError('stream reads and writes audio with soundfile: pip install '
                          '"upsample1d[analysis]" (or pip install soundfile)')
    import soundfile

    extension = _stream_output(args.output, soundfile)
    try:
        audio, rate = soundfile.read(args.input, dtype="float32", always_2d=True)
        in_subtype = soundfile.info(args.input).subtype
    except (RuntimeError, OSError) as error:  # soundfile.LibsndfileError is a RuntimeError
        raise ValueError(f"cannot read {args.input!r} as a sound file: "
                         f"{' '.join(str(error).split())}") from None
    if audio.shape[0] == 0:
        raise ValueError(f"{args.input!r} holds no samples: nothing to stream")
    progress = compare.ConsoleProgress(sys.stderr)
    _start(args.backend, progress)
    from upsample1d.streaming import Stream, files

    progress.status("building the stream")
    model = files.load_model(args.model) if args.model else \
        files.reference_model(args.reference, audio.shape[1], args.seed)
    stream = Stream(model)
    channels = stream._input_channels  # the stream refuses a model without a channel size
    if channels != audio.shape[1]:
        raise ValueError(f"{args.input!r} has {_plural(audio.shape[1], 'channel')} but the "
                         f"model {args.model!r} takes {_plural(channels, 'channel')}: give a "
                         f"file of {_plural(channels, 'channel')}, or a model that takes "
                         f"{audio.shape[1]}")
    step = stream.step if args.no_compile else stream.compiled_step()
    seconds = audio.shape[0] / rate
    exact = rate * stream.output_rate
    out_rate = int(round(exact))
    if exact != out_rate:
        progress.stage(f"the output rate, {rate} Hz x {stream.output_rate} = {float(exact):g} "
                       f"Hz, is not a whole number: the file is written at {out_rate} Hz")

    def on_chunk(done, total, took):
        heard = min(done * args.chunk, audio.shape[0]) / rate
        progress.status(f"[{done}/{total}] {heard:.1f} of {seconds:.1f} s of audio, last "
                        f"chunk {took * 1e3:.1f} ms")

    run = files.stream_audio(stream, audio, args.chunk, step, on_chunk)
    progress.stage(f"streamed {audio.shape[0]} samples in "
                   f"{_plural(len(run.seconds) - 1, 'chunk')} of {args.chunk}"
                   + (f" (the last padded with {run.padded} zeros)" if run.padded else ""))
    import numpy as np

    output = run.output
    if output.dtype not in (np.float32, np.float64):  # soundfile writes no 16-bit floats: a
        output = output.astype(np.float32)  # mixed-precision model's output, widened exactly
    subtype, note = _stream_subtype(output, in_subtype, extension, soundfile)
    if note:
        progress.stage(note)
    soundfile.write(args.output, output, out_rate, subtype=subtype, format=extension)
    _stream_report(stream, run, rate, args)
    return 0


def _stream_report(stream, run, rate, args):
    """The latency, the real-time factor (the median steady chunk's time over the audio it
    held: chunks that compiled for new shapes left out where others ran) and the file
    written, on stdout."""
    latency, seconds = float(stream.latency), sum(run.samples) / rate
    median = run.median_chunk()
    held = run.samples[median] / rate
    print(f"latency: {stream.latency} samples ({latency / rate * 1e3:.1f} ms at {rate} Hz) "
          f"of lookahead, plus one chunk of {args.chunk} ({args.chunk / rate * 1e3:.1f} ms)")
    steady = ("the median steady chunk" if run.steady[median] else
              "no chunk ran at a steady state, the file being shorter than the stream's "
              "warm-up: the median chunk, its compilation included,")
    print(f"real-time factor: {run.seconds[median] / held:.4f} ({steady} by time over "
          f"audio: {run.seconds[median] * 1e3:.2f} ms for {held * 1e3:.1f} ms of audio); "
          f"whole run {sum(run.seconds):.2f} s for {seconds:.2f} s of audio, warm-up and "
          "compilation included")
    print(f"wrote {args.output}", flush=True)


def _plural(count, noun):
    return f"{count} {noun}" + ("" if count == 1 else "s")


def main(argv=None):
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return args.run(args)
    except ValueError as error:
        print(f"upsample1d: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(f"upsample1d: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1


def __getattr__(name):
    if name == "COMPARE_METHODS":  # public in 0.1
        import warnings

        warnings.warn("upsample1d.cli.COMPARE_METHODS moved to upsample1d.compare.METHODS",
                      DeprecationWarning, stacklevel=2)
        return compare.METHODS
    raise AttributeError(f"module 'upsample1d.cli' has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
