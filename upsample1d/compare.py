"""The ``upsample1d compare`` job: every upsampler in the seed auto-encoder, side by side.

Shaped run -> rows -> render:

- :func:`run` builds the seed auto-encoder once per method of :data:`METHODS` with the same
  initial weights on every backend (:func:`initial_weights`, drawn in NumPy), measures its
  upsampler's artifacts (:func:`upsample1d.artifacts.measure`) at initialisation, times the
  forward pass and a short training on synthetic audio, measures again, and returns a
  :class:`Comparison` whose ``rows`` (one JSON-ready dict per method) hold every number;
- :func:`table` renders the rows as a markdown table, :func:`plot` the spectrogram grid and
  :func:`write` writes ``compare.md``, ``compare.json`` and ``compare.png``.

:func:`autoencoder_demo` is the ``upsample1d autoencoder`` command's job; it shares the
training loop (:func:`train`) and :func:`snr_db`.

Keras, and with it the backend, is imported by the functions that do the work, never by
importing this module (nor is NumPy): the command line reads its arguments first.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from typing import TYPE_CHECKING

from upsample1d import _validation as check

if TYPE_CHECKING:
    import numpy as np

FACTOR = 4
SAMPLE_RATE = 16000
MIN_ANALYSIS = 64 * FACTOR  # samples of analysis signal the artifact measures need

# method -> (models.autoencoder(upsampler=...), upsampler_options)
METHODS = {
    "subpixel-glorot": ("subpixel", {"kernel_initializer": "glorot_uniform"}),
    "subpixel-icnr": ("subpixel", {}),
    "transposed-none": ("transposed", {"overlap": "none"}),
    "transposed-full": ("transposed", {"overlap": "full"}),
    "nearest": ("nearest", {}),
    "linear": ("linear", {}),
    "sinc": ("sinc", {}),
}

FILES = ("compare.md", "compare.json", "compare.png")  # what write() writes
COLUMNS = ("tonal dB", "filtering dB", "replica dB", "audio tonal dB")
_COLUMN_KEYS = (("ones", "tonal_db"), ("ones", "filtering_db"), ("ones", "replica_db"),
                ("audio", "tonal_db"))
NOTES = (
    "tonal: strongest line at multiples of fs_in above its floor, constant input "
    "(`measure(signal='ones')`); audio tonal: the same on the analysis signal (the number "
    "under each panel of compare.png); filtering: 10-50 % vs 75-100 % of the input band, white "
    "noise; replica: images of a sine vs the sine (see `upsample1d.artifacts.measure`). "
    "Columns marked (trained) are measured again after training. The initial weights are "
    "drawn in NumPy from the seed (`upsample1d.compare.initial_weights`), so the dB columns and "
    "the SNR are the same on every backend up to float32 rounding (levels under -60 dB can "
    "differ by a dB or two); the times depend on the machine and its load. Forward: median of 3 "
    "calls after a compiling one; train step: median of the steps after the first, which "
    "compiles (n/a with a single step)."
)

WARMUP_STEPS = 1  # train steps not timed: the first compiles the step
clock = time.perf_counter


def timed(function, *args):
    """``(function(*args), seconds it took)``: the one timing helper of this module."""
    tick = clock()
    result = function(*args)
    return result, clock() - tick


def median_ms(seconds):
    """Median of durations in seconds, in milliseconds (NaN for none)."""
    import numpy as np

    return float(np.median(seconds) * 1000) if len(seconds) else float("nan")


def snr_db(reference, estimate):
    """Signal-to-noise ratio of ``estimate`` against ``reference``, in dB (float64 sums)."""
    import numpy as np

    reference = np.asarray(reference, np.float64)
    noise = np.sum((np.asarray(estimate, np.float64) - reference) ** 2)
    return float(10 * np.log10(np.sum(reference**2) / max(noise, 1e-30)))


def _db1(value):
    """A level as printed everywhere (table, console, PNG): the JSON's unrounded figure,
    rounded once to 1 decimal."""
    return f"{float(value):.1f}"


def train_step_ms(seconds):
    """The median train step in ms, of the steps after the first (which compiles: it took
    0.3-1.7 s on JAX where a step takes ~10-20 ms); None with fewer than 2 steps."""
    return median_ms(seconds[WARMUP_STEPS:]) if len(seconds) > WARMUP_STEPS else None


def _method_name(name):
    """The :data:`METHODS` key ``name`` stands for, ignoring letter case."""
    try:
        return check.choice(name, "methods", tuple(METHODS))
    except ValueError:
        raise ValueError(f"unknown method {name!r} (choose from {', '.join(METHODS)})"
                         ) from None


@dataclasses.dataclass(frozen=True)
class Config:
    """What to compare; checked on creation (ValueError or TypeError naming the field).
    ``methods``: names of :data:`METHODS` (letter case ignored), or one comma-separated string.
    """

    methods: tuple = tuple(METHODS)
    train_steps: int = 32
    batch: int = 4
    length: int = 16384
    seconds: float = 1.0
    audio: str | None = None
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.methods, str):  # one name, or "a,b": not its letters
            object.__setattr__(self, "methods", tuple(
                name.strip() for name in self.methods.split(",") if name.strip()))
        if not self.methods:
            raise ValueError("`methods` must name at least one method.")
        fields = {"methods": tuple(dict.fromkeys(_method_name(name) for name in self.methods)),
                  "train_steps": check.positive_int(self.train_steps, "train_steps"),
                  "batch": check.positive_int(self.batch, "batch"),
                  "length": check.positive_int(self.length, "length"),
                  "seconds": check.positive_number(self.seconds, "seconds"),
                  "seed": check.non_negative_int(self.seed, "seed")}
        for name, value in fields.items():
            object.__setattr__(self, name, value)
        if self.length % FACTOR:
            raise ValueError(f"`length` ({self.length}) must be a multiple of {FACTOR}, the "
                             "auto-encoder's factor.")
        samples = int(round(self.seconds * SAMPLE_RATE))
        if self.audio is None and samples < MIN_ANALYSIS:
            raise ValueError(f"`seconds` ({self.seconds}) gives {samples} samples at "
                             f"{SAMPLE_RATE} Hz; the analysis needs at least {MIN_ANALYSIS}.")


@dataclasses.dataclass(frozen=True)
class Analysis:
    """The analysis signal (mono float64), its sample rate and where it comes from."""

    signal: np.ndarray
    sample_rate: int
    source: str


def analysis_signal(config):
    """The signal the upsamplers' outputs are analysed on: ``config.audio``'s first
    ``config.seconds``, mixed to mono (needs soundfile), else synthetic audio at 16 kHz.
    ValueError for a file that cannot be read or is too short; ImportError without soundfile.
    """
    import numpy as np

    if config.audio is None:
        from upsample1d.audio import synthetic_audio

        length = int(round(config.seconds * SAMPLE_RATE))
        signal = synthetic_audio(1, length, SAMPLE_RATE, seed=config.seed)[0, :, 0]
        return Analysis(signal.astype(np.float64), SAMPLE_RATE,
                        f"synthetic_audio ({SAMPLE_RATE} Hz, {length} samples)")
    try:
        import soundfile
    except ImportError:
        raise ImportError('--audio needs soundfile: pip install "upsample1d[analysis]" (or pip '
                          "install soundfile)") from None
    try:
        data, rate = soundfile.read(config.audio, dtype="float64", always_2d=True)
    except Exception as error:  # noqa: BLE001 - soundfile raises its own types for bad files
        raise ValueError(f"cannot read {config.audio!r} as audio "
                         f"({' '.join(str(error).split())})") from None
    signal = data.mean(axis=1)[: int(round(config.seconds * rate))]
    if len(signal) < MIN_ANALYSIS:
        raise ValueError(f"{config.audio!r} is too short: {len(signal)} samples, need at least "
                         f"{MIN_ANALYSIS}")
    from upsample1d.artifacts import check_analysis

    check_analysis(signal, repr(config.audio))
    return Analysis(signal, int(rate), f"{config.audio} ({rate} Hz, {len(signal)} samples)")


def missing_dependencies():
    """What :func:`run` cannot work without, as an install hint, or None (scipy)."""
    import importlib.util

    if importlib.util.find_spec("scipy") is None:
        return 'compare needs scipy: pip install "upsample1d[analysis]" (or pip install scipy)'
    return None


class Silent:
    """A progress sink that shows nothing; see :class:`ConsoleProgress` for the interface."""

    def stage(self, text):
        """A stage finished: ``text`` is a line to keep."""

    def status(self, text):
        """Work in progress: ``text`` may be shown until the next message."""


class ConsoleProgress(Silent):
    """Progress on a text stream. On a terminal, :meth:`status` rewrites one live line in
    place (carriage return) and :meth:`stage` leaves a line; elsewhere (a file, a pipe, a CI
    log) only the stage lines are written, one per line."""

    def __init__(self, stream, live=None):
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self._shown = 0  # characters of the live line on screen

    def _erase(self):
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def stage(self, text):
        self._erase()
        self.stream.write(text + "\n")
        self.stream.flush()

    def status(self, text):
        if not self.live:
            return
        import shutil

        self._erase()
        text = text[:max(shutil.get_terminal_size().columns - 1, 20)]
        self.stream.write(text)
        self.stream.flush()
        self._shown = len(text)


def training_batch(batch, length, seed, step):
    """Batch ``step`` of the synthetic training audio: made when needed (a long training
    never holds all its data), the same for every upsampler."""
    from upsample1d.audio import synthetic_audio

    return synthetic_audio(batch, length, seed=(seed, step))


def train(model, batch_at, steps, on_step=None):
    """``steps`` Adam steps of an auto-encoder on the batches ``batch_at(step)`` (input =
    target). ``on_step(step, loss)`` after each. Returns (losses, seconds per step)."""
    import numpy as np

    losses, seconds = [], []
    for step in range(steps):
        x = batch_at(step)
        loss, took = timed(model.train_on_batch, x, x)
        losses.append(float(np.asarray(loss).ravel()[0]))
        seconds.append(took)
        if on_step is not None:
            on_step(step + 1, losses[-1])
    return losses, seconds


def initial_weights(model, seed):
    """Every weight of ``model``, in ``model.weights`` order, drawn in NumPy (one
    ``np.random.default_rng(seed)``, in that order) from the distribution of its layer's
    initializer: the same arrays on every backend, where Keras' own draws differ between
    backends for one seed. A weight named ``N`` is drawn from its layer's ``N_initializer``
    (``kernel_initializer``, ``bias_initializer``, ...). Supported: the variance-scaling family
    (``glorot_uniform``, ``he_normal``, ...), :class:`~upsample1d.initializers.ICNR` (one draw
    of its initializer, copied to every phase) and the initializers without randomness
    (``zeros``, ``ones``, constants). ValueError, naming the weight, for any other.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    owner = {}
    for layer in model._flatten_layers():  # Keras' walk of nested layers, parents first
        owner.update({id(weight): layer for weight in layer.weights})
    arrays = []
    for weight in model.weights:
        initializer = getattr(owner[id(weight)], f"{weight.name}_initializer", None)
        shape = tuple(weight.shape)
        try:
            array = _draw(initializer, shape, rng)
        except ValueError as error:
            raise ValueError(f"cannot draw weight {weight.path!r} in NumPy: {error}") from None
        arrays.append(np.asarray(array, dtype=weight.dtype).reshape(shape))
    return arrays


