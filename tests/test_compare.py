"""``upsample1d.compare``: the compare job as a library (run -> rows -> render)."""

import io
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal

import keras
import numpy as np
import pytest
from conftest import has_module
from hypothesis import example, given
from hypothesis import strategies as st

from upsample1d import compare

TINY = compare.Config(methods=("nearest",), train_steps=2, batch=2, length=256, seconds=0.1)


class Recorder:
    """A progress sink that keeps what it is told."""

    def __init__(self):
        self.stages, self.statuses = [], []

    def stage(self, text):
        self.stages.append(text)

    def status(self, text):
        self.statuses.append(text)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_snr_db():
    x = np.array([1.0, -1.0, 1.0, -1.0], np.float32)
    assert compare.snr_db(x, x * 0.9) == pytest.approx(20.0)
    assert compare.snr_db(x, x) == pytest.approx(10 * np.log10(4 / 1e-30))  # floored noise


def test_timed_and_median_ms():
    result, seconds = compare.timed(sum, [1, 2, 3])
    assert result == 6 and 0 <= seconds < 1
    assert compare.median_ms([0.001, 0.003, 0.002]) == pytest.approx(2.0)
    assert np.isnan(compare.median_ms([]))


@pytest.mark.parametrize("fields, message", [
    ({"methods": ("cubic",)}, "unknown method 'cubic'"),
    ({"methods": ()}, "at least one method"),
    ({"train_steps": 0}, "`train_steps` must be a positive int"),
    ({"length": 1022}, "multiple of 4"),
    ({"seconds": 0.001}, "at least 256"),
    ({"seed": -1}, "`seed` must be an int >= 0"),
])
def test_config_refuses(fields, message):
    with pytest.raises(ValueError, match=message):
        compare.Config(**fields)


def test_config_keeps_order_drops_repeats():
    assert compare.Config(methods=["sinc", "nearest", "sinc"]).methods == ("sinc", "nearest")


def test_config_method_names_ignore_letter_case():
    """The README's rule for string options: letter case ignored, canonical name kept."""
    assert compare.Config(methods="NEAREST, Sinc,nearest").methods == ("nearest", "sinc")
    assert compare.Config(methods=["Subpixel-ICNR"]).methods == ("subpixel-icnr",)


def test_train_step_time_leaves_out_the_compiling_step():
    assert compare.train_step_ms([1.7, 0.010, 0.030, 0.020]) == pytest.approx(20.0)
    assert compare.train_step_ms([1.7, 0.012]) == pytest.approx(12.0)
    assert compare.train_step_ms([1.7]) is None  # too few: not the compile time


def test_console_progress_terminal_and_pipe():
    pipe = io.StringIO()
    progress = compare.ConsoleProgress(pipe)
    progress.status("[1/2] nearest: step 1/32 loss 0.1")
    progress.stage("[1/2] nearest: done")
    assert pipe.getvalue() == "[1/2] nearest: done\n"  # no live line off a terminal

    tty = Terminal()
    progress = compare.ConsoleProgress(tty)
    progress.status("[1/2] nearest: step 1/32 loss 0.1000")
    progress.status("[1/2] nearest: step 2/32 loss 0.05")
    progress.stage("[1/2] nearest: done")
    text = tty.getvalue()
    assert text.startswith("[1/2] nearest: step 1/32 loss 0.1000\r")
    assert "\r[1/2] nearest: step 2/32 loss 0.05" in text
    assert text.endswith("\r[1/2] nearest: done\n")  # the live line erased first
    assert text.split("\r")[-2].strip() == ""


@pytest.mark.skipif(not has_module("scipy"), reason="compare measures artifacts with scipy")
def test_run_then_render(tmp_path):
    progress = Recorder()
    result = compare.run(TINY, progress)
    assert result.backend == keras.backend.backend() and result.seconds is None
    assert progress.stages[0].startswith(f"compare on backend={result.backend}: 1 upsamplers")
    assert [s.split(":")[0] for s in progress.stages[1:]] == ["[1/1] nearest"] * 3
    assert "[1/1] nearest: step 2/2 loss " in " ".join(progress.statuses)
    (row,) = result.rows
    assert row["method"] == "nearest" and row["trained"]["audio"]["signal"] == "array"
    assert [title for title, _ in result.panels] == ["nearest, init", "nearest, 2 steps"]

    paths = compare.write(result, tmp_path / "out")
    assert result.seconds is not None
    md = (tmp_path / "out" / "compare.md").read_text()
    assert f"run time {result.seconds:.1f} s" in md and compare.table(result.rows, 2) in md
    stored = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert stored["seconds"] == result.seconds and stored["results"] == result.rows
    assert len(paths) == 2 + has_module("matplotlib")
    # Every figure shown is the JSON's, rounded once: the table...
    (stored_row,) = stored["results"]
    cells = compare.table(result.rows, 2).splitlines()[2].strip("| ").split(" | ")
    assert cells[2:] == expected_cells(stored_row)
    # ... the console ...
    shown = [re.findall(r"(?:tonal|filtering|replica) (-?\d+\.\d) dB", stage)
             for stage in progress.stages[1:]]
    assert shown[0] == [rounded(stored_row["init"][p][k]) for p, k in compare._COLUMN_KEYS]
    assert shown[2] == [rounded(stored_row["trained"][p][k]) for p, k in compare._COLUMN_KEYS]
    assert f"SNR {rounded(stored_row['snr_db'], 2)} dB" in progress.stages[2]
    assert f"train step {rounded(stored_row['train_step_ms'])} ms" in progress.stages[2]
    # ... and the PNG's panel labels.
    if has_module("matplotlib"):
        titles = [ax.get_title() for ax in compare.plot(result).axes if ax.get_title()]
        assert titles == [f"nearest, {stage}\naudio tonal "
                          f"{rounded(stored_row[key]['audio']['tonal_db'])} dB"
                          for stage, key in (("init", "init"), ("2 steps", "trained"))]


