"""``upsample1d.compare``: the compare job as a library (run -> rows -> render)."""

import io
import json

import keras
import numpy as np
import pytest
from conftest import has_module

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


def test_table_renders_rows():
    level = {"tonal_db": 1.04999, "filtering_db": -2.0, "replica_db": 3.25}
    row = {"method": "nearest", "parameters": 10, "forward_ms": 1.234, "train_step_ms": 5.0,
           "snr_db": 7.891, "init": {"ones": level, "audio": {"tonal_db": -40.0}},
           "trained": {"ones": level, "audio": {"tonal_db": -41.06}}}
    lines = compare.table([row], 32).splitlines()
    assert lines[0] == ("| upsampler | params | forward ms | train step ms | tonal dB | "
                        "filtering dB | replica dB | audio tonal dB | SNR dB (32 steps) | "
                        "tonal dB (trained) | filtering dB (trained) | replica dB (trained) | "
                        "audio tonal dB (trained) |")
    assert lines[2] == ("| nearest | 10 | 1.2 | 5.0 | 1.1 | -2.0 | 3.2 | -40.0 | 7.89 | 1.1 | "
                        "-2.0 | 3.2 | -41.1 |")


def test_set_random_seed_matches_keras(monkeypatch):
    if keras.backend.backend() != "tensorflow":
        # Keras' own would import TensorFlow (seconds) only to seed tf.data: skip that part.
        from keras.src.utils import rng_utils

        monkeypatch.setattr(rng_utils, "tf", type("NoTF", (), {"available": False})(),
                            raising=False)
    compare.set_random_seed(3)
    ours = keras.ops.convert_to_numpy(keras.random.normal((4,))), np.random.rand()  # noqa: NPY002
    keras.utils.set_random_seed(3)
    theirs = keras.ops.convert_to_numpy(keras.random.normal((4,))), np.random.rand()  # noqa: NPY002
    np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]


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


@pytest.mark.skipif(not (has_module("scipy") and has_module("matplotlib")),
                    reason="the spectrogram grid needs scipy and matplotlib")
def test_panel_labels_name_the_table_column():
    result = compare.run(TINY)
    fig = compare.plot(result)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    row = compare.table(result.rows, 2).splitlines()[2].split(" | ")
    init, trained = row[7], row[12].rstrip(" |")  # audio tonal dB, audio tonal dB (trained)
    assert titles == [f"nearest, init\naudio tonal {init} dB",
                      f"nearest, 2 steps\naudio tonal {trained} dB"]