def _draw(initializer, shape, rng):
    """An array of ``shape`` from ``initializer``'s distribution, drawn with ``rng``."""
    import keras
    import numpy as np

    from upsample1d.initializers import ICNR

    if isinstance(initializer, ICNR):  # its layout: see ICNR (DCR tiles, CRD repeats)
        base = _draw(initializer.initializer, (*shape[:-1], shape[-1] // initializer.factor),
                     rng)
        axis = -2 if initializer.mode == "DCR" else -1
        return np.stack([base] * initializer.factor, axis=axis).reshape(shape)
    if isinstance(initializer, keras.initializers.VarianceScaling):
        return _variance_scaling(initializer, shape, rng)
    if initializer is None or hasattr(initializer, "seed"):  # random, drawn by the backend
        raise ValueError(f"no NumPy draw for the initializer {initializer!r}")
    return keras.ops.convert_to_numpy(initializer(shape))  # no randomness: zeros, constants


def _variance_scaling(initializer, shape, rng):
    """Keras' ``VarianceScaling`` in NumPy (its fans, scale, mode and distribution)."""
    import numpy as np

    fan_in, fan_out = _fans(shape, getattr(initializer, "input_axes", None),
                            getattr(initializer, "output_axes", None))
    units = {"fan_in": fan_in, "fan_out": fan_out}.get(initializer.mode,
                                                        (fan_in + fan_out) / 2)
    scale = initializer.scale / max(1.0, units)
    if initializer.distribution == "uniform":
        limit = math.sqrt(3.0 * scale)
        return rng.uniform(-limit, limit, shape)
    if initializer.distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(scale), shape)
    z = rng.standard_normal(shape)  # truncated at 2 standard deviations, as Keras does
    while (outside := np.abs(z) > 2).any():
        z[outside] = rng.standard_normal(int(outside.sum()))
    return z * math.sqrt(scale) / 0.87962566103423978  # std of N(0, 1) truncated at +-2


