"""The ``upsample1d`` command: ``compare`` at a tiny size, and its bad-argument paths."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from upsample1d.cli import COMPARE_METHODS, main

TINY = ["--length", "256", "--batch", "2", "--train-steps", "2", "--seconds", "0.1"]


def run(capsys, *argv):
    """main(argv) in-process: (exit code, stdout, stderr); argparse exits count as codes."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_tiny_writes_table_json_and_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cmp"
    methods = ["subpixel-glorot", "nearest"]
    code, stdout, stderr = run(capsys, "compare", *TINY, "--methods", ",".join(methods),
                               "--out", str(out))
    assert code == 0, stderr
    table = (out / "compare.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| upsampler | params | forward ms | train step ms | tonal dB")
    assert [row.split(" | ")[0][2:] for row in rows[2:]] == methods
    assert rows[2] in stdout  # the table is printed too
    # One progress line per upsampler and stage, on stderr.
    for name in methods:
        assert sum(line.startswith(f"[{methods.index(name) + 1}/2] {name}:")
                   for line in stderr.splitlines()) == 3
    result = json.loads((out / "compare.json").read_text())
    assert [r["method"] for r in result["results"]] == methods
    by_name = {r["method"]: r for r in result["results"]}
    # At initialisation the glorot subpixel conv has tones, nearest none.
    assert by_name["subpixel-glorot"]["init"]["ones"]["tonal_db"] > 15
    assert by_name["nearest"]["init"]["ones"]["tonal_db"] < 3
    for row in result["results"]:
        assert row["parameters"] > 0 and row["train_step_ms"] > 0 and row["forward_ms"] > 0
        assert np.isfinite(row["snr_db"])
    assert (out / "compare.png").stat().st_size > 1000


def test_compare_with_audio_file(tmp_path, capsys):
    soundfile = pytest.importorskip("soundfile")
    pytest.importorskip("matplotlib")
    path = tmp_path / "clip.wav"
    t = np.arange(4000) / 8000
    soundfile.write(path, np.stack([np.sin(2 * np.pi * 440 * t)] * 2, axis=1) * 0.3, 8000)
    code, _, stderr = run(capsys, "compare", *TINY, "--methods", "transposed-full",
                          "--audio", str(path), "--out", str(tmp_path / "o"))
    assert code == 0, stderr
    result = json.loads((tmp_path / "o" / "compare.json").read_text())
    assert "clip.wav (8000 Hz, 800 samples)" in result["config"]["analysis"]
    assert result["results"][0]["init"]["audio"]["sample_rate"] == 8000


BAD = {
    "unknown method": (["--methods", "subpixel,bogus"], "unknown method 'subpixel'"),
    "empty methods": (["--methods", ","], "comma-separated"),
    "zero steps": (["--train-steps", "0"], "positive integer"),
    "negative steps": (["--train-steps", "-3"], "positive integer"),
    "text steps": (["--train-steps", "many"], "positive integer"),
    "missing audio": (["--audio", "/nonexistent/x.wav"], "no such file"),
    "bad length": (["--length", "1022"], "multiple of 4"),
}


@pytest.mark.parametrize("case", BAD)
def test_compare_bad_arguments_one_line_exit_2(case, tmp_path, capsys):
    argv, message = BAD[case]
    code, stdout, stderr = run(capsys, "compare", *argv, "--out", str(tmp_path))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("upsample1d"), stderr
    assert message in lines[0]
    assert "Traceback" not in stderr + stdout


def test_compare_unreadable_audio(tmp_path, capsys):
    path = tmp_path / "not_audio.wav"
    path.write_bytes(b"this is not a wav file at all" * 10)
    code, _, stderr = run(capsys, "compare", "--audio", str(path), "--out", str(tmp_path))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read" in lines[0], stderr


def test_compare_method_names_cover_the_issue():
    assert set(COMPARE_METHODS) == {"subpixel-glorot", "subpixel-icnr", "transposed-none",
                                    "transposed-full", "nearest", "linear", "sinc"}


def test_python_dash_m_bad_argument_subprocess(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    proc = subprocess.run(
        [sys.executable, "-m", "upsample1d", "compare", "--methods", "cubic"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("upsample1d compare: error: ")
    assert "Traceback" not in proc.stderr
    assert "unknown method 'cubic'" in proc.stderr
