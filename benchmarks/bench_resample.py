"""resample_1d against soxr, julius, resampy and scipy's resample_poly: quality and speed.

Run from the repository root, one backend per process::

    KERAS_BACKEND=torch python -m benchmarks.bench_resample [--size tiny] [--part quality speed]

Quality (:func:`upsample1d.artifacts.measure_resampler`, a stepped sweep of unit sines over
the whole input band): for 48 -> 44.1, 44.1 -> 16 and 24 -> 48 kHz, the worst aliasing or
imaging component anywhere in the output (dB re the tone), the passband ripple up to 0.9 of
the lower Nyquist and the -3 dB point, for each quality preset of ours (in float64 where the
backend has it, else float32) and for soxr HQ and VHQ, resample_poly's default, resampy's
kaiser_best and kaiser_fast and julius' default. The same numbers for each preset's filter
alone: passband edge (-0.1 dB), -3 dB point, stopband edge and attenuation, from its
frequency response.

Speed (float32, 48 -> 44.1 kHz): 10 s of mono audio and a batch of 16 x 4 s of stereo; ours
compiled as Keras trains (``jax.jit``, ``tf.function``, PyTorch eager), the others as their
users call them (soxr and resample_poly on NumPy, julius on torch's CPU tensors; torchaudio's
``functional.resample`` needs a torchaudio built for the pinned torch, which is not installed:
not measured); and ours at 1 to 32 s for the log-log slope of time against length.
Targets on the torch backend: ours at least as good as julius (its quality) in at most 1.0x
its time; ``"hq"`` in at most 2.0x soxr HQ's time; slope at most 1.05. Writes
``resample-<backend>.json`` and ``.md`` to ``--out``. The references are the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys

import numpy as np

from benchmarks import progress, report, timing
from benchmarks.compiled import COMPILE_MODES, compile_as_keras_trains
from benchmarks.machine import backend_name, info_line, machine_info

CONVERSIONS = ((48000, 44100), (44100, 16000), (24000, 48000))
SIZES = {
    "full": {"tones": 240, "window": 1 << 14, "mono_s": 10.0, "batch": (16, 4.0, 2),
             "lengths_s": (1, 2, 4, 8, 16, 32)},
    "tiny": {"tones": 8, "window": 1 << 10, "mono_s": 0.1, "batch": (2, 0.1, 2),
             "lengths_s": (0.05, 0.1)},
}
SPEED_RATES = (48000, 44100)
TARGETS = {"julius": 1.0, "soxr HQ": 2.0, "slope": 1.05}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--part", nargs="+", choices=("quality", "speed"),
                   default=["quality", "speed"])
    p.add_argument("--budget", type=float, default=3.0, help="seconds per timed case")
    report.add_out_argument(p)
    return p.parse_args(argv)


def installed(name):
    return importlib.util.find_spec(name) is not None


# --- the resamplers, each (N, T) float64 NumPy -> (N, T') -------------------------------------

def ours(orig, new, quality, dtype):
    import keras

    from upsample1d.ops import resample_1d

    def run(x):
        y = resample_1d(keras.ops.convert_to_tensor(x[..., None], dtype), new, orig, quality)
        return np.asarray(keras.ops.convert_to_numpy(y), np.float64)[..., 0]

    return run


def references(orig, new):
    """name -> (N, T) -> (N, T') for every reference that is installed."""
    found = {}
    if installed("soxr"):
        import soxr

        for quality in ("HQ", "VHQ"):
            found[f"soxr {quality}"] = lambda x, q=quality: soxr.resample(
                x.T, orig, new, q).T
    from scipy.signal import resample_poly

    g = math.gcd(orig, new)
    found["resample_poly"] = lambda x: resample_poly(x, new // g, orig // g, axis=-1)
    if installed("resampy"):
        import resampy

        for name in ("kaiser_best", "kaiser_fast"):
            found[f"resampy {name}"] = lambda x, f=name: resampy.resample(
                x, orig, new, filter=f, axis=-1)
    if installed("julius"):
        import julius
        import torch

        found["julius"] = lambda x: julius.resample_frac(
            torch.from_numpy(x).float(), orig, new).double().numpy()
    return found


def float64_ok():
    import keras

    return keras.backend.standardize_dtype(
        keras.ops.convert_to_tensor(np.zeros(1), "float64").dtype) == "float64"


# --- quality ----------------------------------------------------------------------------------

def quality_rows(args, task):
    from upsample1d import artifacts, filters

    size = SIZES[args.size]
    dtype = "float64" if float64_ok() else "float32"
    rows = []
    for orig, new in CONVERSIONS:
        makers = {f"ours {q}": ours(orig, new, q, dtype) for q in filters.RESAMPLE_PRESETS}
        makers.update(references(orig, new))
        for name, fn in makers.items():
            task.start(f"{orig}->{new} {name}")
            try:
                r = artifacts.measure_resampler(fn, orig, new, tones=size["tones"],
                                                window=size["window"])
                rows.append({"orig": orig, "new": new, "resampler": name,
                             "dtype": dtype if name.startswith("ours") else "",
                             **r.summary()})
                task.done(f"aliasing {r.aliasing_db:.1f} dB")
            except Exception as exc:  # record it and go on
                rows.append({"orig": orig, "new": new, "resampler": name,
                             "error": progress.failure(task, exc)})
    return rows


def filter_rows():
    """Each preset's filter alone: its frequency response (at the up-sampled rate of 48 ->
    44.1 kHz, frequencies in units of the lower Nyquist, where aliasing begins)."""
    from upsample1d import filters

    up, down = 147, 160
    rows = []
    for name, (zeros, rolloff, beta) in filters.RESAMPLE_PRESETS.items():
        h = filters.resample_prototype(up, down, zeros, rolloff, beta) / up
        n = 1 << int(np.ceil(np.log2(len(h) * 64)))
        gain = 20 * np.log10(np.maximum(np.abs(np.fft.rfft(h, n)), 1e-300))
        freq = np.arange(len(gain)) * 2.0 / n * max(up, down)
        far = gain[freq >= 1.1].max()  # the stopband's level, away from the transition
        passband_edge = freq[np.argmax(gain < -0.1)]
        rows.append({"preset": name, "zero_crossings": zeros, "rolloff": rolloff,
                     "kaiser_beta": beta, "passband_edge": float(passband_edge),
                     "cutoff_3db": float(freq[np.argmax(gain < -3.0)]),
                     "nyquist_db": float(gain[np.argmax(freq >= 1.0)]),
                     "stopband_db": float(gain[freq >= 1.0].max()),
                     "floor_db": float(far)})
    return rows


# --- speed ------------------------------------------------------------------------------------

def speed_inputs(size):
    rng = np.random.default_rng(0)
    orig, _ = SPEED_RATES
    mono = rng.standard_normal((1, int(size["mono_s"] * orig), 1), dtype=np.float32)
    count, seconds, channels = size["batch"]
    batch = rng.standard_normal((count, int(seconds * orig), channels), dtype=np.float32)
    return {"10 s mono": mono, "16 x 4 s stereo": batch}


def timed_ours(x, quality, backend, args):
    import keras

    from upsample1d.ops import resample_1d

    orig, new = SPEED_RATES
    fn = compile_as_keras_trains(lambda v: resample_1d(v, new, orig, quality), backend)
    return timing.time_calls(fn, keras.ops.convert_to_tensor(x), budget_s=args.budget)


def timed_reference(name, x, args):
    orig, new = SPEED_RATES
    if name.startswith("soxr"):
        import soxr

        quality = name.split()[1]
        return timing.time_calls(lambda v: [soxr.resample(item, orig, new, quality)
                                            for item in v], x, budget_s=args.budget,
                                 backend="numpy")
    if name == "julius":
        import julius
        import torch

        t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
        return timing.time_calls(lambda v: julius.resample_frac(v, orig, new), t,
                                 budget_s=args.budget, backend="torch")
    from scipy.signal import resample_poly

    g = math.gcd(orig, new)
    return timing.time_calls(lambda v: resample_poly(v, new // g, orig // g, axis=1), x,
                             budget_s=args.budget, backend="numpy")


def speed_rows(args, backend, task):
    size = SIZES[args.size]
    rows = []
    names = ["ours poly", "ours kaiser_fast", "ours hq", "ours vhq", "resample_poly"]
    names += [n for n, ok in (("soxr HQ", installed("soxr")), ("soxr VHQ", installed("soxr")),
                              ("julius", installed("julius"))) if ok]
    for case, x in speed_inputs(size).items():
        for name in names:
            task.start(f"{case} {name}")
            try:
                if name.startswith("ours"):
                    t = timed_ours(x, name.split()[1], backend, args)
                else:
                    t = timed_reference(name, x, args)
                rows.append({"case": case, "resampler": name, "median_ms": t["median_ms"],
                             "seconds_of_audio": x.shape[0] * x.shape[1] / SPEED_RATES[0]})
                task.done(f"{t['median_ms']:.1f} ms")
            except Exception as exc:  # record it and go on
                rows.append({"case": case, "resampler": name,
                             "error": progress.failure(task, exc)})
    return rows


def scaling(args, backend, task):
    """Ours ("hq") on mono audio of each length: times and the log-log slope."""
    rng = np.random.default_rng(1)
    lengths, times = [], []
    for seconds in SIZES[args.size]["lengths_s"]:
        task.start(f"scaling {seconds} s")
        x = rng.standard_normal((1, int(seconds * SPEED_RATES[0]), 1), dtype=np.float32)
        t = timed_ours(x, "hq", backend, args)
        lengths.append(x.shape[1])
        times.append(t["median_ms"])
        task.done(f"{t['median_ms']:.1f} ms")
    slope = float(np.polyfit(np.log(lengths), np.log(times), 1)[0])
    return {"lengths": lengths, "median_ms": times, "slope": slope}


# --- the tables -------------------------------------------------------------------------------

def run(args):
    import keras

    backend = backend_name()
    info = machine_info(sample=keras.ops.zeros((1,)))
    result, errors = {"quality": [], "filters": [], "speed": [], "scaling": None}, 0
    count = (len(CONVERSIONS) * 12 if "quality" in args.part else 0) + (
        2 * 8 + len(SIZES[args.size]["lengths_s"]) if "speed" in args.part else 0)
    with progress.Task("resample", count) as task:
        if "quality" in args.part:
            result["quality"] = quality_rows(args, task)
            result["filters"] = filter_rows()
        if "speed" in args.part:
            result["speed"] = speed_rows(args, backend, task)
            result["scaling"] = scaling(args, backend, task)
    errors = sum("error" in r for r in result["quality"] + result["speed"])
    return info, result, errors


def _quality_table(rows):
    headers = ["conversion", "resampler", "aliasing dB (sweep)", "passband ripple dB (0-0.9)",
               "-3 dB (x lower Nyquist)"]
    lines = []
    for r in rows:
        head = [f"{r['orig'] / 1000:g} -> {r['new'] / 1000:g} kHz", r["resampler"]
                + (f" ({r['dtype']})" if r.get("dtype") else "")]
        if "error" in r:
            lines.append(head + [f"error: {r['error'][:60]}", "", ""])
            continue
        nyquist = min(r["orig"], r["new"]) / 2
        cutoff = "" if r["cutoff_hz"] is None else f"{r['cutoff_hz'] / nyquist:.3f}"
        lines.append(head + [f"{r['aliasing_db']:.1f}", f"{r['passband_ripple_db']:.4f}",
                             cutoff])
    return report.markdown_table(headers, lines, "llrrr")


def _filter_table(rows):
    headers = ["preset", "zero crossings", "rolloff", "Kaiser beta", "passband to (-0.1 dB)",
               "-3 dB", "gain at Nyquist dB", "stopband: worst above Nyquist dB",
               "floor beyond 1.1 dB"]
    lines = [[r["preset"], r["zero_crossings"], f"{r['rolloff']:.4f}", f"{r['kaiser_beta']:g}",
              f"{r['passband_edge']:.3f}", f"{r['cutoff_3db']:.3f}", f"{r['nyquist_db']:.1f}",
              f"{r['stopband_db']:.1f}", f"{r['floor_db']:.1f}"] for r in rows]
    return report.markdown_table(headers, lines, "lrrrrrrrr")


def _speed_table(rows):
    headers = ["case", "resampler", "ms", "x real time"]
    lines = [[r["case"], r["resampler"], report.fmt_ms(r.get("median_ms")) or
              f"error: {r.get('error', '')[:60]}",
              "" if "error" in r else f"{r['seconds_of_audio'] / (r['median_ms'] / 1e3):.0f}"]
             for r in rows]
    return report.markdown_table(headers, lines, "llrr")


def _targets(result):
    ms = {(r["case"], r["resampler"]): r.get("median_ms") for r in result["speed"]}
    quality = {(r["orig"], r["new"], r["resampler"]): r.get("aliasing_db")
               for r in result["quality"]}
    lines = []
    for case in sorted({r["case"] for r in result["speed"]}):
        hq, soxr_hq = ms.get((case, "ours hq")), ms.get((case, "soxr HQ"))
        if hq and soxr_hq:
            lines.append({"target": f"{case}: ours hq / soxr HQ <= {TARGETS['soxr HQ']}",
                          "value": hq / soxr_hq, "ok": hq / soxr_hq <= TARGETS["soxr HQ"]})
        julius_ms = ms.get((case, "julius"))
        alias_julius = quality.get((*SPEED_RATES, "julius"))
        if julius_ms and alias_julius is not None:
            # the cheapest preset of ours at least as clean as julius on this conversion
            for name in ("ours poly", "ours kaiser_fast", "ours kaiser_best", "ours hq"):
                alias = quality.get((*SPEED_RATES, name))
                if alias is not None and alias <= alias_julius and ms.get((case, name)):
                    value = ms[(case, name)] / julius_ms
                    lines.append({"target": f"{case}: {name} (aliasing {alias:.0f} dB vs "
                                            f"julius' {alias_julius:.0f}) / julius <= "
                                            f"{TARGETS['julius']}",
                                  "value": value, "ok": value <= TARGETS["julius"]})
                    break
    if result["scaling"]:
        slope = result["scaling"]["slope"]
        lines.append({"target": f"log-log slope of ours hq (time vs length) <= "
                                f"{TARGETS['slope']}",
                      "value": slope, "ok": slope <= TARGETS["slope"]})
    return report.target_lines(lines)


def render(info, result, args):
    backend = info["backend"]
    lines = [f"## resample_1d against soxr, julius, resampy and resample_poly, {backend}, "
             f"size {args.size}", "", info_line(info), ""]
    if result["quality"]:
        lines += ["### Quality: a stepped sweep of unit sines over the input band", "",
                  "aliasing: the strongest output component that is not the tone itself "
                  "(aliases of tones above the new Nyquist, images of the input band), worst "
                  "over the sweep; ripple: peak-to-peak gain up to 0.9 of the lower Nyquist; "
                  "-3 dB: where the gain first falls below -3 dB.", "",
                  _quality_table(result["quality"]), "",
                  "### The presets' filters alone (frequencies in units of the lower Nyquist, "
                  "where aliasing begins; the transition band runs from the passband edge to "
                  "where the gain reaches the stopband level)",
                  "", _filter_table(result["filters"]), ""]
    if result["speed"]:
        lines += [f"### Speed, float32, {SPEED_RATES[0] / 1000:g} -> "
                  f"{SPEED_RATES[1] / 1000:g} kHz", "",
                  f"Ours compiled as Keras trains ({COMPILE_MODES.get(backend, backend)}); "
                  "medians of synchronised calls after a warm-up. torchaudio: not installed "
                  "(no build for the pinned torch), not measured.", "",
                  _speed_table(result["speed"]), ""]
        s = result["scaling"]
        lines += ["Ours (hq) by length: " + ", ".join(
            f"{n / SPEED_RATES[0]:g} s {report.fmt_ms(t)} ms"
            for n, t in zip(s["lengths"], s["median_ms"], strict=True))
            + f"; log-log slope {s['slope']:.3f}.", ""]
        if backend == "torch":
            lines += _targets(result)
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = backend_name()
    progress.note(f"bench_resample on {backend}, size {args.size}")
    info, result, errors = run(args)
    markdown = render(info, result, args)
    payload = {"benchmark": "resample", "size": args.size, "machine": info, **result}
    json_path, md_path = report.write_results(args.out, f"resample-{backend}", payload,
                                              markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