def _fans(shape, input_axes=None, output_axes=None):
    """Keras' ``(fan_in, fan_out)`` of a weight shape (a conv kernel: ``(..., in, out)``)."""
    if input_axes is not None and output_axes is not None:
        return (math.prod(shape[axis] for axis in input_axes),
                math.prod(shape[axis] for axis in output_axes))
    if len(shape) < 2:
        return (shape[0], shape[0]) if shape else (1, 1)
    field = math.prod(shape[:-2])
    return shape[-2] * field, shape[-1] * field


def _model(upsampler, seed, length, factor=FACTOR, options=None, name=None):
    """The seed auto-encoder with :func:`initial_weights` of ``seed``, compiled (Adam 1e-3,
    MSE)."""
    import keras

    from upsample1d.models import autoencoder

    model = autoencoder(upsampler, length=length, factor=factor, upsampler_options=options,
                        name=name)
    model.set_weights(initial_weights(model, seed))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def _analyse(layer, config, analysis):
    """The artifact reports of ``layer``: the constant probe and the analysis signal."""
    from upsample1d import artifacts

    return {"ones": artifacts.measure(layer, sample_rate=analysis.sample_rate, signal="ones",
                                      seconds=config.seconds, seed=config.seed),
            "audio": artifacts.measure(layer, sample_rate=analysis.sample_rate,
                                       signal=analysis.signal, seed=config.seed)}


