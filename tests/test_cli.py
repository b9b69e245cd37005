"""The ``upsample1d`` command: ``compare`` at a tiny size, start-up without a framework, the
backend choice and the bad-argument paths."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import BACKEND, has_module

from upsample1d import __version__, compare
from upsample1d.cli import BACKENDS, build_parser, choose_backend, main

TINY = ["--length", "256", "--batch", "2", "--train-steps", "2", "--seconds", "0.1"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("keras", "tensorflow", "torch", "jax")
# What the frameworks print at start-up when not silenced (absl/glog lines, TF notices).
LOG_NOISE = re.compile(r"absl::InitializeLog|^[IWE]\d{4} |cudart_stub|oneDNN|cuDNN|"
                       r"TF_ENABLE_ONEDNN_OPTS|cpu_feature_guard", re.M)

needs_scipy = pytest.mark.skipif(not has_module("scipy"),
                                 reason="compare measures artifacts with scipy")


def run(capsys, *argv):
    """main(argv) in-process: (exit code, stdout, stderr); argparse exits count as codes."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def python(*args, env=None, cwd=None, timeout=300):
    """Run this interpreter on ``args`` with the repository importable."""
    env = {**os.environ, "PYTHONPATH": ROOT, **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)


@needs_scipy
def test_compare_tiny_writes_table_json_and_png(tmp_path, capsys):
    out = tmp_path / "cmp"
    methods = ["subpixel-glorot", "nearest"]
    code, stdout, stderr = run(capsys, "compare", *TINY, "--methods", ",".join(methods),
                               "--out", str(out))
    assert code == 0, stderr
    table = (out / "compare.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| upsampler | params | forward ms | train step ms | tonal dB")
    assert rows[0].endswith("| audio tonal dB (trained) |")
    assert [row.split(" | ")[0][2:] for row in rows[2:]] == methods
    assert rows[2] in stdout  # the table is printed too, on stdout
    assert "|" not in stderr
    # Not a terminal: one progress line per upsampler and stage, on stderr, no steps.
    for index, name in enumerate(methods, 1):
        assert sum(line.startswith(f"[{index}/2] {name}:")
                   for line in stderr.splitlines()) == 3
    assert "\r" not in stderr and "step 1/2" not in stderr
    result = json.loads((out / "compare.json").read_text())
    assert [r["method"] for r in result["results"]] == methods
    by_name = {r["method"]: r for r in result["results"]}
    # At initialisation the glorot subpixel conv has tones, nearest none.
    assert by_name["subpixel-glorot"]["init"]["ones"]["tonal_db"] > 15
    assert by_name["nearest"]["init"]["ones"]["tonal_db"] < 3
    for row in result["results"]:
        assert row["parameters"] > 0 and row["train_step_ms"] > 0 and row["forward_ms"] > 0
        assert row["snr_db"] == row["snr_db"]  # not NaN
    # One run time, the same in the markdown, the JSON and on the console.
    seconds = f"run time {result['seconds']:.1f} s"
    assert seconds in table and stdout.rstrip().endswith(seconds)
    if has_module("matplotlib"):
        assert (out / "compare.png").stat().st_size > 1000
        assert str(out / "compare.png") in stdout
    else:
        assert "skipped the spectrogram grid" in stderr


@needs_scipy
def test_compare_with_audio_file(tmp_path, capsys):
    soundfile = pytest.importorskip("soundfile", reason="--audio reads files with soundfile")
    import numpy as np

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
    "zero steps": (["--train-steps", "0"], "must be a positive int, got --train-steps=0"),
    "negative steps": (["--train-steps", "-3"], "must be a positive int"),
    "text steps": (["--train-steps", "many"], "must be a positive int, got 'many'"),
    "zero batch": (["--batch", "0"], "--batch: must be a positive int"),
    "nan seconds": (["--seconds", "nan"], "must be a positive number"),
    "short seconds": (["--seconds", "0.001"], "--seconds (0.001) gives 16 samples"),
    "negative seed": (["--seed", "-1"], "must be an int >= 0"),
    "missing audio": (["--audio", "/nonexistent/x.wav"], "no such file"),
    "folder as audio": (["--audio", ROOT], f"{ROOT!r} is a folder, not a sound file"),
    "bad length": (["--length", "1022"], "--length (1022) must be a multiple of 4"),
}


