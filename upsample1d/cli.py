"""The ``upsample1d`` command (also ``python -m upsample1d``)."""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_TRAIN_STEPS = 32
DEFAULT_BATCH = 4


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _autoencoder(args):
    import keras
    import numpy as np

    from upsample1d.audio import synthetic_audio
    from upsample1d.models import autoencoder

    keras.utils.set_random_seed(args.seed)
    model = autoencoder("subpixel", length=args.length, factor=args.factor)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    audio = synthetic_audio(args.batch * args.steps, args.length, seed=args.seed)
    print(f"seed auto-encoder on backend={keras.backend.backend()}: input {model.input_shape}, "
          f"{model.count_params()} parameters, {args.steps} steps of batch {args.batch}",
          flush=True)
    history = model.fit(audio, audio, batch_size=args.batch, epochs=1, verbose=0,
                        callbacks=[_PrintLoss()], shuffle=False)
    losses = history.history["loss"]
    recon = model.predict(audio[: args.batch], verbose=0)
    snr = 10 * np.log10(np.sum(audio[: args.batch] ** 2) / np.sum((recon - audio[: args.batch])
                                                                  ** 2))
    print(f"final loss {losses[-1]:.6f}; reconstruction SNR {snr:.2f} dB", flush=True)
    return 0


class _PrintLoss:
    """Created lazily so importing the CLI does not import Keras."""

    def __new__(cls):
        import keras

        class PrintLoss(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                print(f"step {batch + 1}: loss {logs['loss']:.6f}", flush=True)

        return PrintLoss()


# `compare`: upsampler name -> (autoencoder(upsampler=...), upsampler_options)
COMPARE_METHODS = {
    "subpixel-glorot": ("subpixel", {"kernel_initializer": "glorot_uniform"}),
    "subpixel-icnr": ("subpixel", {}),
    "transposed-none": ("transposed", {"overlap": "none"}),
    "transposed-full": ("transposed", {"overlap": "full"}),
    "nearest": ("nearest", {}),
    "linear": ("linear", {}),
    "sinc": ("sinc", {}),
}


def _methods(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of upsamplers")
    unknown = [name for name in names if name not in COMPARE_METHODS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown method {unknown[0]!r} (choose from "
                                         f"{', '.join(COMPARE_METHODS)})")
    return list(dict.fromkeys(names))


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _audio_file(path):
    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"no such file: {path!r}")
    try:
        import soundfile
    except ImportError:
        raise argparse.ArgumentTypeError('--audio needs soundfile: pip install '
                                         '"upsample1d[audio]"') from None
    try:
        soundfile.info(path)
    except Exception as error:  # soundfile raises its own error types for unreadable files
        message = " ".join(str(error).split())
        raise argparse.ArgumentTypeError(f"cannot read {path!r} as audio ({message})") from None
    return path


def _progress(message):
    print(message, file=sys.stderr, flush=True)


def _snr_db(reference, estimate):
    import numpy as np

    noise = np.sum((np.asarray(estimate, np.float64) - reference) ** 2)
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / max(noise, 1e-30)))


def _median_ms(durations):
    import numpy as np

    return float(np.median(durations) * 1000) if durations else float("nan")


