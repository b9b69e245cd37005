"""Smoke run: every benchmark once at a tiny size, into a temporary directory.

From the repository root, once per backend::

    KERAS_BACKEND=jax python -m benchmarks.smoke

Checks that each benchmark script runs end to end (cases build, run, are timed and written
as JSON and markdown) without asserting anything about the timings, and exits non-zero if
any of them fails or reports an error. It writes only to a temporary directory, never to
``benchmarks/results/``, and takes well under a minute per backend.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from benchmarks import summary
from benchmarks.machine import backend_name

# Extra arguments per benchmark: the fewest calls that still exercise every code path.
EXTRA = {
    "shuffle": ["--repeats", "1", "--warmup", "1", "--no-torch-compile"],
    "ops": ["--repeats", "1"],
    "transposed": ["--repeats", "1", "--factors", "4"],
    # three models (four on TF, with the seed's layer): compiling a training step is what
    # takes the time here, and the other upsamplers share their code path
    "train_step": ["--warmup", "1", "--lstm-layers", "0", "--variants", "subpixel",
                   "transposed-native", "sinc", "seed"],
    "alias_free": ["--repeats", "1"],
    "resample": ["--budget", "0"],
    # one layout: compiling the generator is what takes the time (20 s a layout on
    # TensorFlow), and the layouts share their code path
    "vocoder": ["--repeats", "1", "--layouts", "channels_first"],
    "streaming": ["--budget", "0.05"],
}


def main():
    backend = backend_name()
    start = time.perf_counter()
    failed = []
    with tempfile.TemporaryDirectory(prefix="upsample1d-smoke-") as out:
        done = summary.run_all(list(EXTRA), "tiny", out, EXTRA, quiet=True)
        failed += [(n, s) for n, s, _, _ in done if s != "ok"]
        for name in EXTRA:
            stem = summary.BENCHMARKS[name][1]
            if not list(Path(out).glob(f"{stem}-{backend}*.json")):
                failed.append((name, f"wrote no {stem}-{backend}*.json"))
            if not list(Path(out).glob(f"{stem}-{backend}*.md")):
                failed.append((name, f"wrote no {stem}-{backend}*.md"))
    seconds = time.perf_counter() - start
    for name, status in failed:
        print(f"FAILED {name}: {status}", file=sys.stderr)
    print(f"benchmark smoke run on {backend}: {len(EXTRA) - len({n for n, _ in failed})}/"
          f"{len(EXTRA)} ok in {seconds:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
