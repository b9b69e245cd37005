"""Run every benchmark for the current Keras backend and print their tables.

From the repository root::

    KERAS_BACKEND=jax python -m benchmarks.summary                # full size, results/ updated
    KERAS_BACKEND=jax python -m benchmarks.summary --out /tmp/r   # elsewhere
    KERAS_BACKEND=jax python -m benchmarks.summary --only ops train_step --size tiny

Runs, in this process and in order, bench_shuffle, bench_ops, bench_transposed and
bench_train_step (each writes ``<name>-<backend>.json`` and ``.md`` to ``--out``), shows which
one is running, how long each took and the running total on stderr, then prints every table
(the markdown files) on stdout. Exits non-zero if any benchmark failed or reported errors.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import common  # noqa: E402

# name -> (module, results stem)
BENCHMARKS = {
    "shuffle": ("benchmarks.bench_shuffle", "shuffle"),
    "ops": ("benchmarks.bench_ops", "ops"),
    "transposed": ("benchmarks.bench_transposed", "transposed"),
    "train_step": ("benchmarks.bench_train_step", "train_step"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None,
                   help="run only these benchmarks")
    p.add_argument("--out", default=str(common.REPO_ROOT / "benchmarks" / "results"))
    p.add_argument("--extra", default="",
                   help="extra arguments for every benchmark, e.g. '--repeats 1'")
    return p.parse_args(argv)


def run_all(names, size, out, extra=(), quiet=False):
    """Run the named benchmarks in this process; return [(name, status, seconds)]."""
    import importlib

    backend = common.backend_name()
    done = []
    began = time.perf_counter()
    for i, name in enumerate(names, 1):
        module_name, _ = BENCHMARKS[name]
        common.progress(f"[{i}/{len(names)}] {name} on {backend} (size {size}) ... "
                        f"{time.perf_counter() - began:.0f} s so far")
        start = time.perf_counter()
        try:
            module = importlib.import_module(module_name)
            argv = ["--size", size, "--out", str(out), *extra]
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
                rc = module.main(argv)
            status = "ok" if rc == 0 else f"reported errors (exit {rc})"
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            status = f"failed: {type(exc).__name__}: {exc}".splitlines()[0][:200]
        seconds = time.perf_counter() - start
        done.append((name, status, seconds))
        common.progress(f"[{i}/{len(names)}] {name}: {status} in {seconds:.0f} s")
    return done


def main(argv=None):
    args = parse_args(argv)
    backend = common.backend_name()
    names = args.only or list(BENCHMARKS)
    done = run_all(names, args.size, args.out, args.extra.split(), quiet=True)
    out = Path(args.out)
    for name, _, _ in done:
        md = out / f"{BENCHMARKS[name][1]}-{backend}.md"
        if md.exists():
            print(md.read_text())
    print(f"## summary, {backend}\n")
    print(common.markdown_table(["benchmark", "status", "seconds"],
                                [(n, s, f"{t:.0f}") for n, s, t in done], "llr"))
    return 0 if all(s == "ok" for _, s, _ in done) else 1


if __name__ == "__main__":
    sys.exit(main())