def _compare(args):
    import json
    import time

    import keras
    import numpy as np

    from upsample1d import artifacts
    from upsample1d.audio import synthetic_audio
    from upsample1d.models import autoencoder

    start = time.perf_counter()
    factor = 4
    if args.length % factor:
        raise ValueError(f"--length ({args.length}) must be a multiple of {factor}")
    if args.audio:
        import soundfile

        try:
            data, sample_rate = soundfile.read(args.audio, dtype="float64", always_2d=True)
        except Exception as error:  # noqa: BLE001 - any read failure is a bad argument here
            raise ValueError(f"cannot read {args.audio!r}: {' '.join(str(error).split())}") \
                from None
        analysis = data.mean(axis=1)[: int(round(args.seconds * sample_rate))]
        source = f"{args.audio} ({sample_rate} Hz, {len(analysis)} samples)"
        if len(analysis) < 64 * factor:
            raise ValueError(f"--audio {args.audio!r} is too short: {len(analysis)} samples, "
                             f"need at least {64 * factor}")
    else:
        sample_rate = 16000
        analysis = synthetic_audio(1, int(round(args.seconds * sample_rate)), sample_rate,
                                   seed=args.seed)[0, :, 0]
        source = f"synthetic_audio ({sample_rate} Hz, {len(analysis)} samples)"
    train = synthetic_audio(args.batch * args.train_steps, args.length, seed=args.seed)
    held_out = synthetic_audio(args.batch, args.length, seed=args.seed + 1)
    os.makedirs(args.out, exist_ok=True)
    backend = keras.backend.backend()
    _progress(f"compare on backend={backend}: {len(args.methods)} upsamplers, auto-encoder "
              f"length {args.length}, batch {args.batch}, {args.train_steps} train steps; "
              f"analysis signal {source}")

    def analyse(layer):
        ones = artifacts.measure(layer, sample_rate=sample_rate, signal="ones",
                                 seconds=args.seconds, seed=args.seed)
        audio = artifacts.measure(layer, sample_rate=sample_rate, signal=analysis,
                                  seed=args.seed)
        return ones, audio

    rows, panels = [], {}
    for index, name in enumerate(args.methods, 1):
        tag = f"[{index}/{len(args.methods)}] {name}"
        family, options = COMPARE_METHODS[name]
        keras.utils.set_random_seed(args.seed)
        model = autoencoder(family, length=args.length, factor=factor,
                            upsampler_options=options, name=f"autoencoder_{name}")
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        up = model.get_layer("up")
        params = int(model.count_params())
        init_ones, init_audio = analyse(up)
        _progress(f"{tag}: {params} parameters; at init tonal {init_ones.tonal_db:.1f} dB, "
                  f"filtering {init_ones.filtering_db:.1f} dB, replica "
                  f"{init_ones.replica_db:.1f} dB")
        model.predict_on_batch(held_out)  # compile
        forward = []
        for _ in range(3):
            tick = time.perf_counter()
            model.predict_on_batch(held_out)
            forward.append(time.perf_counter() - tick)
        steps, loss = [], float("nan")
        for step in range(args.train_steps):
            x = train[step * args.batch:(step + 1) * args.batch]
            tick = time.perf_counter()
            loss = float(np.asarray(model.train_on_batch(x, x)).ravel()[0])
            steps.append(time.perf_counter() - tick)
        snr = _snr_db(held_out, model.predict_on_batch(held_out))
        _progress(f"{tag}: forward {_median_ms(forward):.1f} ms, train step "
                  f"{_median_ms(steps[1:] or steps):.1f} ms; trained {args.train_steps} steps, "
                  f"loss {loss:.5f}, SNR {snr:.2f} dB")
        trained_ones, trained_audio = analyse(up)
        _progress(f"{tag}: after training tonal {trained_ones.tonal_db:.1f} dB, filtering "
                  f"{trained_ones.filtering_db:.1f} dB, replica {trained_ones.replica_db:.1f} dB")
        rows.append({
            "method": name, "upsampler": family, "options": options, "parameters": params,
            "forward_ms": round(_median_ms(forward), 3),
            "train_step_ms": round(_median_ms(steps[1:] or steps), 3),
            "final_loss": loss, "snr_db": round(snr, 3),
            "init": {"ones": init_ones.summary(), "audio": init_audio.summary()},
            "trained": {"ones": trained_ones.summary(), "audio": trained_audio.summary()},
        })
        panels[f"{name}, init"] = init_audio
        panels[f"{name}, {args.train_steps} steps"] = trained_audio

    table = _compare_table(rows, args.train_steps)
    seconds = time.perf_counter() - start
    header = (f"# upsample1d compare\n\nBackend `{backend}`; seed auto-encoder (length "
              f"{args.length}, factor {factor}, batch {args.batch}); {args.train_steps} Adam "
              f"steps on synthetic audio; analysis signal {source}; {seconds:.1f} s.\n\n"
              "tonal: strongest line at multiples of fs_in above its floor, constant input "
              "(`measure(signal='ones')`); audio tonal: the same on the analysis signal; "
              "filtering: 10-50 % vs 75-100 % of the input band, white noise; replica: images "
              "of a sine vs the sine (see `upsample1d.artifacts.measure`).\n\n")
    paths = {name: os.path.join(args.out, f"compare.{name}") for name in ("md", "json", "png")}
    with open(paths["md"], "w") as f:
        f.write(header + table + "\n")
    with open(paths["json"], "w") as f:
        json.dump({"backend": backend, "seconds": round(seconds, 2), "config": {
            "length": args.length, "factor": factor, "batch": args.batch,
            "train_steps": args.train_steps, "seed": args.seed, "analysis": source,
            "analysis_seconds": args.seconds}, "results": rows}, f, indent=2)
    try:
        artifacts.plot_spectrograms(panels, path=paths["png"], ncols=2,
                                    title=f"upsample1d compare ({backend})")
    except ImportError as error:
        _progress(f"upsample1d: skipped the spectrogram grid: {error}")
        del paths["png"]
    print(table, flush=True)
    print(f"\nwrote {', '.join(paths.values())} in {time.perf_counter() - start:.1f} s",
          flush=True)
    return 0