def _levels(reports):
    ones = reports["ones"]
    return (f"tonal {_db1(ones.tonal_db)} dB, filtering {_db1(ones.filtering_db)} dB, replica "
            f"{_db1(ones.replica_db)} dB, audio tonal {_db1(reports['audio'].tonal_db)} dB")


def _summary(report):
    """``report.summary()`` with its levels unrounded, so that the table, the console and the
    PNG round each figure once, from the number the JSON holds."""
    summary = report.summary()
    for key in ("tonal_db", "tone_level_db", "filtering_db", "droop_db", "replica_db"):
        summary[key] = float(getattr(report, key))
    summary["line_db"] = [float(level) for level in report.line_db]
    return summary


def _step_ms(row):
    """The train-step cell: the time, or why there is none."""
    if row["train_step_ms"] is None:
        return "n/a"
    return f"{row['train_step_ms']:.1f}"


def _method(name, tag, config, analysis, data, progress):
    """One method through the whole protocol: (row, [(panel title, report), ...])."""
    family, options = METHODS[name]
    progress.status(f"{tag}: building and measuring at init")
    model = _model(family, config.seed, config.length, options=options,
                   name=f"autoencoder_{name}")
    up = model.get_layer("up")
    params = int(model.count_params())
    init = _analyse(up, config, analysis)
    progress.stage(f"{tag}: {params} parameters; at init {_levels(init)}")
    held_out = data["held_out"]
    progress.status(f"{tag}: timing the forward pass")
    model.predict_on_batch(held_out)  # compile
    forward = [timed(model.predict_on_batch, held_out)[1] for _ in range(3)]
    steps = config.train_steps
    losses, step_seconds = train(
        model, lambda step: training_batch(config.batch, config.length, config.seed, step),
        steps, lambda i, loss: progress.status(f"{tag}: step {i}/{steps} loss {loss:.4f}"))
    row = {"method": name, "upsampler": family, "options": options, "parameters": params,
           "forward_ms": median_ms(forward), "train_step_ms": train_step_ms(step_seconds),
           "final_loss": losses[-1],
           "snr_db": snr_db(held_out, model.predict_on_batch(held_out))}
    timing = (f"train step {_step_ms(row)} ms (median of the {steps - WARMUP_STEPS} after the "
              "first, which compiles)" if row["train_step_ms"] is not None else
              f"train step not timed (needs {WARMUP_STEPS + 1} or more train steps: the first "
              "compiles)")
    progress.stage(f"{tag}: forward {row['forward_ms']:.1f} ms, {timing}; trained {steps} "
                   f"steps, loss {losses[-1]:.5f}, SNR {row['snr_db']:.2f} dB")
    progress.status(f"{tag}: measuring after training")
    trained = _analyse(up, config, analysis)
    progress.stage(f"{tag}: after training {_levels(trained)}")
    row["init"] = {probe: _summary(report) for probe, report in init.items()}
    row["trained"] = {probe: _summary(report) for probe, report in trained.items()}
    return row, [(f"{name}, init", init["audio"]), (f"{name}, {steps} steps", trained["audio"])]


