"""Benchmark the 1-D pixel shuffle under the current Keras backend.

Run from the repository root, one backend per process::

    KERAS_BACKEND=jax        python benchmarks/bench_shuffle.py
    KERAS_BACKEND=tensorflow python benchmarks/bench_shuffle.py
    KERAS_BACKEND=torch      python benchmarks/bench_shuffle.py
    python benchmarks/bench_shuffle.py --size tiny     # CI smoke run: tiny input, 3 repeats

Times, at input (16, 4096, 256) float32 and r=4 (channels_first: (16, 256, 4096)):
``depth_to_space_1d`` for both data formats and both modes, the ``Subpixel1D`` layer, the
seed article's TF layer (tensorflow only), ``keras.layers.UpSampling1D(4)`` on (16, 4096, 64)
(the same output size), and a plain copy ``x * 1`` as the baseline. Each runs eagerly (as a
user calls it) and compiled: ``jax.jit``; ``tf.function`` without and with XLA
(``jit_compile=True``); ``torch.compile`` (skipped for ``--size tiny`` unless asked for).

In eager mode a pure reshape returns a view (TF, torch) and costs next to nothing; compiled,
a function must return a fresh buffer, so it costs a copy. Both are reported, each as a
ratio to the copy in the same mode. Writes ``shuffle-<backend>.json`` and
``shuffle-<backend>.md`` to ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import common  # noqa: E402

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


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--repeats", type=int, default=None, help="timed calls (default 20; tiny 3)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    p.add_argument("--out", default=str(common.REPO_ROOT / "benchmarks" / "results"))
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


def run(args):
    backend = common.backend_name()
    shape = SIZES[args.size]
    inputs = make_inputs(shape)
    info = common.machine_info(sample=inputs["cl"])
    modes = make_modes(backend, args)
    cases = make_cases(backend)

    results = []
    errors = 0
    for name, key, fn in cases:
        x = inputs[key]
        for mode, wrap in modes:
            row = {"case": name, "mode": mode, "input": list(x.shape)}
            try:
                compiled = wrap(fn)
                y = compiled(x)
                common.sync(y, backend)
                want = shape if name == COPY else expected_shape(key, shape)
                if tuple(y.shape) != tuple(want):
                    raise AssertionError(f"output shape {tuple(y.shape)}, expected {want}")
                del y
                row.update(
                    common.time_fn(
                        compiled, x, repeats=args.repeats, warmup=args.warmup, backend=backend
                    )
                )
            except Exception as exc:  # record it and go on with the other cases
                errors += 1
                row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                traceback.print_exc(file=sys.stderr)
            results.append(row)
            status = row.get("error") or f"{row['median_ms']:.4f} ms"
            print(f"  {mode:<16} {name}: {status}", file=sys.stderr, flush=True)

    add_ratios(results, backend)
    targets = check_targets(results, backend)
    return info, results, targets, errors


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


def render(info, results, targets, args):
    backend = info["backend"]
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
            cells += [
                common.fmt_ms(row["median_ms"]),
                common.fmt_ms(row["min_ms"]),
                common.fmt_ratio(row.get("vs_copy")),
            ]
        if backend == "tensorflow":
            cells.append(common.fmt_ratio(row.get("seed_over_this")))
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
    lines = [
        f"## shuffle benchmark, {backend}, size {args.size}, r={BLOCK}, float32",
        "",
        common.info_line(info),
        "",
        legend,
        "",
        common.markdown_table(headers, rows, align),
        "",
        f"Targets (copy tolerance {COPY_TOLERANCE:g}x for timing noise):",
        "",
    ]
    for t in targets:
        verdict = "yes" if t["ok"] else "NO"
        lines.append(f"- {t['target']}: {common.fmt_ratio(t['value'])} -> {verdict}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = common.backend_name()
    print(f"benchmarking shuffle on {backend}, size {args.size} ...", file=sys.stderr)
    info, results, targets, errors = run(args)
    markdown = render(info, results, targets, args)
    payload = {
        "benchmark": "shuffle",
        "size": args.size,
        "shape": SIZES[args.size],
        "block_size": BLOCK,
        "dtype": "float32",
        "repeats": args.repeats,
        "warmup": max(args.warmup, 1),
        "machine": info,
        "results": results,
        "targets": targets,
    }
    json_path, md_path = common.write_results(args.out, f"shuffle-{backend}", payload, markdown)
    print(markdown)
    print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
