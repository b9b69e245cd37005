#!/usr/bin/env python3
"""Set up and run the project with nothing but Python installed.

    python3 tasks.py demo [ARGS...]   set up .venv, then run the main job (upsample1d compare)
    python3 tasks.py test [ARGS...]   set up .venv, then ruff + the test suite on jax,
                                      tensorflow and torch (one process each); ARGS go to pytest

The virtual environment is .venv in the repository root; set UPSAMPLE1D_VENV to use another.
"""

import os
import re
import subprocess
import sys
import time
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get("UPSAMPLE1D_VENV", os.path.join(ROOT, ".venv"))
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PYTHON = os.path.join(BIN, "python")
BACKENDS = ("jax", "tensorflow", "torch")
STAMP = os.path.join(VENV, ".upsample1d-installed")


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kwargs)


def setup():
    """Create the venv and install the package with every backend and the test tools."""
    if not os.path.exists(PYTHON):
        venv.EnvBuilder(with_pip=True).create(VENV)
    inputs = [os.path.join(ROOT, name) for name in ("pyproject.toml", "constraints.txt")]
    if os.path.exists(STAMP) and all(os.path.getmtime(p) <= os.path.getmtime(STAMP)
                                     for p in inputs):
        return
    pip = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    run(pip + ["-c", "constraints.txt", "-e", ".[all,test,analysis]"],
        check=True)
    with open(STAMP, "w") as f:
        f.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))


def test(pytest_args):
    setup()
    failures = 0
    if run([PYTHON, "-m", "ruff", "check", "."]).returncode:
        print("ruff found problems", flush=True)
        failures += 1
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    workers = ["-n", "2"] if "-n" not in pytest_args else []
    for backend in BACKENDS:
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
        print(f"\n===== KERAS_BACKEND={backend} =====", flush=True)
        start = time.time()
        proc = run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers,
                    *pytest_args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True)
        print(proc.stdout[-20000:], flush=True)
        # pytest's own closing line; frameworks may log after it at exit
        closing = [line for line in proc.stdout.splitlines()
                   if re.search(r"\d+ (passed|failed|error)", line) and " in " in line]
        summary = closing[-1] if closing else ""
        for count, word in re.findall(r"(\d+) (passed|failed|skipped|error)", summary):
            totals[word] += int(count)
        print(f"[{backend}] exit {proc.returncode} in {time.time() - start:.0f} s", flush=True)
        if proc.returncode not in (0,):
            failures += 1
    print(f"\nsummary: {totals['passed']} passed, {totals['failed'] + totals['error']} "
          f"failed, {totals['skipped']} skipped", flush=True)
    return 1 if failures else 0


def demo(args):
    setup()
    return run([PYTHON, "-m", "upsample1d", *(args or ["compare"])]).returncode


def main(argv):
    if not argv or argv[0] not in ("test", "demo", "setup"):
        print(__doc__)
        return 2
    if argv[0] == "setup":
        setup()
        return 0
    return test(argv[1:]) if argv[0] == "test" else demo(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
