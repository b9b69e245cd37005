#!/usr/bin/env bash
# The whole test suite, then every benchmark, for the JAX and torch backends on a GPU host:
# Python 3.12 with PyTorch (CUDA) and JAX preinstalled, but neither TensorFlow nor Keras.
#
# Usage, from anywhere (the script works from the repository root):
#
#   OUT=/path/for/results SIZE=tiny bash benchmarks/gpu.sh   # quick check (a few minutes)
#   OUT=/path/for/results bash benchmarks/gpu.sh             # full-size benchmarks
#   OUT=... BACKENDS=torch STEPS=benchmarks BUDGET_S=500 bash benchmarks/gpu.sh
#
# Keras is not on that host: carry the cp312 wheels of keras, namex and optree in .whl/
# (git-ignored; download command in benchmarks/README.md). This script installs them,
# without an index or dependencies, into $SITE (default /tmp/site) and puts it and the
# repository on PYTHONPATH. Everything else (numpy, pytest, ...) is already on the host.
#
# Settings (environment):
#   OUT        required: directory for the results
#   BACKENDS   default "jax torch"
#   STEPS      default "tests benchmarks": the tests of every backend run first, then the
#              benchmarks of every backend
#   SIZE       benchmark size, full (default) or tiny. SIZE=tiny is the quick check: every
#              benchmark once at a tiny size, about a minute per backend. Full size takes
#              longer than one device lease on the slow cases and is cut by the budget.
#   TESTS      pytest paths (default: tests, the whole suite); PYTEST_ARGS: more options
#   BUDGET_S   total seconds for all steps (default 540, to fit a 10-minute command and a
#              15-minute lease with the machine's start). Each step runs under `timeout`
#              with its share of what is left: a test step TEST_SHARE (default 2) shares, a
#              benchmark step one, of the remaining time over the remaining steps' shares.
#              Time a step does not use goes to the later ones, and a slow step cannot
#              starve them; a step cut short is interrupted (SIGINT: pytest still prints its
#              summary, summary.py its finished tables) and marked in steps.txt.
#   PYTHON     default python3
# XLA_PYTHON_CLIENT_PREALLOCATE=false for every step: JAX takes GPU memory as needed
# instead of 75% of it up front.
#
# Writes under $OUT:
#   env.txt                     nvidia-smi, Python and package versions
#   tests-<backend>.txt         pytest output of the test suite, ending in its summary
#   results/<bench>-<backend>.json|md   every benchmark's results (benchmarks/summary.py)
#   summary-<backend>.md        all tables of that backend; summary-<backend>.log: progress
#   steps.txt                   one line per step: status, seconds, limit
# Exit status: 0 if every step passed, 1 otherwise (every step still runs, budget allowing).
set -uo pipefail

: "${OUT:?set OUT to the directory for the results}"
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
PYTHON=${PYTHON:-python3}
SITE=${SITE:-/tmp/site}
BACKENDS=${BACKENDS:-"jax torch"}
STEPS=${STEPS:-"tests benchmarks"}
SIZE=${SIZE:-full}
TESTS=${TESTS:-tests}
BUDGET_S=${BUDGET_S:-540}
TEST_SHARE=${TEST_SHARE:-2}
PYTEST_ARGS=${PYTEST_ARGS:-}
export XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p "$OUT/results"
: > "$OUT/steps.txt"
began=$SECONDS
exec 3>&2

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
    "$PYTHON" -m pip list 2>/dev/null |
        grep -i -E "^(jax|jaxlib|torch|keras|namex|optree|numpy|pytest|hypothesis|scipy) "
} > "$OUT/env.txt" 2>&1

if ! "$PYTHON" -c "import keras, pytest" 2>>"$OUT/env.txt"; then
    echo "keras or pytest is not importable: put the keras, namex and optree wheels in .whl/" \
         "(benchmarks/README.md)" >&2
    exit 2
fi

# The (step, backend) pairs to run, in order: all tests first, then all benchmarks.
available=()
for backend in $BACKENDS; do
    if "$PYTHON" -c "import $backend" 2>/dev/null; then
        available+=("$backend")
    else
        echo "skipping $backend: not installed" | tee -a "$OUT/env.txt" >&2
    fi
done
todo=()
for step in $STEPS; do
    for backend in "${available[@]}"; do
        todo+=("$step:$backend")
    done
done

# pytest, with Python's SIGINT handler restored (a background job starts with SIGINT
# ignored, and then `timeout -s INT` would not stop it with a summary)
PYTEST=(-c "import signal, sys, pytest
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(pytest.main(sys.argv[1:]))")

# run_step NAME LIMIT COMMAND...: COMMAND under `timeout` (SIGINT, then SIGKILL 20 s later)
run_step() {
    local name=$1 limit=$2 start=$SECONDS rc
    shift 2
    timeout -s INT -k 20 "$limit" "$@"
    rc=$?
    local verdict=ok
    if ((rc == 124 || rc == 137)); then verdict="cut at ${limit} s (budget)"
    elif ((rc != 0)); then verdict="exit $rc"; fi
    printf '%-22s %-28s %4d s (limit %d s)\n' "$name" "$verdict" $((SECONDS - start)) \
        "$limit" | tee -a "$OUT/steps.txt" >&3   # the script's stderr, not the step's
    return "$rc"
}

# weight of a step in the budget: tests get TEST_SHARE (default 2) shares, benchmarks one
share() { if [[ ${1%%:*} == tests ]]; then echo "$TEST_SHARE"; else echo 1; fi; }

status=0
for i in "${!todo[@]}"; do
    step=${todo[$i]%%:*} backend=${todo[$i]#*:}
    left=$((BUDGET_S - (SECONDS - began)))
    shares=0
    for pair in "${todo[@]:$i}"; do shares=$((shares + $(share "$pair"))); done
    limit=$((left * $(share "${todo[$i]}") / shares))
    if ((limit < 20)); then
        echo "$step $backend: skipped, ${left} s of the budget left" | tee -a "$OUT/steps.txt" >&2
        status=1
        continue
    fi
    echo "== [$((SECONDS - began)) s] $backend: $step (limit $limit s)" >&2
    if [[ $step == tests ]]; then
        # shellcheck disable=SC2086  # PYTEST_ARGS and TESTS are lists
        run_step "tests $backend" "$limit" env KERAS_BACKEND="$backend" \
            "$PYTHON" "${PYTEST[@]}" -q -p no:cacheprovider $PYTEST_ARGS $TESTS \
            > "$OUT/tests-$backend.txt" 2>&1 || status=1
        # pytest's closing line (not the last line: frameworks may log at exit)
        grep -E "[0-9]+ (passed|failed|errors?|skipped)|no tests ran" \
            "$OUT/tests-$backend.txt" | tail -n 1 >&2
    else
        run_step "benchmarks $backend" "$limit" env KERAS_BACKEND="$backend" \
            "$PYTHON" -m benchmarks.summary --size "$SIZE" --out "$OUT/results" \
            > "$OUT/summary-$backend.md" 2> "$OUT/summary-$backend.log" || status=1
        # one line per finished benchmark (the log has one per case)
        grep -E "^\[[0-9:]+\] summary [a-z]+ [0-9]+/[0-9]+ benchmarks: [a-z_]+: " \
            "$OUT/summary-$backend.log" >&2
    fi
done
echo "== done in $((SECONDS - began)) s, exit $status" >&2
exit $status
