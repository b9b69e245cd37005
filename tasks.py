#!/usr/bin/env python3
"""Set up and run the project with nothing but Python installed.

    python3 tasks.py demo [ARGS...]   set up .venv, then run the main job (upsample1d compare)
    python3 tasks.py test [ARGS...]   set up .venv, then ruff + the test suite on jax,
                                      tensorflow and torch (one process each); ARGS go to pytest
    python3 tasks.py test-slow [ARGS...]
                                      the same (without ruff, which `test` runs) for the
                                      checks marked slow (cross-backend loading, distributed,
                                      ONNX, Inductor, exhaustive grids, full-size models);
                                      CI runs it after `test`
    python3 tasks.py setup            only set up .venv

The virtual environment is .venv in the repository root; set UPSAMPLE1D_VENV to use another.
Setup installs only when pyproject.toml, constraints.txt or tasks.py (which names what is
installed) changed since the last install.

`test` streams pytest's output live, writes each backend's complete log to
out/test-<backend>.log (test-slow: out/test-slow-<backend>.log), and ends with a table per
backend (and out/test-summary.txt, test-slow: out/test-slow-summary.txt) that lists every
failure and error with its first error line. The tensorflow backend runs with
TF_ENABLE_ONEDNN_OPTS=0, and every backend with JAX's persistent compilation cache in
out/jax-compilation-cache, XLA's CPU code generation at -O0 and one thread per pytest worker
(see BACKEND_ENV and THREAD_ENV), unless the caller set those variables. The exit status is
non-zero when ruff or any backend fails.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get("UPSAMPLE1D_VENV", os.path.join(ROOT, ".venv"))
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PYTHON = os.path.join(BIN, "python")
BACKENDS = ("jax", "tensorflow", "torch")
STAMP = os.path.join(VENV, ".upsample1d-installed")
OUT = os.path.join(ROOT, "out")
# Per backend, environment variables set unless the caller set them. Without oneDNN,
# TensorFlow's CPU kernels cannot run NCW (channels_first) convolutions: test that strict
# path, so the suite is red wherever a user's machine would be.
#
# JAX runs eager ops one by one and compiles each for every new shape: most of its test time
# is XLA compiling. Its persistent cache (keyed by the program, the compile options and the
# jax/jaxlib versions, so never stale) shares those compilations between the two pytest
# workers, the subprocesses tests start, and `test` and `test-slow`: measured from an empty
# cache, jax's `test` took 7m05s instead of 7m55s and `test-slow` 7m26s instead of 10m33s.
# Every compilation is kept (the defaults keep only those over 1 s). The whole suite writes
# about 100 MB; `test` empties the cache when it holds over JAX_CACHE_LIMIT (JAX's own size
# limit would lock the folder on every read and write). Set for every backend's run: the
# others' tests start JAX subprocesses (cross-backend loading).
#
# For the same reason XLA's CPU code generation runs at LLVM's -O0 in the tests
# (--xla_backend_optimization_level=0): the tests' arrays are small, so compiling is their
# cost, and jax's `test` took 4m40s instead of 6m28s from an empty cache. It changes how fast
# the generated loops run, not what they compute: without fast-math (XLA's CPU default) LLVM
# may not reorder floating-point arithmetic at any level, and XLA's own HLO passes do not read
# the flag. TensorFlow's XLA (jit_compile) reads XLA_FLAGS too. The benchmarks, `demo` and
# users run at the default level.
JAX_CACHE = os.path.join(OUT, "jax-compilation-cache")
JAX_CACHE_LIMIT = 2**30
JAX_TEST_ENV = {"JAX_COMPILATION_CACHE_DIR": JAX_CACHE,
                "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
                "XLA_FLAGS": "--xla_backend_optimization_level=0"}
# One thread per pytest worker: the two workers already fill the two cores, and torch's
# default of one intra-op thread per core made four threads contend for them (a torch subset
# of the suite took 65.6 s with its default and 35.5 s with one thread; TensorFlow's 62.8 s
# and 58.4 s). Set for every backend's run (each starts subprocesses of the others), and only
# where `test` picks the workers (not with the caller's -n or -p no:xdist).
THREAD_ENV = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
BACKEND_ENV = {"jax": JAX_TEST_ENV,
               "tensorflow": {"TF_ENABLE_ONEDNN_OPTS": "0", **JAX_TEST_ENV},
               "torch": JAX_TEST_ENV}
HEARTBEAT_S = 15
MESSAGE_CHARS = 200  # first error lines in the summary are cut to this length


def rel(path):
    """``path`` relative to the repository root when it lies inside it, for shorter messages."""
    path = os.path.abspath(path)
    inside = os.path.commonpath([path, ROOT]) == ROOT
    return os.path.relpath(path, ROOT) if inside else path


def duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def say(*lines):
    for line in lines:
        print(line, flush=True)


def stream(cmd, env=None, log=None, heartbeat=None, shown=None):
    """Run ``cmd`` in the repository root and copy its output (stdout and stderr) to the
    console as it comes, and to the open binary file ``log``. With ``heartbeat`` (a text),
    print it with the elapsed time whenever the command has been quiet for HEARTBEAT_S.

    Returns (exit status, the whole output as text, interrupted by Ctrl-C)."""
    line = "+ " + (shown or " ".join(cmd))
    say(line)
    if log:
        log.write(line.encode() + b"\n")
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=0)
    chunks = []
    last_output = [start]

    def pump():
        console = sys.stdout.buffer
        while True:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return
            chunks.append(chunk)
            last_output[0] = time.time()
            if log:
                log.write(chunk)
                log.flush()
            if console:
                try:
                    console.write(chunk)
                    console.flush()
                except OSError:  # e.g. `| head` closed the pipe: keep draining the child
                    console = None

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    interrupted = False
    try:
        while reader.is_alive():
            reader.join(1.0)
            now = time.time()
            if heartbeat and now - last_output[0] >= HEARTBEAT_S:
                say(f"    ... {heartbeat} ({duration(now - start)} so far)")
                last_output[0] = now
    except KeyboardInterrupt:
        # The child got the same SIGINT; let it report and stop.
        interrupted = True
        reader.join()
    proc.wait()
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace"), interrupted


def setup():
    """Create the venv and install the package with every backend and the test tools."""
    start = time.time()
    if not os.path.exists(PYTHON):
        say(f"setup: creating the virtual environment {rel(VENV)} (a few seconds)")
        venv.EnvBuilder(with_pip=True).create(VENV)
    inputs = [os.path.join(ROOT, name) for name in ("pyproject.toml", "constraints.txt",
                                                    "tasks.py")]
    if os.path.exists(STAMP) and all(os.path.getmtime(p) <= os.path.getmtime(STAMP)
                                     for p in inputs):
        with open(STAMP) as f:
            when = f.read().strip()
        say(f"setup: {rel(VENV)} is up to date (installed {when}; pyproject.toml, "
            "constraints.txt and tasks.py unchanged since)")
        return
    say(f"setup: installing upsample1d (editable) with jax, tensorflow, torch, the test and "
        f"analysis tools into {rel(VENV)}",
        "setup: this takes about 1.5-2 min on 2 CPU cores with a warm pip cache, 3 min or more "
        "with a cold one (~4.7 GB installed); pip's own lines follow")
    pip = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar",
           "off"]
    status, _, interrupted = stream(
        pip + ["-c", "constraints.txt", "-e", ".[all,test,analysis,export,bench]"],
        heartbeat="pip is still working (unpacking and installing takes the longest)")
    if not status and not interrupted:
        # The vocoder tests' reference: NVIDIA's BigVGAN package, without its training
        # requirements (what its generator and mel front end import is in the test extra).
        say("setup: installing the official BigVGAN package (bigvgan==2.4.1, --no-deps)")
        status, _, interrupted = stream(pip + ["-c", "constraints.txt", "--no-deps",
                                               "bigvgan==2.4.1"])
    if interrupted:
        raise KeyboardInterrupt
    if status:
        say(f"setup: pip failed (exit {status}) after {duration(time.time() - start)}; "
            "nothing was marked installed, the next run tries again")
        raise SystemExit(status)
    with open(STAMP, "w") as f:
        f.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    say(f"setup: done in {duration(time.time() - start)}")


class FailureCollector:
    """A pytest plugin for the pytest process (the xdist controller, which gets every
    worker's reports): writes each failure and error, with its first error line, as one JSON
    line to ``path``. Parsing pytest's short summary would need a terminal wide enough not to
    cut the messages."""

    def __init__(self, path):
        self.path = path

    def _write(self, report, kind):
        entry = {"kind": kind, "nodeid": report.nodeid or "(collection)",
                 "when": getattr(report, "when", "collect"),
                 "message": first_error_line(report.longrepr)}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self._write(report, "FAILED" if report.when == "call" else "ERROR")

    def pytest_collectreport(self, report):
        if report.failed:
            self._write(report, "ERROR")


def first_error_line(longrepr):
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        text = crash.message
    else:
        text = str(longrepr or "")
        errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
        if errors:
            return errors[0]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


# Runs pytest in-process with FailureCollector; argv: the failures file, then pytest's args.
PYTEST_MAIN = (
    "import sys; sys.path.insert(0, {root!r}); import pytest, tasks; "
    "sys.exit(pytest.main(sys.argv[2:], plugins=[tasks.FailureCollector(sys.argv[1])]))"
)

COUNT_WORDS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "error": "errors",
               "errors": "errors", "warning": "warnings", "warnings": "warnings"}


def closing_counts(output):
    """Counts from pytest's closing line ("== 2 failed, 10 passed, 3 warnings in 9.1s =="),
    or None when it never printed one."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)  # in case PY_COLORS/FORCE_COLOR is set
    closing = [line for line in output.splitlines()
               if re.match(r"=+ .*\bin [\d.]+s", line.strip())
               and re.search(r"\d+ (passed|failed|error|skipped|deselected)|no tests ran", line)]
    if not closing:
        return None
    counts = dict.fromkeys(("passed", "failed", "skipped", "errors", "warnings"), 0)
    for count, word in re.findall(r"(\d+) (\w+)", closing[-1]):
        if word in COUNT_WORDS:
            counts[COUNT_WORDS[word]] += int(count)
    return counts


def wants_own_workers(pytest_args):
    return any(a in ("-n", "--numprocesses") or a.startswith("--numprocesses=")
               or re.fullmatch(r"-n\d+|-nauto|-nlogical", a) or a == "no:xdist"
               for a in pytest_args)


def trim_jax_cache():
    """Empty the JAX compilation cache when it holds more than JAX_CACHE_LIMIT bytes."""
    if not os.path.isdir(JAX_CACHE):
        return
    with os.scandir(JAX_CACHE) as entries:
        size = sum(e.stat().st_size for e in entries if e.is_file())
    if size > JAX_CACHE_LIMIT:
        say(f"emptying {rel(JAX_CACHE)} ({size / 2**20:.0f} MB)")
        shutil.rmtree(JAX_CACHE, ignore_errors=True)


def test(pytest_args, name="test", lint=True):
    """ruff (with ``lint``), then pytest on every backend; ``name`` prefixes the logs and the
    summary."""
    setup()
    os.makedirs(OUT, exist_ok=True)
    trim_jax_cache()
    ruff_status, interrupted = None, False
    if lint:
        ruff_status, _, interrupted = stream([PYTHON, "-m", "ruff", "check", "."])
        if ruff_status:
            say("ruff found problems")
    # worksteal: a worker that runs out of tests takes some of the other's queue, so a few
    # long tests at the end of one queue do not leave the other core idle
    own_workers = wants_own_workers(pytest_args)
    workers = [] if own_workers else ["-n", "2", "--dist", "worksteal"]
    results = []
    for number, backend in enumerate(BACKENDS, 1):
        if interrupted:
            break
        wanted = {**BACKEND_ENV.get(backend, {}), **({} if own_workers else THREAD_ENV)}
        extra = {key: value for key, value in wanted.items() if key not in os.environ}
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1", **extra)
        shown_env = " ".join(f"{key}={rel(env[key]) if os.path.isabs(env[key]) else env[key]}"
                             for key in ("KERAS_BACKEND", *wanted))
        log_path = os.path.join(OUT, f"{name}-{backend}.log")
        say("", f"===== [{number}/{len(BACKENDS)}] {shown_env}   (log: {rel(log_path)}) =====")
        args = ["-p", "no:cacheprovider", *workers, *pytest_args]
        fd, failures_path = tempfile.mkstemp(prefix=f"upsample1d-{backend}-", suffix=".jsonl")
        os.close(fd)
        start = time.time()
        try:
            with open(log_path, "wb") as log:
                status, output, interrupted = stream(
                    [PYTHON, "-c", PYTEST_MAIN.format(root=ROOT), failures_path, *args],
                    env=env, log=log,
                    shown=f"{shown_env} {rel(PYTHON)} -m pytest {' '.join(args)}")
                seconds = time.time() - start
                log.write(f"\n[{backend}] exit {status} in {duration(seconds)}\n".encode())
            with open(failures_path, encoding="utf-8") as f:
                failures = [json.loads(line) for line in f if line.strip()]
        finally:
            os.remove(failures_path)
        say(f"[{backend}] exit {status} in {duration(seconds)}; log: {rel(log_path)}")
        results.append({"backend": backend, "status": status, "seconds": seconds,
                        "counts": closing_counts(output), "failures": failures,
                        "log": rel(log_path)})
    lines = summary(ruff_status, results, interrupted)
    say("", *lines)
    with open(os.path.join(OUT, f"{name}-summary.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    if interrupted:
        return 130
    return 1 if ruff_status or any(r["status"] for r in results) else 0


EXIT_MEANINGS = {2: "interrupted", 3: "internal error", 4: "usage error",
                 5: "no tests collected"}


def summary(ruff_status, results, interrupted):
    header = ("backend", "passed", "failed", "skipped", "errors", "warnings", "exit", "time",
              "log")
    rows = []
    for r in results:
        counts = r["counts"] or {}
        rows.append((r["backend"], *(str(counts.get(key, "?")) for key in header[1:6]),
                     str(r["status"]), duration(r["seconds"]), r["log"]))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row):
        cells = [cell.ljust(w) if i in (0, 8) else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    ruff = "not run (`test` runs it)" if ruff_status is None else \
        "FAILED" if ruff_status else "ok"
    lines = ["===== summary =====", f"ruff: {ruff}", fmt(header),
             *(fmt(row) for row in rows)]
    failures = [(r["backend"], f) for r in results
                for f in sorted(r["failures"], key=lambda f: (f["nodeid"], f["when"]))]
    if failures:
        lines += ["", f"failures and errors ({len(failures)}; tracebacks in the logs):"]
        for backend, f in failures:
            when = {"call": "", "collect": " (collecting)"}.get(f["when"], f" (in {f['when']})")
            message = f["message"]
            if len(message) > MESSAGE_CHARS:
                message = message[:MESSAGE_CHARS - 3] + "..."
            lines.append(f"  [{backend}] {f['kind']} {f['nodeid']}{when} - {message}")
    for r in results:
        if r["status"] and not r["failures"]:
            why = EXIT_MEANINGS.get(r["status"], "see the log")
            lines.append(f"  [{r['backend']}] pytest exited {r['status']} without a failing "
                         f"test ({why}): {r['log']}")
    if interrupted:
        lines.append(f"interrupted: ran {len(results)} of {len(BACKENDS)} backends")
    bad = [r["backend"] for r in results if r["status"]] + (["ruff"] if ruff_status else [])
    lines.append(f"result: {'FAILED (' + ', '.join(bad) + ')' if bad else 'ok'}")
    return lines


def demo(args):
    setup()
    cmd = [PYTHON, "-m", "upsample1d", *(args or ["compare"])]
    say("+ " + " ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv):
    if not argv or argv[0] not in ("test", "test-slow", "demo", "setup"):
        print(__doc__)
        return 2
    if argv[0] == "setup":
        setup()
        return 0
    if argv[0] == "test-slow":
        return test(["-m", "slow", *argv[1:]], name="test-slow", lint=False)  # `test` lints
    return test(argv[1:]) if argv[0] == "test" else demo(argv[1:])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # the console went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
