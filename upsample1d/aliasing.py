"""The ``upsample1d aliasing`` job: how much each activation aliases, plain and alias-free.

:func:`write` measures every activation with :func:`upsample1d.artifacts.aliasing_table`
(plain, then :class:`~upsample1d.layers.AliasFreeActivation1D` with BigVGAN's filters and with
longer ``sinc_bank`` ones) and writes ``aliasing.md`` (the table), ``aliasing.json`` (every
number) and ``aliasing.png`` (:func:`upsample1d.artifacts.plot_aliasing`, a sine sweep).
Keras is imported by the functions, not by importing this module.
"""

from __future__ import annotations

import json
import os

FILES = ("aliasing.md", "aliasing.json", "aliasing.png")  # what write() writes
HEADER = (
    "# upsample1d aliasing\n\n"
    "aliasing: the share of the output power at frequencies that are not harmonics of the "
    "probe tone (folded harmonics), mean over the tones; error vs ideal: the difference from "
    "the activation applied at 64x the rate and band-limited, which also counts the filters' "
    "in-band loss (see `upsample1d.artifacts.measure_aliasing`). Lower is better.\n\n"
)


def missing_dependencies(plot=True):
    """What :func:`write` cannot work without, as an install hint, or None (scipy, and
    matplotlib for the plot)."""
    import importlib.util

    needed = ["scipy"] + (["matplotlib"] if plot else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        return (f"aliasing needs {' and '.join(missing)}: pip install \"upsample1d[analysis]\""
                + (" (or run with --no-plot)" if missing == ["matplotlib"] else ""))
    return None


def check_activations(activations):
    """``activations`` in their canonical spelling (letter case ignored: ``"TANH"`` gives
    ``"tanh"``), each once, in the order given; ValueError (or TypeError) naming the first one that
    :class:`~upsample1d.layers.AliasFreeActivation1D` cannot run (needs Keras)."""
    from upsample1d.layers import activations as layer_activations

    names = [layer_activations._activation(name)[0] for name in activations]
    return list(dict.fromkeys(names))  # "relu,RELU" is one activation, measured once


def write(activations, out_dir, plot=True, progress=print):
    """Measure ``activations`` and write the files to ``out_dir``; returns their paths
    (markdown first). ``progress(text)`` is told each stage."""
    from upsample1d import artifacts

    rows = []
    for index, name in enumerate(activations, 1):
        progress(f"[{index}/{len(activations)}] {name}: measuring plain and alias-free")
        rows += artifacts.aliasing_table([name])
    paths = [os.path.join(out_dir, f"aliasing.{ext}") for ext in ("md", "json")]
    with open(paths[0], "w") as f:
        f.write(HEADER + artifacts.format_aliasing_table(rows) + "\n")
    with open(paths[1], "w") as f:
        json.dump([_jsonable(row) for row in rows], f, indent=2)
    if plot:
        progress("spectrogram grid of a sine sweep")
        paths.append(os.path.join(out_dir, "aliasing.png"))
        artifacts.plot_aliasing(activations, path=paths[-1])
    return paths


def read_table(path):
    """The markdown table of an ``aliasing.md``."""
    with open(path) as f:
        return "".join(line for line in f if line.startswith("|")).rstrip("\n")


def _jsonable(row):
    return {key: value.tolist() if hasattr(value, "tolist") else value
            for key, value in row.items()}
