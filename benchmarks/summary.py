"""Run every benchmark for the current Keras backend and print their tables.

From the repository root::

    KERAS_BACKEND=jax python -m benchmarks.summary                # full size, results/ updated
    KERAS_BACKEND=jax python -m benchmarks.summary --out /tmp/r   # elsewhere
    KERAS_BACKEND=jax python -m benchmarks.summary --only ops train_step --size tiny

Runs, in this process and in order, bench_shuffle, bench_ops, bench_transposed,
bench_train_step, bench_alias_free, bench_resample, bench_vocoder and bench_streaming
(each writes ``<name>-<backend>.json`` and ``.md`` to ``--out``), then prints every table
(the markdown files) and a summary on stdout. Exits non-zero if any benchmark failed or
reported errors.

Progress goes to stderr (:mod:`benchmarks.progress`). On a terminal it is one live status
line, rewritten in place: the benchmark, its finished cases, the last result and the running
case with a timer. In a log (not a terminal) it is plain lines with the time since start::

    [00:42] summary jax 2/5 benchmarks > ops 3/14 cases: 2^12 depth_to_space_1d ours 0.0105 ms
    [03:10] summary jax 2/5 benchmarks: ops: ok in 150 s

and a ``(still running)`` line every 30 s while a single case takes long.
``BENCH_PROGRESS=plain`` (or ``tty``) forces a style.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import signal
import sys
import time

from benchmarks import progress, report
from benchmarks.machine import backend_name

# name -> (module, results stem)
BENCHMARKS = {
    "shuffle": ("benchmarks.bench_shuffle", "shuffle"),
    "ops": ("benchmarks.bench_ops", "ops"),
    "transposed": ("benchmarks.bench_transposed", "transposed"),
    "train_step": ("benchmarks.bench_train_step", "train_step"),
    "alias_free": ("benchmarks.bench_alias_free", "alias_free"),
    "resample": ("benchmarks.bench_resample", "resample"),
    "vocoder": ("benchmarks.bench_vocoder", "vocoder"),
    "streaming": ("benchmarks.bench_streaming", "streaming"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None,
                   help="run only these benchmarks")
    report.add_out_argument(p)
    p.add_argument("--extra", default="",
                   help="extra arguments for every benchmark, e.g. '--repeats 1'")
    return p.parse_args(argv)


def run_one(name, argv, quiet):
    """Run one benchmark's ``main(argv)`` in this process; return its status line and what
    it printed (its table; captured only when ``quiet``)."""
    sink = io.StringIO()
    try:
        module = importlib.import_module(BENCHMARKS[name][0])
        with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
            rc = module.main(argv)
        return ("ok" if rc == 0 else f"reported errors (exit {rc})"), sink.getvalue()
    except (Exception, SystemExit) as exc:  # SystemExit: argparse refused an --extra argument
        progress.log_exception()
        return f"failed: {report.short_error(exc)}"[:200], sink.getvalue()


def run_all(names, size, out, extra=(), quiet=False):
    """Run the named benchmarks in this process; return [(name, status, seconds, printed)].

    ``extra``: more arguments for every benchmark, or a dict {name: arguments}.

    Progress goes to stderr (:mod:`benchmarks.progress`): a live status line on a terminal,
    timestamped lines otherwise, one per finished case and one per finished benchmark.
    """
    backend = backend_name()
    done = []
    with progress.Task(f"summary {backend}", len(names), "benchmarks",
                       permanent=True) as task:
        for name in names:
            task.start(name)
            start = time.perf_counter()
            more = extra.get(name, ()) if isinstance(extra, dict) else extra
            try:
                status, printed = run_one(name, ["--size", size, "--out", str(out), *more],
                                          quiet)
            except KeyboardInterrupt:  # e.g. gpu.sh's time budget: keep what is done
                status, printed = "interrupted", ""
            seconds = time.perf_counter() - start
            done.append((name, status, seconds, printed))
            task.done(f"{status} in {seconds:.0f} s")
            if status == "interrupted":
                break
    return done


def main(argv=None):
    args = parse_args(argv)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # started as a background job, which ignores SIGINT: let gpu.sh's `timeout -s INT`
        # still stop it cleanly, with the tables of the benchmarks done so far
        signal.signal(signal.SIGINT, signal.default_int_handler)
    backend = backend_name()
    names = args.only or list(BENCHMARKS)
    done = run_all(names, args.size, args.out, args.extra.split(), quiet=True)
    for _, _, _, printed in done:  # each benchmark's own table (the file it wrote)
        if printed.strip():
            print(printed.rstrip("\n") + "\n")
    rows = [(n, s, f"{t:.0f}") for n, s, t, _ in done]
    rows += [(n, "not run", "") for n in names[len(done):]]
    print(f"## summary, {backend}\n")
    print(report.markdown_table(["benchmark", "status", "seconds"], rows, "llr"))
    return 0 if all(s == "ok" for _, s, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