@dataclasses.dataclass
class Comparison:
    """What :func:`run` found: ``rows`` (JSON-ready, one per method, in order), ``panels``
    (``(title, ArtifactReport)`` of the analysis signal, at init and trained, per method) and
    ``seconds``, the run time, set once by :meth:`finish`."""

    config: Config
    backend: str
    analysis: str
    rows: list
    panels: list
    started: float
    seconds: float | None = None

    def finish(self):
        """Stop the clock (once) and return the run time in seconds."""
        if self.seconds is None:
            self.seconds = round(clock() - self.started, 1)
        return self.seconds


def run(config, progress=None, analysis=None, started=None):
    """Train and measure every method of ``config``; a :class:`Comparison`.

    ``progress``: a :class:`ConsoleProgress` (or anything with its ``stage`` and ``status``
    methods); default silent. ``analysis``: :func:`analysis_signal(config)
    <analysis_signal>` if already read. ``started``: when the run time's clock started (a
    :data:`clock` reading; default: now, before Keras is imported).
    """
    started = clock() if started is None else started
    progress = progress or Silent()
    analysis = analysis_signal(config) if analysis is None else analysis
    import keras

    from upsample1d.audio import synthetic_audio

    data = {"held_out": synthetic_audio(config.batch, config.length, seed=config.seed + 1)}
    backend = keras.backend.backend()
    progress.stage(f"compare on backend={backend}: {len(config.methods)} upsamplers, "
                   f"auto-encoder length {config.length}, batch {config.batch}, "
                   f"{config.train_steps} train steps; analysis signal {analysis.source}")
    rows, panels = [], []
    for index, name in enumerate(config.methods, 1):
        tag = f"[{index}/{len(config.methods)}] {name}"
        row, method_panels = _method(name, tag, config, analysis, data, progress)
        rows.append(row)
        panels.extend(method_panels)
    return Comparison(config, backend, analysis.source, rows, panels, started)


