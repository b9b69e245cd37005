"""TransposedConvUpsample1D: implementation="polyphase" against "native", on the current backend.

Run from the repository root, one backend per process::

    KERAS_BACKEND=jax python -m benchmarks.bench_transposed [--size tiny] [--out DIR]

At input ``(8, 4096, 64)`` float32, 64 -> 64 channels, for factors 2, 4 and 8 and overlap
"none" (kernel = factor) and "full" (kernel = 2 * factor), times the forward pass and a
forward + backward pass (gradients of ``sum(y**2)`` with respect to the input and the kernel)
of both implementations with the same weights. Calls are compiled the way Keras' training
loop runs them on that backend (``jax.jit``, ``tf.function``, PyTorch eager). "polyphase"
runs a stride-1 conv at the input rate on the re-indexed kernel followed by the shuffle;
"native" calls ``keras.ops.conv_transpose``. The table gives each median and the ratio
polyphase / native (below 1: polyphase is faster). Writes ``transposed-<backend>.json`` and
``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks import progress, report, timing
from benchmarks.compiled import COMPILE_MODES, layer_forward, layer_forward_backward
from benchmarks.machine import backend_name, info_line, machine_info

SIZES = {"full": (8, 4096, 64, 64), "tiny": (2, 32, 4, 4)}
FACTORS = (2, 4, 8)
OVERLAPS = ("none", "full")
PASSES = ("forward", "forward+backward")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed calls (default: as many as fit in --budget, 5 to 30; a call "
                   "slower than the budget is timed once)")
    p.add_argument("--budget", type=float, default=2.0, help="seconds per case (default 2)")
    p.add_argument("--factors", type=int, nargs="+", default=list(FACTORS),
                   help="upsampling factors (default 2 4 8)")
    report.add_out_argument(p)
    return p.parse_args(argv)


def make_layers(x, c_out, factor, overlap):
    """{"polyphase": layer, "native": layer}, built, with the same kernel."""
    from upsample1d.layers import TransposedConvUpsample1D

    layers = {}
    for impl in ("polyphase", "native"):
        layer = TransposedConvUpsample1D(c_out, factor, overlap=overlap, implementation=impl)
        layer.build(tuple(x.shape))
        layers[impl] = layer
    layers["native"].kernel.assign(layers["polyphase"].kernel)
    return layers


def compare(layers, which, x, args, backend):
    """Time one pass of both implementations; the fields of a result row."""
    import keras

    row, outs = {}, {}
    make = layer_forward if which == "forward" else layer_forward_backward
    for impl, layer in layers.items():
        fn = make(layer, backend)
        y = fn(x)
        timing.sync(y, backend)
        outs[impl] = keras.ops.convert_to_numpy(y if which == "forward" else y[0])
        if args.repeats:
            t = timing.time_calls(fn, x, repeats=args.repeats, warmup=1, backend=backend)
        else:
            t = timing.time_calls(fn, x, budget_s=args.budget, min_calls=5, max_calls=30,
                                  warmup=1, backend=backend)
        row[impl] = {k: t[k] for k in ("median_ms", "min_ms", "repeats")}
    scale = np.max(np.abs(outs["native"])) + 1e-30
    row["max_rel_diff"] = float(np.max(np.abs(outs["polyphase"] - outs["native"])) / scale)
    row["polyphase_over_native"] = row["polyphase"]["median_ms"] / row["native"]["median_ms"]
    return row


def run(args):
    import keras

    backend = backend_name()
    batch, time, c_in, c_out = SIZES[args.size]
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.standard_normal((batch, time, c_in), dtype=np.float32))
    info = machine_info(sample=x)
    results, errors = [], 0
    total = len(args.factors) * len(OVERLAPS) * len(PASSES)
    with progress.Task("transposed", total) as task:
        for factor in args.factors:
            for overlap in OVERLAPS:
                layers = make_layers(x, c_out, factor, overlap)
                for which in PASSES:
                    row = {"factor": factor, "overlap": overlap,
                           "kernel_size": layers["native"].kernel_size, "pass": which}
                    task.start(f"x{factor} overlap={overlap} {which}")
                    try:
                        row.update(compare(layers, which, x, args, backend))
                        task.done(f"polyphase {row['polyphase']['median_ms']:.3f} ms, native "
                                  f"{row['native']['median_ms']:.3f} ms, ratio "
                                  f"{row['polyphase_over_native']:.2f}")
                    except Exception as exc:  # record it and go on
                        errors += 1
                        row["error"] = progress.failure(task, exc)
                    results.append(row)
    return info, results, errors


def render(info, results, args):
    backend = info["backend"]
    batch, time, c_in, c_out = SIZES[args.size]
    headers = ["factor", "overlap (kernel)", "pass", "polyphase ms", "native ms",
               "polyphase / native", "faster"]
    rows = []
    for r in results:
        head = [r["factor"], f"{r['overlap']} ({r['kernel_size']})", r["pass"]]
        if "error" in r:
            rows.append(head + [f"error: {r['error'][:80]}", "", "", ""])
            continue
        ratio = r["polyphase_over_native"]
        rows.append(head + [report.fmt_ms(r["polyphase"]["median_ms"]),
                            report.fmt_ms(r["native"]["median_ms"]),
                            report.fmt_ratio(ratio),
                            "polyphase" if ratio < 1 else "native"])
    ok = [r for r in results if "error" not in r]
    wins = sum(r["polyphase_over_native"] < 1 for r in ok)
    geo = (float(np.exp(np.mean([np.log(r["polyphase_over_native"]) for r in ok])))
           if ok else None)
    lines = [
        f"## TransposedConvUpsample1D polyphase vs native, {backend}, size {args.size}",
        "",
        info_line(info),
        "",
        f"Input {batch}x{time}x{c_in} float32, {c_in} -> {c_out} channels, channels_last; "
        f"calls compiled as Keras trains ({COMPILE_MODES.get(backend, backend)}). "
        "Median of synchronised calls (5 to 30 per case after a warm-up call; a call "
        "slower than the 2 s budget is timed once); "
        "forward+backward = gradients of sum(y**2) for the input and the kernel. The CPUs "
        "were shared with other jobs: expect +-10-20% noise per cell.",
        "",
        report.markdown_table(headers, rows, "rllrrrl"),
        "",
        f"Polyphase faster in {wins} of {len(ok)} cases; geometric mean polyphase / native "
        f"{report.fmt_ratio(geo)}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = backend_name()
    progress.note(f"bench_transposed on {backend}, size {args.size}")
    info, results, errors = run(args)
    markdown = render(info, results, args)
    payload = {"benchmark": "transposed", "size": args.size, "shape": SIZES[args.size],
               "dtype": "float32", "compiled_as": COMPILE_MODES.get(backend),
               "machine": info, "results": results}
    json_path, md_path = report.write_results(args.out, f"transposed-{backend}", payload,
                                              markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
