"""BigVGAN inference: this package's generator against the official one (``bigvgan==2.4.1``,
PyTorch, ``use_cuda_kernel=False``), on the current backend.

Run from the repository root, one backend per process::

    KERAS_BACKEND=torch python -m benchmarks.bench_vocoder [--size tiny] [--out DIR]

The 24 kHz config ``bigvgan_v2_24khz_100band_256x`` (full width: 112 M parameters; ``tiny``
uses 64 channels) with the official generator's own random initialisation, loaded into
:func:`upsample1d.bigvgan.bigvgan` through :func:`~upsample1d.bigvgan.from_state_dict`.
For 1 s and 10 s of audio (94 and 938 mel frames, batch 1), times the forward pass of ours
(compiled as Keras runs inference: ``jax.jit``, ``tf.function``, PyTorch eager under
``no_grad``), channels_first and channels_last (``--layouts``; ``channels_first-native``
runs the upsamplers as ``implementation="native"``), and of the official generator (PyTorch eager,
``no_grad``) in the same process, calls interleaved (the order rotated each round) so that
load from other jobs hits all alike. The table gives medians, the real-time factor (time /
audio duration; below 1 is faster than real time), ours / official (the median over rounds
of the two times in one round) and the largest difference of the outputs relative to the
official peak. Target on the torch backend: ours <= 1.0x the official time. Writes
``vocoder-<backend>.json`` and ``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

import numpy as np

from benchmarks import progress, report
from benchmarks.bench_alias_free import interleaved, paired_ratio
from benchmarks.compiled import COMPILE_MODES, layer_forward
from benchmarks.machine import backend_name, info_line, machine_info

CONFIG = {"resblock": "1", "upsample_rates": [4, 4, 2, 2, 2, 2],
          "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4], "upsample_initial_channel": 1536,
          "resblock_kernel_sizes": [3, 7, 11],
          "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
          "use_tanh_at_final": False, "use_bias_at_final": False, "activation": "snakebeta",
          "snake_logscale": True, "num_mels": 100, "n_fft": 1024, "hop_size": 256,
          "win_size": 1024, "sampling_rate": 24000, "fmin": 0, "fmax": None}
SIZES = {"full": (1536, (1.0, 10.0)), "tiny": (64, (0.05,))}
# a layout, optionally with the transposed upsamplers' implementation (default: polyphase)
LAYOUTS = ("channels_first", "channels_last", "channels_first-native")
TARGET = 1.0  # ours / official on the torch backend


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--seconds", type=float, nargs="+", default=None,
                   help="audio durations (default: 1 and 10 s; tiny: 0.05 s)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed rounds (default: as many as fit in --budget, 3 to 15)")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds per case (default 60: about 15 rounds at 1 s of audio on 2 "
                   "CPU cores, the 3-round minimum at 10 s)")
    p.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS[:2]),
                   help="our variants: a data format, '-native' for torch's own transposed "
                   "conv in the upsamplers (default: both data formats, polyphase)")
    report.add_out_argument(p)
    return p.parse_args(argv)


def has_reference():
    return importlib.util.find_spec("bigvgan") is not None


def models(width, layouts):
    """The official generator (torch, eval mode, weight norm removed as for inference) and
    ours with its weights, per layout; without the official package, ours with fresh
    weights only."""
    from upsample1d.bigvgan import bigvgan, from_state_dict

    config = {**CONFIG, "upsample_initial_channel": width}
    official = None
    if has_reference():
        import torch
        from bigvgan.bigvgan import BigVGAN
        from bigvgan.env import AttrDict

        torch.manual_seed(0)
        official = BigVGAN(AttrDict(dict(config)), use_cuda_kernel=False).eval()
        official.remove_weight_norm()
    ours = {}
    for variant in layouts:
        layout, _, implementation = variant.partition("-")
        options = {"implementation": implementation} if implementation else None
        model = bigvgan(config, data_format=layout, upsampler_options=options)
        ours[variant] = from_state_dict(model, official.state_dict()) if official else model
    return official, ours


def run_case(seconds, official, ours, args, backend):
    import keras
    import torch

    frames = max(1, round(seconds * CONFIG["sampling_rate"] / CONFIG["hop_size"]))
    mel = np.random.default_rng(0).normal(-6, 2, (1, CONFIG["num_mels"], frames))
    mel = mel.astype(np.float32)
    fns = {layout: layer_forward(model, backend) for layout, model in ours.items()}
    x = {variant: keras.ops.convert_to_tensor(mel if model.data_format == "channels_first"
                                              else np.ascontiguousarray(mel.transpose(0, 2, 1)))
         for variant, model in ours.items()}
    row = {"seconds": seconds, "frames": frames, "samples": frames * CONFIG["hop_size"],
           "max_rel_diff": None}
    if official is not None:
        def theirs(m):
            with torch.no_grad():
                return official(m)

        fns["theirs"], x["theirs"] = theirs, torch.from_numpy(mel)
        first = next(iter(ours))
        got = np.asarray(keras.ops.convert_to_numpy(fns[first](x[first])))
        if ours[first].data_format == "channels_last":
            got = got.transpose(0, 2, 1)
        want = theirs(x["theirs"]).numpy()
        row["max_rel_diff"] = float(np.abs(got - want).max() / np.abs(want).max())
    row.update(interleaved(fns, x, args, backend))
    audio_s = row["samples"] / CONFIG["sampling_rate"]
    for name in fns:
        row[name]["rtf"] = row[name]["median_ms"] / 1e3 / audio_s
        if name != "theirs":
            row[name]["over_theirs"] = paired_ratio(row, name) if "theirs" in row else None
    return row


def run(args):
    import torch

    backend = backend_name()
    width, durations = SIZES[args.size]
    info = machine_info()
    info["torch_threads"] = torch.get_num_threads()
    results, errors = [], 0
    with progress.Task("vocoder", len(args.seconds or durations)) as task:
        task.start("building the generators")
        official, ours = models(width, args.layouts)
        for seconds in args.seconds or durations:
            task.start(f"{seconds:g} s of audio")
            try:
                row = run_case(seconds, official, ours, args, backend)
                task.done(", ".join(f"{name} {row[name]['median_ms']:.0f} ms"
                                    for name in (*ours, "theirs") if name in row))
            except Exception as exc:  # record it and go on
                errors += 1
                row = {"seconds": seconds, "error": progress.failure(task, exc)}
            results.append(row)
    return info, results, errors


def render(info, results, args):
    backend = info["backend"]
    width, _ = SIZES[args.size]
    headers = ["audio s", "layout", "ms", "real-time factor", "ours / official",
               "max rel diff"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([f"{r['seconds']:g}", f"error: {r['error'][:80]}", "", "", "", ""])
            continue
        for name in (*args.layouts, "theirs"):
            if name not in r:
                continue
            label = "official (torch)" if name == "theirs" else f"ours, {name}"
            rows.append([f"{r['seconds']:g}", label, report.fmt_ms(r[name]["median_ms"]),
                         f"{r[name]['rtf']:.3f}", report.fmt_ratio(r[name].get("over_theirs")),
                         "" if name == "theirs" or r["max_rel_diff"] is None
                         else f"{r['max_rel_diff']:.1e}"])
    lines = [
        f"## BigVGAN inference (24 kHz, {width} channels) vs the official generator, "
        f"{backend}, size {args.size}", "", info_line(info), "",
        f"bigvgan_v2_24khz_100band_256x with upsample_initial_channel={width}, batch 1, "
        f"float32; ours compiled as Keras runs inference ({COMPILE_MODES.get(backend)}), the "
        f"official bigvgan 2.4.1 generator (weight norm removed, use_cuda_kernel=False) eager "
        f"on torch's CPU ({info['torch_threads']} threads"
        f"{'' if has_reference() else '; bigvgan is not installed: no reference'}). Medians "
        "of interleaved calls after a warm-up (the order rotated each round); ours / "
        "official: the median over rounds of the two times in one round; real-time factor "
        "= time / audio duration. "
        "max rel diff: max |ours - official| / max |official| (the first layout). The CPUs "
        "were shared with other jobs: expect +-10-20% noise per cell.", "",
        report.markdown_table(headers, rows, "rlrrrr"), ""]
    ok = [r for r in results if "error" not in r and "theirs" in r]
    if backend == "torch" and ok:
        lines += report.target_lines([
            {"target": f"{r['seconds']:g} s, {layout}: ours / official <= {TARGET}",
             "value": r[layout]["over_theirs"], "ok": r[layout]["over_theirs"] <= TARGET}
            for r in ok for layout in args.layouts])
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = backend_name()
    progress.note(f"bench_vocoder on {backend}, size {args.size}")
    info, results, errors = run(args)
    markdown = render(info, results, args)
    payload = {"benchmark": "vocoder", "size": args.size, "config": CONFIG,
               "width": SIZES[args.size][0], "compiled_as": COMPILE_MODES.get(backend),
               "machine": info, "results": results}
    json_path, md_path = report.write_results(args.out, f"vocoder-{backend}", payload,
                                              markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