def _compare_table(rows, steps):
    head = ["upsampler", "params", "forward ms", "train step ms", "tonal dB", "filtering dB",
            "replica dB", "audio tonal dB", f"SNR dB ({steps} steps)", "tonal dB (trained)",
            "filtering dB (trained)", "replica dB (trained)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in rows:
        init, trained = row["init"]["ones"], row["trained"]["ones"]
        cells = [row["method"], str(row["parameters"]), f"{row['forward_ms']:.1f}",
                 f"{row['train_step_ms']:.1f}", f"{init['tonal_db']:.1f}",
                 f"{init['filtering_db']:.1f}", f"{init['replica_db']:.1f}",
                 f"{row['init']['audio']['tonal_db']:.1f}", f"{row['snr_db']:.2f}",
                 f"{trained['tonal_db']:.1f}", f"{trained['filtering_db']:.1f}",
                 f"{trained['replica_db']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit code 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="upsample1d", description=__doc__)
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"),
                        help="Keras backend (default: KERAS_BACKEND or Keras' own default)")
    sub = parser.add_subparsers(dest="command", required=True)
    ae = sub.add_parser("autoencoder", help="train the seed article's auto-encoder a few steps "
                        "on synthetic audio and print the loss")
    ae.add_argument("--steps", type=_positive_int, default=8)
    ae.add_argument("--batch", type=_positive_int, default=4)
    ae.add_argument("--length", type=_positive_int, default=16384)
    ae.add_argument("--factor", type=_positive_int, default=4)
    ae.add_argument("--seed", type=int, default=0)
    ae.set_defaults(run=_autoencoder)
    cmp = sub.add_parser(
        "compare", help="compare the upsamplers in the seed auto-encoder: size, speed, "
        "tonal/filtering/replica artifacts at init and after training; writes a markdown "
        "table, JSON and a spectrogram grid")
    cmp.add_argument("--methods", type=_methods, default=list(COMPARE_METHODS),
                     help=f"comma-separated subset of {','.join(COMPARE_METHODS)} (default: all)")
    cmp.add_argument("--train-steps", type=_positive_int, default=DEFAULT_TRAIN_STEPS,
                     help="Adam steps on synthetic audio per upsampler (default: %(default)s)")
    cmp.add_argument("--batch", type=_positive_int, default=DEFAULT_BATCH)
    cmp.add_argument("--length", type=_positive_int, default=16384,
                     help="auto-encoder input length, a multiple of 4 (default: %(default)s)")
    cmp.add_argument("--seconds", type=_positive_float, default=1.0,
                     help="length of the analysis probes in seconds (default: %(default)s)")
    cmp.add_argument("--audio", type=_audio_file,
                     help="a sound file (read with soundfile) to use as the analysis signal "
                     "instead of synthetic audio; its first --seconds, mixed to mono")
    cmp.add_argument("--out", default=os.path.join("out", "compare"),
                     help="output folder (default: %(default)s)")
    cmp.add_argument("--seed", type=int, default=0)
    cmp.set_defaults(run=_compare)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.backend:
        import keras

        if keras.backend.backend() != args.backend:
            # Keras fixed its backend when this package was imported: start again on the
            # requested one.
            os.environ["KERAS_BACKEND"] = args.backend
            os.execv(sys.executable, [sys.executable, "-m", "upsample1d", *argv])
    try:
        return args.run(args)
    except ValueError as error:
        print(f"upsample1d: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
