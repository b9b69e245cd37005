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
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import common  # noqa: E402

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
    p.add_argument("--out", default=str(common.REPO_ROOT / "benchmarks" / "results"))
    return p.parse_args(argv)


def run(args):
    import keras

    from upsample1d.layers import TransposedConvUpsample1D

    backend = common.backend_name()
    batch, time, c_in, c_out = SIZES[args.size]
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(rng.standard_normal((batch, time, c_in), dtype=np.float32))
    info = common.machine_info(sample=x)
    results, errors = [], 0
    for factor in args.factors:
        for overlap in OVERLAPS:
            layers = {}
            for impl in ("polyphase", "native"):
                layer = TransposedConvUpsample1D(c_out, factor, overlap=overlap,
                                                 implementation=impl)
                layer.build(tuple(x.shape))
                layers[impl] = layer
            layers["native"].kernel.assign(layers["polyphase"].kernel)
            for which in PASSES:
                row = {"factor": factor, "overlap": overlap,
                       "kernel_size": layers["native"].kernel_size, "pass": which}
                try:
                    outs = {}
                    for impl, layer in layers.items():
                        make = (common.layer_forward if which == "forward"
                                else common.layer_forward_backward)
                        fn = make(layer, backend)
                        y = fn(x)
                        common.sync(y, backend)
                        outs[impl] = keras.ops.convert_to_numpy(y if which == "forward"
                                                                else y[0])
                        if args.repeats:
                            timing = common.time_fn(fn, x, repeats=args.repeats, warmup=1,
                                                    backend=backend)
                        else:
                            timing = common.time_budget(fn, x, budget_s=args.budget, lo=5,
                                                        hi=30, warmup=1, backend=backend)
                        row[impl] = {k: timing[k] for k in ("median_ms", "min_ms", "repeats")}
                    scale = np.max(np.abs(outs["native"])) + 1e-30
                    row["max_rel_diff"] = float(np.max(np.abs(outs["polyphase"]
                                                              - outs["native"])) / scale)
                    row["polyphase_over_native"] = (row["polyphase"]["median_ms"]
                                                    / row["native"]["median_ms"])
                except Exception as exc:  # record it and go on
                    errors += 1
                    row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                    traceback.print_exc(file=sys.stderr)
                results.append(row)
                status = row.get("error") or (
                    f"polyphase {row['polyphase']['median_ms']:.3f} ms, native "
                    f"{row['native']['median_ms']:.3f} ms, ratio "
                    f"{row['polyphase_over_native']:.2f}")
                common.progress(f"x{factor} overlap={overlap} {which}: {status}")
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
        rows.append(head + [common.fmt_ms(r["polyphase"]["median_ms"]),
                            common.fmt_ms(r["native"]["median_ms"]),
                            common.fmt_ratio(ratio),
                            "polyphase" if ratio < 1 else "native"])
    ok = [r for r in results if "error" not in r]
    wins = sum(r["polyphase_over_native"] < 1 for r in ok)
    geo = (float(np.exp(np.mean([np.log(r["polyphase_over_native"]) for r in ok])))
           if ok else None)
    lines = [
        f"## TransposedConvUpsample1D polyphase vs native, {backend}, size {args.size}",
        "",
        common.info_line(info),
        "",
        f"Input {batch}x{time}x{c_in} float32, {c_in} -> {c_out} channels, channels_last; "
        f"calls compiled as Keras trains ({common.COMPILE_MODES.get(backend, backend)}). "
        "Median of synchronised calls (5 to 30 per case after a warm-up call; a call "
        "slower than the 2 s budget is timed once); "
        "forward+backward = gradients of sum(y**2) for the input and the kernel. The CPUs "
        "were shared with other jobs: expect +-10-20% noise per cell.",
        "",
        common.markdown_table(headers, rows, "rllrrrl"),
        "",
        f"Polyphase faster in {wins} of {len(ok)} cases; geometric mean polyphase / native "
        f"{common.fmt_ratio(geo)}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = common.backend_name()
    common.progress(f"bench_transposed on {backend}, size {args.size}")
    info, results, errors = run(args)
    markdown = render(info, results, args)
    payload = {"benchmark": "transposed", "size": args.size, "shape": SIZES[args.size],
               "dtype": "float32", "compiled_as": common.COMPILE_MODES.get(backend),
               "machine": info, "results": results}
    json_path, md_path = common.write_results(args.out, f"transposed-{backend}", payload,
                                              markdown)
    print(markdown)
    common.progress(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