def table(rows, train_steps):
    """The markdown table of :func:`run`'s rows: each figure of the JSON rounded once (levels
    and times to 1 decimal, the SNR to 2); ``n/a`` for a train step not timed."""
    head = ["upsampler", "params", "forward ms", "train step ms", *COLUMNS,
            f"SNR dB ({train_steps} steps)", *(f"{column} (trained)" for column in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in rows:
        cells = [row["method"], str(row["parameters"]), f"{row['forward_ms']:.1f}",
                 _step_ms(row),
                 *(_db1(row["init"][probe][key]) for probe, key in _COLUMN_KEYS),
                 f"{row['snr_db']:.2f}",
                 *(_db1(row["trained"][probe][key]) for probe, key in _COLUMN_KEYS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def panel_label(report):
    """The line under a panel's title in compare.png: the analysis-signal tonal level, named
    as its table column (``audio tonal dB``, or ``audio tonal dB (trained)``)."""
    return f"audio tonal {_db1(report.tonal_db)} dB"


def plot(result, path=None):
    """The spectrogram grid of ``result`` (two columns: init, trained); the Figure. Needs
    matplotlib."""
    from upsample1d import artifacts

    return artifacts.plot_spectrograms(
        result.panels, path=path, ncols=2, label=panel_label,
        title=f"upsample1d compare ({result.backend}): the analysis signal through each "
              "upsampler")


def _markdown(result):
    config = result.config
    return (f"# upsample1d compare\n\nBackend `{result.backend}`; seed auto-encoder (length "
            f"{config.length}, factor {FACTOR}, batch {config.batch}); {config.train_steps} "
            f"Adam steps on synthetic audio; analysis signal {result.analysis}; run time "
            f"{result.seconds:.1f} s.\n\n{NOTES}\n\n{table(result.rows, config.train_steps)}\n")


def _json(result):
    config = result.config
    return {"backend": result.backend, "seconds": result.seconds,
            "config": {"methods": list(config.methods), "length": config.length,
                       "factor": FACTOR, "batch": config.batch,
                       "train_steps": config.train_steps, "seed": config.seed,
                       "analysis": result.analysis, "analysis_seconds": config.seconds},
            "results": result.rows}


def write(result, out_dir, progress=None):
    """Write ``compare.png`` (skipped, with a note, without matplotlib), then stop the clock
    (:meth:`Comparison.finish`) and write ``compare.md`` and ``compare.json`` with that run
    time. Returns the paths written."""
    progress = progress or Silent()
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    md, js, png = (os.path.join(out_dir, name) for name in FILES)
    try:
        progress.status("drawing the spectrogram grid")
        plot(result, png)
        paths.append(png)
    except ImportError as error:
        progress.stage(f"upsample1d: skipped the spectrogram grid: {error}")
    result.finish()
    with open(md, "w") as f:
        f.write(_markdown(result))
    with open(js, "w") as f:
        json.dump(_json(result), f, indent=2)
    progress.status("")
    return [md, js, *paths]


def autoencoder_demo(steps=8, batch=4, length=16384, factor=4, seed=0, say=print):
    """The ``upsample1d autoencoder`` command: the seed auto-encoder (subpixel) trained
    ``steps`` Adam steps on synthetic audio; ``say`` gets each line (the loss at every step,
    then the final loss and the reconstruction SNR). Returns that SNR in dB."""
    import keras


    model = _model("subpixel", seed, length, factor)
    say(f"seed auto-encoder on backend={keras.backend.backend()}: input {model.input_shape}, "
        f"{model.count_params()} parameters, {steps} steps of batch {batch}")
    losses, _ = train(model, lambda step: training_batch(batch, length, seed, step), steps,
                      lambda step, loss: say(f"step {step}: loss {loss:.6f}"))
    first = training_batch(batch, length, seed, 0)
    snr = snr_db(first, model.predict_on_batch(first))
    say(f"final loss {losses[-1]:.6f}; reconstruction SNR {snr:.2f} dB")
    return snr
