"""AliasFreeActivation1D against alias-free-torch's Activation1d (BigVGAN), on the current backend.

Run from the repository root, one backend per process::

    KERAS_BACKEND=torch python -m benchmarks.bench_alias_free [--size tiny] [--out DIR]

At input ``(8, 256, 8192)`` float32 channels_first (BigVGAN's layout), ratio 2, 12-tap
filters and a Snake activation with one learnable alpha per channel, times the forward pass
and a forward + backward pass (gradients of ``sum(y**2)`` with respect to the input and
alpha) of ``AliasFreeActivation1D("snake")`` on the active Keras backend (compiled as Keras
trains: ``jax.jit``, ``tf.function``, PyTorch eager) and of ``alias_free_torch.Activation1d``
around BigVGAN's ``Snake`` (PyTorch eager, CPU) in the same process, calls of the two
interleaved so that load from other jobs hits both alike. Also ours on channels_last input.
The table gives the medians and the ratio ours / theirs; the target on the torch backend is
at most 1.0x. Writes ``alias_free-<backend>.json`` and ``.md`` to ``--out``. Needs
``alias-free-torch==0.0.6`` (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time

import numpy as np

from benchmarks import progress, report, timing
from benchmarks.compiled import COMPILE_MODES, layer_forward, layer_forward_backward
from benchmarks.machine import backend_name, info_line, machine_info

SIZES = {"full": (8, 256, 8192), "tiny": (2, 8, 256)}
PASSES = ("forward", "forward+backward")
TARGET = 1.0  # ours / theirs on the torch backend


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed rounds (default: as many as fit in --budget, 3 to 15)")
    p.add_argument("--budget", type=float, default=6.0, help="seconds per case (default 6)")
    p.add_argument("--ratios", type=int, nargs="+", default=[2], help="up = down (default 2)")
    report.add_out_argument(p)
    return p.parse_args(argv)


def interleaved(fns, x, args, backend):
    """Median ms of each ``fns[name](x[name])``, one synchronised call of each per round,
    the order rotated from round to round (so that none always runs after the same one);
    each name's per-round times in ``"ms"`` ("theirs" returns torch tensors: synchronised
    as torch's)."""
    backends = {name: "torch" if name == "theirs" else backend for name in fns}
    for name, fn in fns.items():  # warm-up: compiles, allocates
        timing.sync(fn(x[name]), backends[name])
    names = list(fns)
    times = {name: [] for name in fns}
    began = time.perf_counter()
    rounds = 0
    while True:
        for name in names[rounds % len(names):] + names[:rounds % len(names)]:
            start = time.perf_counter()
            timing.sync(fns[name](x[name]), backends[name])
            times[name].append((time.perf_counter() - start) * 1e3)
        rounds += 1
        spent = time.perf_counter() - began
        if (args.repeats and rounds >= args.repeats) or (not args.repeats and (
                rounds >= 15 or (spent >= args.budget and rounds >= 3))):
            break
    return {name: {"median_ms": statistics.median(t), "min_ms": min(t), "repeats": len(t),
                   "ms": t} for name, t in times.items()}


def paired_ratio(row, name, reference="theirs"):
    """The median over rounds of ``name``'s time / ``reference``'s in the same round (from
    :func:`interleaved`): a load that drifts during the run moves both alike."""
    return statistics.median(a / b for a, b in zip(row[name]["ms"], row[reference]["ms"],
                                                   strict=True))


def has_reference():
    return importlib.util.find_spec("alias_free_torch") is not None


def torch_device():
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def theirs(shape, ratio):
    """alias_free_torch.Activation1d(Snake) and its forward / forward+backward callables."""
    import torch

    import backends

    reference = backends.load("torch")
    module = reference.alias_free_activation_module(reference.Snake(shape[1]), ratio, ratio,
                                                    12, 12).to(torch_device())
    alpha = module.act.alpha

    def forward(x):
        with torch.no_grad():
            return module(x)

    def forward_backward(x):
        x = x.detach().requires_grad_(True)
        y = module(x)
        return torch.autograd.grad((y * y).sum(), [x, alpha])

    return forward, forward_backward


def ours(shape, ratio, data_format, backend):
    from upsample1d.layers import AliasFreeActivation1D

    layer = AliasFreeActivation1D("snake", ratio, ratio, 12, 12, data_format=data_format)
    layer.build(shape)
    return layer_forward(layer, backend), layer_forward_backward(layer, backend)


