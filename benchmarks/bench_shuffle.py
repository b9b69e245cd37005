"""Benchmark the 1-D pixel shuffle under the current Keras backend.

Run from the repository root, one backend per process::

    KERAS_BACKEND=jax        python -m benchmarks.bench_shuffle
    KERAS_BACKEND=tensorflow python -m benchmarks.bench_shuffle
    KERAS_BACKEND=torch      python -m benchmarks.bench_shuffle --parts overhead --out /tmp/b
    python -m benchmarks.bench_shuffle --size tiny     # CI smoke run: tiny input, 3 repeats

Throughput rows (``--parts throughput``): at input (16, 4096, 256) float32 and r=4
(channels_first: (16, 256, 4096)), ``depth_to_space_1d`` for both data formats and both
modes, the ``Subpixel1D`` layer, the seed article's TF layer (tensorflow only),
``keras.layers.UpSampling1D(4)`` on (16, 4096, 64) (the same output size), and a plain copy
``x * 1`` as the baseline. Each runs eagerly (as a user calls it) and compiled: ``jax.jit``;
``tf.function`` without and with XLA (``jit_compile=True``); ``torch.compile`` (skipped for
``--size tiny`` unless asked for).

In eager mode a pure reshape returns a view (TF, torch) and costs next to nothing; compiled,
a function must return a fresh buffer, so it costs a copy. Both are reported, each as a
ratio to the copy in the same mode.

Overhead rows (``--parts overhead``, :mod:`benchmarks.shuffle_overhead`): eager per-call time
of ``depth_to_space_1d`` (DCR, CRD) and ``Subpixel1D(4)`` at input (2, 1024, 64) against the
same shuffle in the framework's own API, in microseconds per call (2000 calls; 200 with
``--size tiny``) and as a ratio ours / native.

Writes ``shuffle-<backend>.json`` and ``shuffle-<backend>.md`` to ``--out`` and prints the
table.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchmarks import progress, report, shuffle_overhead, timing
from benchmarks.machine import backend_name, info_line, machine_info

SIZES = {
    # (batch, time, channels_in) with channels_in = r * channels_out
    "full": (16, 4096, 256),
    "tiny": (2, 64, 16),
}
BLOCK = 4
COPY = "copy x * 1"
OURS = "depth_to_space_1d channels_last DCR"
SEED = "seed TF layer (transpose, batch_to_space, transpose)"
# Targets checked at the end. Timing noise makes two memcpys differ by a few percent either
# way, so "no more than the copy" allows this much.
COPY_TOLERANCE = 1.05
SEED_FACTOR = 20.0


PARTS = ("throughput", "overhead")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                   help="throughput: the large-input rows; overhead: the per-call rows "
                   "(default: both)")
    p.add_argument("--repeats", type=int, default=None, help="timed calls (default 20; tiny 3)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    p.add_argument("--overhead-calls", type=int, default=None,
                   help="eager calls per function in the overhead rows (default 2000; tiny "
                   "200)")
    report.add_out_argument(p)
    p.add_argument(
        "--torch-compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time torch.compile (default: on, except with --size tiny)",
    )
    p.add_argument("--no-compiled", action="store_true", help="time eager mode only")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.size == "tiny" else 20
    if args.torch_compile is None:
        args.torch_compile = args.size != "tiny"
    if args.overhead_calls is None:
        args.overhead_calls = shuffle_overhead.CALLS[args.size]
    return args


def make_modes(backend, args):
    """[(mode name, wrap(fn) -> compiled fn)], eager first."""
    modes = [("eager", lambda fn: fn)]
    if args.no_compiled:
        return modes
    if backend == "jax":
        import jax

        modes.append(("jax.jit", jax.jit))
    elif backend == "tensorflow":
        import tensorflow as tf

        modes.append(("tf.function", lambda fn: tf.function(fn, jit_compile=False)))
        modes.append(("tf.function XLA", lambda fn: tf.function(fn, jit_compile=True)))
    elif backend == "torch" and args.torch_compile:
        import torch

        modes.append(("torch.compile", torch.compile))
    return modes


def make_cases(backend):
    """[(name, input key, fn)]. Input keys: cl (B, T, C*r), cf (B, C*r, T), up (B, T, C)."""
    import keras

    from upsample1d.layers import Subpixel1D
    from upsample1d.ops import depth_to_space_1d

    def d2s(data_format, mode):
        return lambda x: depth_to_space_1d(x, BLOCK, data_format, mode)

    subpixel = Subpixel1D(BLOCK, data_format="channels_last", mode="DCR")
    upsampling = keras.layers.UpSampling1D(BLOCK)
    cases = [(COPY, "cl", lambda x: x * 1)]
    for data_format, key in (("channels_last", "cl"), ("channels_first", "cf")):
        for mode in ("DCR", "CRD"):
            cases.append((f"depth_to_space_1d {data_format} {mode}", key, d2s(data_format, mode)))
    cases.append(("Subpixel1D layer (channels_last, DCR)", "cl", lambda x: subpixel(x)))
    if backend == "tensorflow":
        from backends.tensorflow import subpixel1d_seed

        cases.append((SEED, "cl", lambda x: subpixel1d_seed(x, BLOCK)))
    cases.append((f"keras UpSampling1D({BLOCK})", "up", lambda x: upsampling(x)))
    return cases


def make_inputs(shape):
    from keras import ops

    b, t, d = shape
    rng = np.random.default_rng(0)
    cl = rng.standard_normal((b, t, d), dtype=np.float32)
    return {
        "cl": ops.convert_to_tensor(cl),
        "cf": ops.convert_to_tensor(np.ascontiguousarray(cl.transpose(0, 2, 1))),
        "up": ops.convert_to_tensor(cl[:, :, : d // BLOCK].copy()),
    }


def expected_shape(key, shape):
    b, t, d = shape
    if key == "cf":
        return (b, d // BLOCK, t * BLOCK)
    return (b, t * BLOCK, d // BLOCK)  # cl shuffled, and up (UpSampling1D of (b, t, d // r))


def time_case(name, key, fn, mode, wrap, inputs, shape, args, backend):
    """One row of the throughput table: ``fn`` compiled by ``wrap``, checked and timed."""
    x = inputs[key]
    row = {"case": name, "mode": mode, "input": list(x.shape)}
    try:
        compiled = wrap(fn)
        y = compiled(x)
        timing.sync(y, backend)
        want = shape if name == COPY else expected_shape(key, shape)
        if tuple(y.shape) != tuple(want):
            raise AssertionError(f"output shape {tuple(y.shape)}, expected {want}")
        del y
        row.update(timing.time_calls(compiled, x, repeats=args.repeats, warmup=args.warmup,
                                     backend=backend))
    except Exception as exc:  # record it and go on with the other cases
        row["error"] = report.short_error(exc)
        progress.log_exception()
    return row


def run(args):
    """(machine info, throughput rows, overhead rows, targets, number of errors)."""
    backend = backend_name()
    shape = SIZES[args.size]
    cases = make_cases(backend) if "throughput" in args.parts else []
    inputs = make_inputs(shape if cases else (1, BLOCK, BLOCK))
    info = machine_info(sample=inputs["cl"])
    modes = make_modes(backend, args)
    results, overhead = [], []
    with progress.Task("shuffle", len(cases) * len(modes) + ("overhead" in args.parts)) as task:
        for name, key, fn in cases:
            for mode, wrap in modes:
                task.start(f"{mode} {name}")
                row = time_case(name, key, fn, mode, wrap, inputs, shape, args, backend)
                results.append(row)
                task.done(f"error: {row['error'][:80]}" if "error" in row
                          else f"{row['median_ms']:.4f} ms")
        errors = sum("error" in row for row in results)
        if "overhead" in args.parts:
            overhead, failed = shuffle_overhead.run(backend, args.size, args.overhead_calls,
                                                    task)
            errors += failed
    add_ratios(results, backend)
    targets = check_targets(results, backend) + shuffle_overhead.targets(overhead, backend)
    return info, results, overhead, targets, errors


def _median(results, case, mode):
    for row in results:
        if row["case"] == case and row["mode"] == mode and "median_ms" in row:
            return row["median_ms"]
    return None


def add_ratios(results, backend):
    for row in results:
        if "median_ms" not in row:
            continue
        copy = _median(results, COPY, row["mode"])
        row["vs_copy"] = row["median_ms"] / copy if copy else None
        if backend == "tensorflow" and row["case"].startswith(("depth_to_space", "Subpixel")):
            seed = _median(results, SEED, row["mode"])
            row["seed_over_this"] = seed / row["median_ms"] if seed else None


def check_targets(results, backend):
    """channels_last DCR <= copy (every mode), and >= 20x faster than the seed (TF)."""
    targets = []
    for row in results:
        if row["case"] != OURS:
            continue
        ratio = row.get("vs_copy")
        targets.append(
            {
                "target": f"{OURS} <= copy ({row['mode']})",
                "value": ratio,
                "ok": ratio is not None and ratio <= COPY_TOLERANCE,
            }
        )
        if backend == "tensorflow":
            speedup = row.get("seed_over_this")
            targets.append(
                {
                    "target": f"seed / {OURS} >= {SEED_FACTOR:g} ({row['mode']})",
                    "value": speedup,
                    "ok": speedup is not None and speedup >= SEED_FACTOR,
                }
            )
    return targets


def render_throughput(results, backend, args):
    """The markdown table of the throughput rows, with its legend."""
    headers = ["case", "input", "mode", "median ms", "min ms", "vs copy"]
    align = "lllrrr"
    if backend == "tensorflow":
        headers.append("seed / this")
        align += "r"
    rows = []
    previous = None
    for row in results:
        same = row["case"] == previous
        previous = row["case"]
        cells = [
            "" if same else row["case"],
            "" if same else "x".join(str(n) for n in row["input"]),
            row["mode"],
        ]
        if "error" in row:
            cells += [f"error: {row['error'][:80]}", "", ""]
        else:
            cells += [report.fmt_ms(row["median_ms"]), report.fmt_ms(row["min_ms"]),
                      report.fmt_ratio(row.get("vs_copy"))]
        if backend == "tensorflow":
            cells.append(report.fmt_ratio(row.get("seed_over_this")))
        rows.append(cells)
    legend = (
        f"Median of {args.repeats} timed calls after {max(args.warmup, 1)} warm-up calls, "
        "each synchronised. `vs copy`: median / median of `x * 1` in the same mode."
    )
    if backend == "tensorflow":
        legend += (
            " `seed / this`: median of the seed TF layer / this row's, same mode."
            " Under tf.function without XLA, Grappler folds `x * 1` to an identity (no copy,"
            " no new buffer), so in that mode the copy row measures call overhead only."
        )
    return f"{legend}\n\n{report.markdown_table(headers, rows, align)}"


def render(info, results, overhead, targets, args):
    backend = info["backend"]
    lines = [f"## shuffle benchmark, {backend}, size {args.size}, r={BLOCK}, float32", "",
             info_line(info), ""]
    if results:
        lines += [render_throughput(results, backend, args), ""]
    if overhead:
        lines += [shuffle_overhead.render(overhead, backend), ""]
    if targets:
        lines += [f"Targets (copy tolerance {COPY_TOLERANCE:g}x for timing noise):", "",
                  *report.target_lines(targets)]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = backend_name()
    progress.note(f"bench_shuffle on {backend}, size {args.size}, {' + '.join(args.parts)}")
    info, results, overhead, targets, errors = run(args)
    markdown = render(info, results, overhead, targets, args)
    payload = {
        "benchmark": "shuffle",
        "size": args.size,
        "parts": args.parts,
        "shape": SIZES[args.size],
        "block_size": BLOCK,
        "dtype": "float32",
        "repeats": args.repeats,
        "warmup": max(args.warmup, 1),
        "machine": info,
        "results": results,
        "overhead": {"shape": shuffle_overhead.SHAPE, "block_size": shuffle_overhead.BLOCK,
                     "calls": args.overhead_calls, "rows": overhead},
        "targets": targets,
    }
    json_path, md_path = report.write_results(args.out, f"shuffle-{backend}", payload, markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
