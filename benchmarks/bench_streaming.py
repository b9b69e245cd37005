"""Streaming (``upsample1d.streaming.Stream``) on the current backend: exactness, cost per
chunk, real-time factor, and (torch) ``cached_conv`` 2.5.0 on the same conv stack.

Run from the repository root, one backend per process::

    KERAS_BACKEND=jax python -m benchmarks.bench_streaming [--size tiny] [--out DIR]

Parts (``--parts``, default all):

- ``exactness``: for every layer configuration of the streaming tests (both data formats)
  and the reference models, the max |streamed - offline| / max |offline| over the whole
  signal (both ends), eager (chunks of mixed sizes) and compiled (``stream.compiled_step()``,
  fixed chunks; on torch only the models, each Inductor graph takes a while);
- ``cost``: the auto-encoder and ``demucs_like`` (unidirectional LSTM, default size): the
  median time of a steady ``step`` per chunk of 64 .. 16384 samples, per sample against the
  offline model's call on 65536 samples (goal: <= 1.3x at 4096) and against the model
  called on one chunk alone (the per-call costs without the stream), and the real-time factor
  at 16 kHz and 44.1 kHz (time per chunk / duration of the chunk). The step runs as
  ``stream.compiled_step()`` (``jax.jit``, ``tf.function(jit_compile=True)``); on torch
  eager, and compiled (Inductor) at full size; the offline reference is the faster of the
  offline calls timed (torch: eager and compiled). Every backend, the step and the offline
  call alike, runs on ``--threads`` CPUs (default 1, as a real-time stream runs), with
  glibc's malloc keeping freed memory (:func:`benchmarks.machine.in_steady_process`);
- ``cached_conv`` (torch): a conv / strided conv / transposed conv stack streamed by our
  ``step`` and by ``cached_conv``'s cached convolutions, per chunk, calls interleaved
  (goal: ours <= 1.0x), and each one's exactness against its own offline model.

Writes ``streaming-<backend>.json`` and ``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import warnings

import keras
import numpy as np

from benchmarks import progress, report, timing
from benchmarks.machine import backend_name, in_steady_process, info_line, machine_info
from benchmarks.streaming_cases import (
    alias_free_gru_sinc_model,
    keras_layers,
    package_layers,
    partitions,
    relative_error,
    residual_model,
    run_stream,
    single_layer_model,
    to_numpy,
)

SIZES = {"full": {"chunks": [64, 256, 1024, 4096, 16384], "offline": 65536, "blocks": 24,
                  "cc_chunks": [256, 1024, 4096]},
         "tiny": {"chunks": [256, 1024], "offline": 4096, "blocks": 6, "cc_chunks": [256]}}
PARTS = ("exactness", "cost", "cached_conv")
COST_TARGET, CACHED_CONV_TARGET = 1.3, 1.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--budget", type=float, default=2.0, help="seconds per timed case")
    p.add_argument("--threads", type=int, default=1,
                   help="CPUs and framework threads, on every backend (default 1: a real-time "
                   "stream runs one chunk at a time; the offline call gets as many)")
    report.add_out_argument(p)
    return p.parse_args(argv)


# --- exactness -------------------------------------------------------------------------------

def _models():
    from upsample1d.models import autoencoder, demucs_like

    keras.utils.set_random_seed(31)
    models = {f"autoencoder({m})": autoencoder(m, length=None)
              for m in ("subpixel", "transposed", "nearest", "linear", "sinc")}
    models["demucs_like(lstm=unidirectional)"] = demucs_like(length=None, lstm="unidirectional")
    models["residual/gated/concatenated branches"] = residual_model()
    models["alias-free snake + GRU + sinc"] = alias_free_gru_sinc_model()
    return models


def _cases():
    cases = {}
    for df in ("channels_last", "channels_first"):
        for name, make in package_layers(df).items():
            cases[f"{name} ({df[9:]})"] = lambda m=make, d=df: single_layer_model(m, df=d)
    for name, make in keras_layers().items():
        cases[f"keras {name}"] = lambda m=make: single_layer_model(m)
    return cases


def _exactness_row(name, model, blocks, compiled):
    from upsample1d.streaming import Stream

    stream = Stream(model)
    axis = 1 if stream.data_format == "channels_last" else 2
    channels = model.inputs[0].shape[3 - axis]
    length = stream.hop * blocks * 4
    shape = [2, channels, channels]
    shape[axis] = length
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    offline = to_numpy(model(x))
    sizes = partitions(length, stream.hop, np.random.default_rng(1))["mixed"]
    row = {"case": name, "hop": stream.hop, "latency": str(stream.latency),
           "eager": relative_error(run_stream(stream, x, sizes)[0], offline)}
    if compiled:
        step = stream.compiled_step()
        fixed = [stream.hop * blocks // 2] * 8
        row["compiled"] = relative_error(run_stream(stream, x, fixed, step=step)[0], offline)
    return row


def exactness(size, backend):
    blocks = SIZES[size]["blocks"]
    cases = {**_cases(), **{n: (lambda m=m: m) for n, m in _models().items()}}
    if size == "tiny":
        cases = dict(list(cases.items())[:2] + list(cases.items())[-1:])
    rows = []
    with progress.Task("streaming exactness", len(cases)) as task:
        for name, make in cases.items():
            task.start(name)
            compiled = backend != "torch" or name in _models_names()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                try:
                    rows.append(_exactness_row(name, make(), blocks, compiled))
                except Exception as exc:  # noqa: BLE001 - a row says what failed
                    progress.failure(task, exc)
                    rows.append({"case": name, "error": report.short_error(exc)})
            task.done(f"{rows[-1].get('eager', 'error')}")
    return rows


def _models_names():
    return ("autoencoder(subpixel)", "autoencoder(transposed)", "autoencoder(nearest)",
            "autoencoder(linear)", "autoencoder(sinc)", "demucs_like(lstm=unidirectional)",
            "residual/gated/concatenated branches", "alias-free snake + GRU + sinc")


# --- cost per chunk --------------------------------------------------------------------------

def _modes(size, backend):
    """How the step (and the offline call) run: compiled as ``compiled_step`` on JAX and
    TensorFlow; on torch eager, and compiled (Inductor) at full size (an Inductor
    compilation per chunk length takes a while)."""
    if backend != "torch":
        return ("compiled",)
    return ("eager", "compiled") if size == "full" else ("eager",)


def _warm_state(stream, x):
    """The state after enough chunks ``x`` that its shapes no longer change."""
    state = stream.initial_state(x.shape[0])
    for _ in range(64):
        _, new_state = stream.step(x, state)
        steady = all(tuple(new_state[k].shape) == tuple(state[k].shape) for k in state)
        state = new_state
        if steady:
            break
    return state


def _offline_fns(model, backend, modes):
    """The offline call per mode: eager as Keras calls a model; compiled with the
    backend's compiler (torch: ``dynamic=False``, a graph per length, as the step's)."""
    from upsample1d import _backend

    fns = {"eager": lambda x: model(x)} if "eager" in modes else {}
    if "compiled" in modes:
        fns["compiled"] = _backend.compile_step(lambda x: model(x))
    return fns


def _cost_rows(name, model, size, backend, args):
    """Per chunk length and mode: the step, the model on that one chunk and the offline
    call(s), timed in interleaved rounds of ``BLOCK`` calls each, so that the machine's
    load, which moves the offline call's time by 2x from one run to the next here, falls on
    all of them alike, while each is timed warm, as a stream calls its step (in rounds of 4
    the first calls after a switch, slowed by the offline call before them, made a 64-sample
    step on TensorFlow look 4x dearer)."""
    from upsample1d import _backend as stream_backend
    from upsample1d.streaming import Stream

    stream = Stream(model)
    modes = _modes(size, backend)
    offline_fns = _offline_fns(model, backend, modes)
    length = SIZES[size]["offline"]
    offline_x = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(
        size=(1, length, 1)).astype("float32"))
    rows = []
    for mode in modes:
        step = stream.step if mode == "eager" else stream.compiled_step()
        for chunk in SIZES[size]["chunks"]:
            if chunk % stream.hop:
                continue
            x = keras.ops.zeros((1, chunk, 1))
            state = _warm_state(stream, x)
            # the model called on one chunk alone (wrong at the chunk's edges): what the
            # stream's own bookkeeping adds, apart from the per-call cost any chunked use
            # has. Compiled afresh per length: torch.compile stops compiling a function
            # after 8 graphs and runs the rest eagerly.
            one_chunk = _offline_fns(model, backend, (mode,))[mode]
            fns = {"step": lambda x=x, s=state, f=step: f(x, s)[0],
                   "one chunk": lambda x=offline_x[:, :chunk], f=one_chunk: f(x),
                   **{f"offline {m}": lambda f=f: f(offline_x) for m, f in offline_fns.items()}}
            with stream_backend.inference():
                # warm-up: Keras' first calls set attributes (an RNN's dropout masks) that
                # a torch.compile graph guards on, so the second call compiles again
                for fn in fns.values():
                    for _ in range(3):
                        timing.sync(fn(), backend)
                medians = _interleaved(fns, args.budget, sync=backend)
            per_sample = {m: medians[f"offline {m}"] / length for m in offline_fns}
            reference = min(per_sample, key=per_sample.get)  # the faster offline call
            ms = medians["step"]
            rows.append({"model": name, "mode": mode, "chunk": chunk, "hop": stream.hop,
                         "latency": str(stream.latency), "step_ms": ms,
                         "offline_samples": length,
                         "offline_ms_per_sample": per_sample[reference],
                         "offline_mode": reference, "offline_ms_per_sample_by_mode": per_sample,
                         "ratio": ms / chunk / per_sample[reference],
                         "one_chunk_ms": medians["one chunk"],
                         "ratio_one_chunk": ms / medians["one chunk"],
                         "rtf_16k": ms / 1e3 / (chunk / 16000),
                         "rtf_44k": ms / 1e3 / (chunk / 44100)})
    return rows


def cost(size, backend, args):
    from upsample1d.models import autoencoder, demucs_like

    keras.utils.set_random_seed(32)
    models = {"autoencoder(subpixel)": autoencoder(length=None),
              "demucs_like(lstm=unidirectional)": demucs_like(length=None,
                                                              lstm="unidirectional")}
    rows = []
    with progress.Task("streaming cost", len(models)) as task:
        for name, model in models.items():
            task.start(name)
            rows += _cost_rows(name, model, size, backend, args)
            task.done(f"{len(rows)} rows")
    return rows


# --- cached_conv -----------------------------------------------------------------------------

STACK = [("conv", 1, 16, 7, 1), ("conv", 16, 32, 8, 4), ("convt", 32, 16, 8, 4),
         ("conv", 16, 1, 7, 1)]  # (kind, in, out, kernel, stride), LeakyReLU(0.2) between


def _ours_stack():
    keras.utils.set_random_seed(33)
    inputs = keras.Input((1, None))
    x = inputs
    for i, (kind, _, out, k, s) in enumerate(STACK):
        layer = keras.layers.Conv1D if kind == "conv" else keras.layers.Conv1DTranspose
        x = layer(out, k, strides=s, padding="same", data_format="channels_first")(x)
        if i < len(STACK) - 1:
            x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(inputs, x)


def _their_stack(cached):
    import cached_conv as cc
    import torch

    cc.use_cached_conv(cached)
    layers, delay = [], 0
    for i, (kind, c_in, c_out, k, s) in enumerate(STACK):
        if kind == "conv":
            layer = cc.Conv1d(c_in, c_out, k, stride=s, padding=cc.get_padding(k, s),
                              cumulative_delay=delay)
        else:
            layer = cc.ConvTranspose1d(c_in, c_out, k, stride=s, padding=(k - s) // 2,
                                       cumulative_delay=delay)
        delay = getattr(layer, "cumulative_delay", 0)
        layers.append(layer)
        if i < len(STACK) - 1:
            layers.append(torch.nn.LeakyReLU(0.2))
    model = cc.CachedSequential(*layers)
    cc.use_cached_conv(False)
    return model.eval()


def _theirs_exactness(length):
    """cached_conv's streamed output (chunks of 256) against its offline model: over the
    interior (its own test's crop) and over every sample it produces."""
    import cached_conv as cc
    import torch

    torch.manual_seed(0)
    offline, streamed = _their_stack(False), _their_stack(True)
    streamed.load_state_dict(offline.state_dict(), strict=False)
    x = torch.randn(1, 1, length)
    with torch.no_grad():
        y = offline(x)
        cy = cc.chunk_process(streamed, x, length // 256)
    delay = streamed.cumulative_delay
    aligned_y, aligned_cy = y[..., :length - delay], cy[..., delay:]
    scale = float(y.abs().max())
    interior = float((aligned_y - aligned_cy)[..., delay:-delay].abs().max()) / scale
    whole = float((aligned_y - aligned_cy).abs().max()) / scale
    return {"delay": delay, "interior": interior, "produced": whole, "missing_end": delay}


def cached_conv(size, backend, args):
    if backend != "torch":
        return {"skipped": "cached_conv is torch only"}
    if importlib.util.find_spec("cached_conv") is None:
        return {"skipped": "needs cached-conv==2.5.0 (the bench extra)"}
    import torch

    from upsample1d.streaming import Stream

    model = _ours_stack()
    stream = Stream(model)
    length = max(SIZES[size]["cc_chunks"]) * 8
    x = np.random.default_rng(0).normal(size=(1, 1, length)).astype("float32")
    ours_error = relative_error(run_stream(stream, x, [256] * (length // 256))[0],
                                to_numpy(model(x)))
    theirs = _their_stack(True)
    scripted = _scripted(_their_stack(True))
    rows = []
    for chunk in SIZES[size]["cc_chunks"]:
        xt = torch.randn(1, 1, chunk)
        state = _warm_state(stream, xt)
        fns = {"ours": lambda x=xt, s=state: stream.step(x, s)[0],
               "theirs": lambda x=xt: theirs(x), "theirs scripted": lambda x=xt: scripted(x)}
        if size == "full":  # (an Inductor compilation takes a while)
            compiled = _warm_compiled(stream, xt)
            fns["ours compiled"] = lambda x=xt, s=state, c=compiled: c(x, s)[0]
        with torch.no_grad():
            medians = _interleaved(fns, args.budget)
        rows.append({"chunk": chunk, **{f"{k} ms": v for k, v in medians.items()},
                     "ratio": medians["ours"] / medians["theirs"]})
        if "ours compiled" in medians:
            rows[-1]["ratio compiled"] = medians["ours compiled"] / medians["theirs"]
    return {"rows": rows, "ours": {"latency": str(stream.latency), "error": ours_error},
            "theirs": _theirs_exactness(length)}


def _scripted(model):
    """TorchScript of cached_conv's model (as RAVE exports it), its buffers made first."""
    import torch

    with torch.no_grad():
        model(torch.zeros(1, 1, 256))
    return torch.jit.script(model)


def _warm_compiled(stream, x):
    """``stream.compiled_step()`` after its warm-up and one compiled call on ``x``."""
    step, state = stream.compiled_step(), stream.initial_state(1)
    for _ in range(24):
        _, state = step(x, state)
    return step


BLOCK = 16  # consecutive calls of one function between switches


def _interleaved(fns, budget, block=BLOCK, sync=None):
    """Median ms per call of each function. Rounds run every function in turn, ``block``
    calls at a time: a stream calls its step over and over, so each is timed warm (its code
    and data in cache, as in use), while the load of other jobs on the machine still falls
    on all of them alike. (Switching after every call made the compiled step's time 10-20%
    worse than in a loop of its own, cached_conv's less.) ``sync``: the backend whose
    asynchronous results are waited for before the clock stops (JAX)."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    began = time.perf_counter()
    while time.perf_counter() - began < budget or len(times[next(iter(times))]) < 5 * block:
        for name, fn in fns.items():
            for _ in range(block):
                start = time.perf_counter()
                result = fn()
                if sync:
                    timing.sync(result, sync)
                times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(t) for name, t in times.items()}


# --- report ----------------------------------------------------------------------------------

def markdown(results, info):
    lines = ["# Streaming", "", info_line(info), ""]
    if "exactness" in results:
        lines += ["## Exactness: max |streamed - offline| / max |offline|, whole signal", ""]
        rows = [[r["case"], r.get("hop", ""), r.get("latency", ""),
                 r.get("error") or f"{r['eager']:.1e}",
                 f"{r['compiled']:.1e}" if "compiled" in r else "-"]
                for r in results["exactness"]]
        lines += [report.markdown_table(["case", "hop", "latency", "eager", "compiled"], rows),
                  ""]
    if "cost" in results:
        lines += ["## Cost of a steady step (median per chunk) against the offline call",
                  "", f"Target: <= {COST_TARGET}x per sample at 4096 samples. Step and "
                  f"offline call alike on {info.get('threads', '?')} thread(s) "
                  "(`--threads`), glibc's malloc keeping freed memory "
                  "(`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` at 1 GiB).", ""]
        rows = [[r["model"], r.get("mode", "compiled"), r["chunk"], f"{r['step_ms']:.3f}",
                 f"{r['offline_ms_per_sample'] * r['chunk']:.3f} "
                 f"({r.get('offline_mode', 'compiled')})", f"{r['ratio']:.2f}x",
                 f"{r['one_chunk_ms']:.3f}" if "one_chunk_ms" in r else "-",
                 f"{r['ratio_one_chunk']:.2f}x" if "ratio_one_chunk" in r else "-",
                 f"{r['rtf_16k']:.4f}", f"{r['rtf_44k']:.4f}"] for r in results["cost"]]
        lines += [report.markdown_table(
            ["model", "step", "chunk", "step ms",
             f"offline ms (same samples, of a "
             f"{results['cost'][0].get('offline_samples', 65536)}-sample call)", "ratio",
             "model on one chunk ms", "step / model on one chunk", "RTF 16 kHz",
             "RTF 44.1 kHz"], rows), "",
            "step: eager (`stream.step`) or compiled (`stream.compiled_step()`). offline: "
            "the faster of the offline calls timed (eager and compiled on torch; compiled "
            "on JAX and TensorFlow). ratio: the step's cost per sample against that offline "
            "call's on a whole signal (the target). model on one chunk: the model called, "
            "as the step runs (eager or compiled), on the chunk alone (wrong at its edges), "
            "which pays the same per-call costs as a step; the difference is what the "
            "stream's bookkeeping (history, alignment, state) costs.", ""]
    cc = results.get("cached_conv")
    if cc and "rows" in cc:
        lines += ["## The same conv stack: ours against cached_conv 2.5.0 (torch)", "",
                  f"Target: ours <= {CACHED_CONV_TARGET}x per chunk. Exactness, ours: "
                  f"{cc['ours']['error']:.1e} over every sample, latency "
                  f"{cc['ours']['latency']}; cached_conv: {cc['theirs']['interior']:.1e} "
                  f"inside (its test's crop), {cc['theirs']['produced']:.1e} over what it "
                  f"produces, delay {cc['theirs']['delay']} and the last "
                  f"{cc['theirs']['missing_end']} samples not produced.", ""]
        names = ["ours", "ours compiled", "theirs", "theirs scripted"]
        rows = [[r["chunk"], *(f"{r[n + ' ms']:.3f}" if n + " ms" in r else "-" for n in names),
                 f"{r['ratio']:.2f}x", f"{r['ratio compiled']:.2f}x" if "ratio compiled" in r
                 else "-"] for r in cc["rows"]]
        lines += [report.markdown_table(
            ["chunk", "ours eager ms", "ours compiled ms (Inductor)", "cached_conv ms",
             "cached_conv TorchScript ms", "eager / cached_conv",
             "compiled / cached_conv"], rows), ""]
    elif cc:
        lines += [f"cached_conv: skipped ({cc['skipped']})", ""]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    rc = in_steady_process(args.threads, "benchmarks.bench_streaming", argv)
    if rc is not None:
        return rc
    backend = backend_name()
    if backend == "torch":
        import torch

        torch.set_num_threads(args.threads)
    results = {}
    if "exactness" in args.parts:
        results["exactness"] = exactness(args.size, backend)
    if "cost" in args.parts:
        results["cost"] = cost(args.size, backend, args)
    if "cached_conv" in args.parts:
        results["cached_conv"] = cached_conv(args.size, backend, args)
    info = {**machine_info(), "threads": args.threads}
    text = markdown(results, info)
    report.write_results(args.out, f"streaming-{backend}", {"info": info, **results}, text)
    print(text)
    errors = [r for r in results.get("exactness", []) if "error" in r]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