@pytest.mark.parametrize("case", BAD)
def test_compare_bad_arguments_one_line_exit_2(case, tmp_path, capsys):
    argv, message = BAD[case]
    code, stdout, stderr = run(capsys, "compare", *argv, "--out", str(tmp_path / "o"))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("upsample1d compare: error: "), stderr
    assert message in lines[0]
    assert "Traceback" not in stderr + stdout
    assert not (tmp_path / "o").exists()  # refused before any work


@pytest.mark.parametrize("command", ["compare", "aliasing"])
def test_out_that_cannot_be_written_is_refused_before_the_work(command, tmp_path, capsys):
    """An --out folder that exists but takes no files (/proc/self), or where an output file
    is a folder: one line and exit 2, before any work."""
    taken = tmp_path / "taken"
    (taken / f"{command}.json").mkdir(parents=True)
    cases = [(str(taken), f"holds '{command}.json', which is not a file")]
    if os.path.isdir("/proc/self"):
        cases.append(("/proc/self", "'/proc/self' cannot be written"))
    for out, message in cases:
        code, stdout, stderr = run(capsys, command, "--out", out)
        assert code == 2, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"upsample1d {command}: error: --out "
                                                       ), stderr
        assert message in lines[0] and stdout == ""


def test_compare_audio_with_nan_is_refused(tmp_path, capsys):
    soundfile = pytest.importorskip("soundfile", reason="--audio reads files with soundfile")
    import numpy as np

    path = tmp_path / "nan.wav"
    clip = np.sin(np.arange(4000) / 10) * 0.3
    clip[[10, 500]] = np.nan
    soundfile.write(path, clip, 8000, subtype="FLOAT")
    code, stdout, stderr = run(capsys, "compare", "--audio", str(path), "--out",
                               str(tmp_path / "o"))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "has 2 NaN or infinite samples in the 4000 analysed" in lines[0]
    assert stdout == "" and not (tmp_path / "o").exists()


def test_string_options_ignore_letter_case():
    """The README's rule for string options, in every option of the command."""
    parser = build_parser()
    args = parser.parse_args(["--backend", "JAX", "compare", "--methods", "NEAREST,Sinc"])
    assert (args.backend, args.methods) == ("jax", ("nearest", "sinc"))


@needs_scipy
def test_compare_one_train_step_is_not_timed(tmp_path, capsys):
    """The only step compiles (0.6-1 s on JAX for a ~20 ms step): no step time, and why."""
    code, stdout, stderr = run(capsys, "compare", *TINY, "--train-steps", "1", "--methods",
                               "nearest", "--out", str(tmp_path))
    assert code == 0, stderr
    assert json.loads((tmp_path / "compare.json").read_text())["results"][0][
        "train_step_ms"] is None
    assert stdout.splitlines()[2].split(" | ")[3] == "n/a"
    assert "train step not timed (needs 2 or more train steps" in stderr


def test_compare_unreadable_audio(tmp_path, capsys):
    path = tmp_path / "not_audio.wav"
    path.write_bytes(b"this is not a wav file at all" * 10)
    code, _, stderr = run(capsys, "compare", "--audio", str(path), "--out", str(tmp_path))
    assert code == 2
    lines = stderr.strip().splitlines()
    # Without soundfile the file cannot be read either: the error says what to install.
    expected = "cannot read" if has_module("soundfile") else "needs soundfile"
    assert len(lines) == 1 and expected in lines[0], stderr


def test_bad_backend_one_line_exit_2(capsys):
    code, _, stderr = run(capsys, "--backend", "mxnet", "compare")
    assert code == 2
    assert stderr.strip() == ("upsample1d: error: argument --backend: must be one of "
                              "('jax', 'torch', 'tensorflow'), got --backend='mxnet'")


@needs_scipy
def test_another_backend_in_process_is_refused(tmp_path, capsys):
    other = next(name for name in BACKENDS if name != BACKEND)
    code, _, stderr = run(capsys, "--backend", other, "compare", *TINY, "--methods", "nearest",
                          "--out", str(tmp_path))
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("upsample1d: error: "), stderr
    assert ("new process" if has_module(other) else "not installed") in lines[0]


