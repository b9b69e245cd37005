#!/usr/bin/env bash
# Parity suite + every benchmark on a GPU machine that has PyTorch and JAX (with CUDA) but
# neither TensorFlow nor Keras, for the JAX and torch backends.
#
# Usage, from anywhere (the script works from the repository root):
#
#   OUT=/path/for/results bash benchmarks/gpu.sh            # both backends
#   OUT=... BACKENDS="torch" SIZE=tiny bash benchmarks/gpu.sh
#
# Keras and the test tools are not on that machine: carry their wheels in .whl/ (ignored by
# git) and this script installs them, without an index or dependencies, into /tmp/site:
#
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site
#
# .whl/ needs keras and its pure-Python/binary dependencies that the GPU image lacks
# (absl-py, rich, markdown-it-py, mdurl, pygments, namex, h5py, optree, ml-dtypes,
# packaging) plus pytest, pluggy and iniconfig; see benchmarks/README.md for the download
# command. Nothing else is installed and nothing outside $OUT and /tmp/site is written.
#
# Writes under $OUT:
#   parity-<backend>.txt        pytest output of the parity suite (PARITY, default
#                               tests/test_shuffle_parity.py; without TensorFlow it compares
#                               against tests/fixtures/tf_shuffle_permutations.npz)
#   results/<bench>-<backend>.json|md   every benchmark's results (benchmarks/summary.py)
#   summary-<backend>.md        all tables of that backend; summary-<backend>.log: progress
#   env.txt                     nvidia-smi, Python and package versions
# Exit status: 0 if every step passed, 1 otherwise (every step still runs).
set -uo pipefail

: "${OUT:?set OUT to the directory for the results}"
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
PYTHON=${PYTHON:-python3}
SITE=${SITE:-/tmp/site}
BACKENDS=${BACKENDS:-"jax torch"}
SIZE=${SIZE:-full}
PARITY=${PARITY:-tests/test_shuffle_parity.py}
mkdir -p "$OUT/results"

shopt -s nullglob
wheels=(.whl/*.whl)
if ((${#wheels[@]})); then
    "$PYTHON" -m pip install -q --no-index --no-deps --target "$SITE" "${wheels[@]}" || exit 2
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # upsample1d, backends, benchmarks

{
    nvidia-smi || echo "nvidia-smi: not available"
    "$PYTHON" --version
    "$PYTHON" -m pip list 2>/dev/null | grep -i -E "^(jax|jaxlib|torch|keras|numpy|pytest) "
} > "$OUT/env.txt" 2>&1

if ! "$PYTHON" -c "import keras, pytest" 2>>"$OUT/env.txt"; then
    echo "keras or pytest is not importable: put their wheels in .whl/ (benchmarks/README.md)" >&2
    exit 2
fi

status=0
for backend in $BACKENDS; do
    if ! "$PYTHON" -c "import $backend" 2>/dev/null; then
        echo "skipping $backend: not installed" | tee -a "$OUT/env.txt"
        continue
    fi
    echo "== $backend: parity suite" >&2
    KERAS_BACKEND=$backend "$PYTHON" -m pytest -q -p no:cacheprovider $PARITY \
        > "$OUT/parity-$backend.txt" 2>&1 || status=1
    tail -n 3 "$OUT/parity-$backend.txt" >&2
    echo "== $backend: benchmarks (size $SIZE)" >&2
    KERAS_BACKEND=$backend "$PYTHON" -m benchmarks.summary --size "$SIZE" --out "$OUT/results" \
        > "$OUT/summary-$backend.md" 2> "$OUT/summary-$backend.log" || status=1
    grep -E "^\[[0-9:]+\] \[" "$OUT/summary-$backend.log" >&2
done
exit $status