def test_one_train_step_is_not_timed():
    """The first step compiles (0.3-1.7 s on JAX for a ~10 ms step): it is no step time."""
    progress = Recorder()
    result = compare.run(compare.dataclasses.replace(TINY, train_steps=1), progress)
    (row,) = result.rows
    assert row["train_step_ms"] is None
    assert "train step not timed (needs 2 or more train steps" in progress.stages[2]
    assert compare.table(result.rows, 1).splitlines()[2].split(" | ")[3] == "n/a"


def rounded(value, places=1):
    """``value`` rounded half to even at ``places`` decimals, from its exact binary value: an
    independent reference for the figures the table, console and PNG print."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def expected_cells(row):
    """The table cells after the name and parameters, from the reference rounding."""
    levels = [[rounded(row[stage][probe][key]) for probe, key in compare._COLUMN_KEYS]
              for stage in ("init", "trained")]
    return [rounded(row["forward_ms"]), rounded(row["train_step_ms"]), *levels[0],
            rounded(row["snr_db"], 2), *levels[1]]


figures = st.floats(-200, 200, allow_nan=False)


@given(st.lists(figures, min_size=8, max_size=8), st.floats(0, 1e4), st.floats(0, 1e4), figures)
@example([1.04999, -0.04, 0.05, -2.25, 0.15, 0.25, 1e-9, -1e-9], 1.04999, 0.25, 7.88499)
def test_table_rounds_each_figure_once(levels, forward_ms, step_ms, snr):
    """1.04999 is 1.0, not 1.1 (rounding to 3 decimals first made it 1.05)."""
    level = iter(levels)
    row = {"method": "m", "parameters": 1, "forward_ms": forward_ms, "train_step_ms": step_ms,
           "snr_db": snr, "init": {"ones": {}, "audio": {}}, "trained": {"ones": {}, "audio": {}}}
    for stage in ("init", "trained"):
        for probe, key in compare._COLUMN_KEYS:
            row[stage][probe][key] = next(level)
    lines = compare.table([row], 32).splitlines()
    assert lines[0].split(" | ")[8] == "SNR dB (32 steps)"
    assert lines[2].strip("| ").split(" | ") == ["m", "1", *expected_cells(row)]


# --- the initial weights: drawn in NumPy, the same on every backend --------------------------

def _autoencoder(method, length=64):
    from upsample1d.models import autoencoder

    family, options = compare.METHODS[method]
    return autoencoder(family, length=length, upsampler_options=options)


@pytest.mark.parametrize("method", compare.METHODS)
def test_initial_weights_are_a_function_of_the_seed_and_shapes(method):
    first, second = _autoencoder(method), _autoencoder(method, length=None)
    keras_draws = [keras.ops.convert_to_numpy(w) for w in first.weights]
    assert any(not np.array_equal(a, keras.ops.convert_to_numpy(b))
               for a, b in zip(keras_draws, second.weights, strict=True))  # Keras' differ
    ours = compare.initial_weights(first, seed=3)
    again = compare.initial_weights(second, seed=3)
    for a, b, weight in zip(ours, again, first.weights, strict=True):
        assert a.shape == tuple(weight.shape) and a.dtype == np.dtype(weight.dtype)
        np.testing.assert_array_equal(a, b)
    other = compare.initial_weights(first, seed=4)
    assert not np.array_equal(ours[0], other[0])
    # Building a model draws nothing from NumPy's global state, nor do we.
    np.testing.assert_array_equal(compare.initial_weights(_autoencoder(method), seed=3)[-1],
                                  ours[-1])


@pytest.mark.parametrize("method", compare.METHODS)
def test_initial_weights_follow_each_layers_initializer(method):
    """Against Keras' own draws of the same initializer: the same distribution (two-sample
    Kolmogorov-Smirnov), zeros where Keras gives zeros, and ICNR's equal phases."""
    stats = pytest.importorskip("scipy.stats")
    model = _autoencoder(method)
    model.set_weights(compare.initial_weights(model, seed=0))
    reference = _autoencoder(method)  # Keras' draws
    for ours, theirs in zip(model.weights, reference.weights, strict=True):
        ours, theirs = (keras.ops.convert_to_numpy(w).ravel() for w in (ours, theirs))
        if not theirs.any():
            assert not ours.any()
        else:  # each drawn value once (ICNR copies one draw to every phase)
            assert stats.ks_2samp(np.unique(ours), np.unique(theirs)).pvalue > 1e-3
    if compare.METHODS[method][0] == "subpixel":  # ICNR: one filter for every phase
        phases = model.get_layer("up").phase_kernels()
        assert np.all(phases == phases[:1]) == (method == "subpixel-icnr")


@pytest.mark.parametrize("initializer", [
    "glorot_normal", "he_uniform", "lecun_normal",
    keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
])
def test_variance_scaling_draws_match_keras(initializer):
    stats = pytest.importorskip("scipy.stats")
    initializer = keras.initializers.get(initializer)
    shape = (9, 16, 24)
    ours = compare._draw(initializer, shape, np.random.default_rng(0)).ravel()
    theirs = keras.ops.convert_to_numpy(initializer(shape)).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


def test_initial_weights_refuse_an_initializer_they_cannot_draw():
    inputs = keras.Input((8, 2))
    model = keras.Model(inputs, keras.layers.Conv1D(
        3, 3, kernel_initializer="orthogonal", name="conv")(inputs))
    with pytest.raises(ValueError, match="cannot draw weight 'conv/kernel' in NumPy"):
        compare.initial_weights(model, seed=0)