def test_compare_methods_cover_every_family_as_named():
    """Every upsampler family of the library is compared, and each method builds what its
    name says (family-variant: the initializer or the overlap)."""
    import keras

    from upsample1d.initializers import ICNR
    from upsample1d.layers import UPSAMPLERS

    assert {family for family, _ in compare.METHODS.values()} == set(UPSAMPLERS)
    for name, (family, options) in compare.METHODS.items():
        up = compare._model(family, 0, 64, options=options).get_layer("up").upsampler
        assert name.startswith(family) and up.name == f"{family}_upsampler"
        variant = name.removeprefix(family).lstrip("-")
        if variant in ("glorot", "icnr"):
            expected = ICNR if variant == "icnr" else keras.initializers.GlorotUniform
            assert type(up.kernel_initializer) is expected
        if variant in ("none", "full"):  # kernel r (no overlap) or 2r (full overlap)
            assert up.kernel_size == compare.FACTOR * (1 if variant == "none" else 2)


@needs_scipy
def test_aliasing_writes_table_and_json(tmp_path, capsys):
    """Issue 13: plain vs alias-free activations, a number in dB (the figure: --no-plot off,
    checked in test_alias_free). The name in capitals (issue 21) gives the canonical one."""
    code, out, err = run(capsys, "aliasing", "--activations", "TANH,tanh", "--no-plot",
                         "--out", str(tmp_path))  # letter case ignored, as everywhere: once
    assert code == 0, err
    rows = json.loads((tmp_path / "aliasing.json").read_text())
    assert [row["version"].split(" ")[0] for row in rows] == ["plain", "alias-free",
                                                               "alias-free"]
    assert {row["activation"] for row in rows} == {"tanh"}
    plain, bigvgan, _ = (row["mean_aliasing_db"] for row in rows)
    assert bigvgan < plain - 3  # the anti-aliased version folds less
    assert "| tanh | plain |" in out and "[1/1] tanh" in err


def test_every_option_has_help_and_no_markup():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subparsers) == {"compare", "aliasing", "autoencoder", "vocode", "stream"}
    for p in (parser, *subparsers.values()):
        for action in p._actions:
            if action.option_strings:
                assert action.help, f"{p.prog} {action.option_strings[0]} has no help"
        text = p.format_help()
        assert "``" not in text and ":func:" not in text, text
    assert "--version" in parser.format_help()


def test_backend_choice():
    installed = {"torch", "tensorflow"}

    def find_spec(name):
        return object() if name in installed else None

    choose = dict(find_spec=find_spec, modules={})
    name, note = choose_backend(environ={}, **choose)
    assert name == "torch" and "KERAS_BACKEND is not set: using torch" in note
    assert choose_backend("tensorflow", environ={"KERAS_BACKEND": "torch"}, **choose) == \
        ("tensorflow", None)
    assert choose_backend(environ={"KERAS_BACKEND": "tensorflow"}, **choose) == \
        ("tensorflow", None)
    with pytest.raises(ValueError, match=r"'jax' \(--backend\) is not installed"):
        choose_backend("jax", environ={}, **choose)
    with pytest.raises(ValueError, match="no Keras backend is installed"):
        choose_backend(environ={}, find_spec=lambda name: None, modules={})
    # Keras already imported (as in this process): its backend, whatever the environment.
    assert choose_backend(environ={"KERAS_BACKEND": "nothing"}) == (BACKEND, None)


def test_autoencoder_command_in_process(capsys):
    code, stdout, stderr = run(capsys, "autoencoder", "--steps", "2", "--batch", "2",
                               "--length", "64")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith(f"seed auto-encoder on backend={BACKEND}: input (None, 64, 1)")
    assert lines[1].startswith("step 1: loss ") and lines[2].startswith("step 2: loss ")
    assert re.match(r"final loss \S+; reconstruction SNR -?\d+\.\d\d dB$", lines[3])


# --- a fresh interpreter: what the command imports and prints -----------------------------