def run_case(ratio, which, inputs, args, backend):
    """One row: ours (channels_first, channels_last) and theirs, interleaved."""
    import keras

    b, c, t = SIZES[args.size]
    index = PASSES.index(which)
    fns = {"ours": ours((b, c, t), ratio, "channels_first", backend)[index],
           "ours_last": ours((b, t, c), ratio, "channels_last", backend)[index]}
    x = {"ours": inputs["first"], "ours_last": inputs["last"], "theirs": inputs.get("torch")}
    row = {"ratio": ratio, "pass": which, "max_rel_diff": None}
    if has_reference():
        fns["theirs"] = theirs((b, c, t), ratio)[index]
        if which == "forward":
            got = np.asarray(keras.ops.convert_to_numpy(fns["ours"](x["ours"])))
            want = fns["theirs"](x["theirs"]).cpu().numpy()
            row["max_rel_diff"] = float(np.abs(got - want).max() / np.abs(want).max())
    row.update(interleaved(fns, x, args, backend))
    for name in ("ours", "ours_last"):
        row[f"{name}_over_theirs"] = paired_ratio(row, name) if "theirs" in row else None
    return row


def run(args):
    import keras
    import torch

    backend = backend_name()
    b, c, t = SIZES[args.size]
    x = np.random.default_rng(0).standard_normal((b, c, t), dtype=np.float32)
    inputs = {"first": keras.ops.convert_to_tensor(x),
              "torch": torch.from_numpy(x).to(torch_device()),
              "last": keras.ops.convert_to_tensor(np.ascontiguousarray(x.transpose(0, 2, 1)))}
    info = machine_info(sample=inputs["first"])
    info["torch_threads"] = torch.get_num_threads()
    results, errors = [], 0
    with progress.Task("alias_free", len(args.ratios) * len(PASSES)) as task:
        for ratio in args.ratios:
            for which in PASSES:
                task.start(f"x{ratio} {which}")
                try:
                    row = run_case(ratio, which, inputs, args, backend)
                    theirs_ms = row.get("theirs", {}).get("median_ms")
                    task.done(f"ours {row['ours']['median_ms']:.1f} ms, theirs "
                              f"{report.fmt_ms(theirs_ms) or 'not installed'} ms")
                except Exception as exc:  # record it and go on
                    errors += 1
                    row = {"ratio": ratio, "pass": which,
                           "error": progress.failure(task, exc)}
                results.append(row)
    return info, results, errors


def render(info, results, args):
    backend = info["backend"]
    b, c, t = SIZES[args.size]
    headers = ["ratio", "pass", "ours ms (channels_first)", "ours ms (channels_last)",
               "alias-free-torch ms", "ours / theirs", "channels_last / theirs"]
    rows = []
    for r in results:
        head = [r["ratio"], r["pass"]]
        if "error" in r:
            rows.append(head + [f"error: {r['error'][:80]}", "", "", "", ""])
            continue
        rows.append(head + [report.fmt_ms(r["ours"]["median_ms"]),
                            report.fmt_ms(r["ours_last"]["median_ms"]),
                            report.fmt_ms(r.get("theirs", {}).get("median_ms")),
                            report.fmt_ratio(r["ours_over_theirs"]),
                            report.fmt_ratio(r["ours_last_over_theirs"])])
    ok = [r for r in results if "error" not in r and r["ours_over_theirs"] is not None]
    lines = [
        f"## AliasFreeActivation1D vs alias-free-torch Activation1d, {backend}, size "
        f"{args.size}", "", info_line(info), "",
        f"Input {b}x{c}x{t} float32 (B, C, T), Snake (one alpha per channel), up = down, "
        f"12-tap filters; ours compiled as Keras trains "
        f"({COMPILE_MODES.get(backend, backend)}), alias-free-torch 0.0.6 eager on torch's "
        f"{torch_device()} ({info['torch_threads']} CPU threads"
        f"{'' if has_reference() else '; alias_free_torch is not installed: no reference'}). "
        "Medians of interleaved synchronised calls "
        "after a warm-up (the order rotated each round); ours / theirs: the median over "
        "rounds of the two times in one round; forward+backward = gradients of sum(y**2) "
        "for the input and alpha. "
        "The CPUs were shared with other jobs: expect +-10-20% noise per cell.", "",
        report.markdown_table(headers, rows, "rlrrrrr"), ""]
    if backend == "torch" and ok:
        lines += report.target_lines([
            {"target": f"x{r['ratio']} {r['pass']}: ours / theirs <= {TARGET}",
             "value": r["ours_over_theirs"], "ok": r["ours_over_theirs"] <= TARGET}
            for r in ok])
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = backend_name()
    progress.note(f"bench_alias_free on {backend}, size {args.size}")
    info, results, errors = run(args)
    markdown = render(info, results, args)
    payload = {"benchmark": "alias_free", "size": args.size, "shape": SIZES[args.size],
               "dtype": "float32", "compiled_as": COMPILE_MODES.get(backend),
               "machine": info, "results": results}
    json_path, md_path = report.write_results(args.out, f"alias_free-{backend}", payload,
                                              markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