STARTUP = textwrap.dedent("""
    import json, sys
    import upsample1d.cli as cli
    cli.build_parser()
    codes = {}
    for argv in (["--help"], ["--version"], ["compare", "--train-steps", "0"],
                 ["compare", "--methods", "cubic"], ["compare", "--length", "6"],
                 ["--backend", "mxnet", "compare"]):
        try:
            codes[" ".join(argv)] = cli.main(argv)
        except SystemExit as exit_:
            codes[" ".join(argv)] = exit_.code
    imported = [m for m in ("keras", "tensorflow", "torch", "jax", "numpy") if m in sys.modules]
    print(json.dumps({"codes": codes, "imported": imported}), file=sys.stderr)
""")


def test_help_version_and_bad_arguments_import_no_framework():
    proc = python("-c", STARTUP)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["imported"] == [], report  # not even NumPy
    assert report["codes"] == {"--help": 0, "--version": 0, "compare --train-steps 0": 2,
                               "compare --methods cubic": 2, "compare --length 6": 2,
                               "--backend mxnet compare": 2}
    assert f"upsample1d {__version__}\n" in proc.stdout
    assert "usage: upsample1d" in proc.stdout and "--backend" in proc.stdout
    errors = proc.stderr.strip().splitlines()[:-1]
    assert len(errors) == 4 and all(": error: " in line for line in errors), proc.stderr


def test_python_dash_m_help_and_version():
    proc = python("-m", "upsample1d", "--help")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: upsample1d")
    proc = python("-m", "upsample1d", "--version")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"upsample1d {__version__}\n", "")


def test_python_dash_m_bad_argument_subprocess(tmp_path):
    proc = python("-m", "upsample1d", "compare", "--methods", "cubic", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("upsample1d compare: error: "), proc.stderr
    assert "unknown method 'cubic'" in lines[0]
    assert proc.stdout == ""


@needs_scipy
def test_python_dash_m_compare_quiet_start(tmp_path):
    """A whole tiny run in a fresh interpreter with KERAS_BACKEND unset: no framework log
    lines; on the preferred installed backend the choice is said, else --backend picks."""
    preferred = next(name for name in BACKENDS if has_module(name))
    argv = [] if BACKEND == preferred else ["--backend", BACKEND]
    env = {k: v for k, v in os.environ.items()
           if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    proc = subprocess.run(
        [sys.executable, "-m", "upsample1d", *argv, "compare", *TINY, "--methods", "nearest",
         "--out", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**env, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr
    assert not LOG_NOISE.search(proc.stderr), proc.stderr
    lines = proc.stderr.splitlines()
    note = f"upsample1d: KERAS_BACKEND is not set: using {BACKEND} (installed: "
    assert lines[0].startswith(note) == (not argv), proc.stderr
    assert lines[1 if not argv else 0].startswith(f"compare on backend={BACKEND}: 1 upsamplers")
    assert len(lines) == (5 if not argv else 4) + (not has_module("matplotlib")), proc.stderr
    assert proc.stdout.startswith("| upsampler | params |")


@pytest.mark.slow
@needs_scipy
@pytest.mark.skipif(BACKEND != next(b for b in BACKENDS if has_module(b)),
                    reason="runs every backend in subprocesses: once, in the first one's run")
def test_compare_init_figures_are_the_same_on_every_backend(tmp_path):
    """The initial weights are drawn in NumPy, so the columns measured at initialisation
    agree between backends up to float32 rounding (Keras' own seeded draws differ between
    backends: nearest's filtering read -8.8 dB on JAX and +6.5 dB on TensorFlow)."""
    import numpy as np

    installed = [name for name in BACKENDS if has_module(name)]
    if len(installed) < 2:
        pytest.skip("needs two installed backends")
    init = {}
    for backend in installed:
        proc = python("-m", "upsample1d", "--backend", backend, "compare", *TINY, "--out",
                      str(tmp_path / backend), cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, proc.stderr
        rows = json.loads((tmp_path / backend / "compare.json").read_text())["results"]
        assert [row["method"] for row in rows] == list(compare.METHODS)
        init[backend] = np.array([[row["init"][probe][key] for probe, key in
                                   compare._COLUMN_KEYS] for row in rows])
    first = init[installed[0]]
    for backend in installed[1:]:
        # 0.01 dB, and 0.5 dB for levels under -60 dB, where float32 rounding of the
        # different conv algorithms shows (linear's tonal, -93 dB, on torch: 0.2 dB).
        tolerance = np.where(first < -60, 0.5, 0.01)
        assert np.all(np.abs(init[backend] - first) <= tolerance), (backend, init)
