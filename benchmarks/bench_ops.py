"""Every op and upsampling layer against its native reference and a plain copy, over sizes.

Run from the repository root, one backend per process::

    KERAS_BACKEND=jax python -m benchmarks.bench_ops [--size tiny] [--out DIR]

For output sizes of ``N = 4**6 .. 4**12`` (2**12 .. 2**24) float32 elements, factor ``r = 4``
and ``C = 16`` channels (channels_last, batch 1, so the time axis is ``N / C`` at the output),
times ``depth_to_space_1d``, ``space_to_depth_1d``, ``upsample_nearest_1d``,
``upsample_linear_1d``, ``upsample_sinc_1d``, ``SubpixelConv1D`` (kernel 3) and
``TransposedConvUpsample1D`` (kernel 8, both implementations), each next to

- the same computation written natively in the backend's framework: the ``backends/``
  shuffle references; ``F.interpolate`` / ``jax.image.resize`` / ``tf.image.resize`` for
  nearest and linear; for sinc, zero-stuffing + our prototype filter (read out of
  ``upsample1d.ops.sinc_bank``) as ``F.conv_transpose1d`` with groups,
  ``lax.conv_general_dilated`` with ``lhs_dilation``, or explicit zeros +
  ``tf.nn.depthwise_conv2d``; the framework's conv + the ``backends/`` shuffle
  (TF: the seed's batch_to_space layer) for subpixel; the framework's transposed conv for
  transposed. PyTorch references take channels_first inputs, as PyTorch users write them;
- a plain copy of the output size (``y = x * 2``: one read and one write of ``N`` floats).

Calls are compiled as Keras' training loop runs them (``jax.jit``, ``tf.function``,
PyTorch eager). Reported: median ms, GB/s (input + output bytes / time) and the ratio to the
copy of the same output size, plus the log-log slope of time against size over the three
largest sizes (1.0 = linear scaling). Writes ``ops-<backend>.json`` and ``.md`` to ``--out``.

Downsampling section (``--parts down``; both parts run by default): for *input* sizes ``N``
(``(1, N/C, C)``, factor ``r = 4``), the polyphase decimator (``downsample_sinc_1d``, an
``81``-tap prototype; ``downsample_average_1d``, ``r`` taps), i.e. space_to_depth + one
convolution at the output rate, ``K`` multiply-adds per output sample, against

- filter-then-stride: the same FIR as a full-rate convolution (the same ``keras.ops`` calls
  and layout as ours: channels folded into the batch, one single-channel conv) followed by
  ``y[:, ::r]``: ``r * K`` multiply-adds per output sample, ``r - 1`` of every ``r`` thrown
  away;
- the framework's own strided convolution with the same FIR (``F.conv1d(stride=r,
  groups=C)``, ``lax.conv_general_dilated(window_strides=(r,))``, ``tf.nn.conv1d(stride=r)``)
  for sinc, and its average pooling for average: ``K`` per output, like ours.

Reported per size: median ms of each and the ratios filter-then-stride / ours and
native / ours.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from benchmarks import progress, report, timing
from benchmarks.compiled import (
    COMPILE_MODES,
    compile_as_keras_trains,
    layer_forward,
)
from benchmarks.machine import backend_name, info_line, machine_info

R = 4
C = 16
SIZES = {"full": [4**k for k in range(6, 13)], "tiny": [4**5, 4**6]}
COPY = "copy (x * 2)"
SINC_HALF_WIDTH = 10
PARTS = ("up", "down")
DOWN_POLYPHASE, DOWN_STRIDE, DOWN_NATIVE = "ours polyphase", "filter then stride", "native"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--budget", type=float, default=0.5,
                   help="seconds of timed calls per case and size (default 0.5)")
    p.add_argument("--repeats", type=int, default=None, help="fixed timed calls instead")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                   help="up: ops and upsampling layers; down: the downsampling section "
                   "(default: both)")
    report.add_out_argument(p)
    p.add_argument("--render", metavar="JSON",
                   help="only re-render the markdown of an earlier ops-<backend>.json")
    return p.parse_args(argv)


def sinc_prototype(r):
    """The full low-pass of upsample_sinc_1d (``2 * half_width * r + 1`` taps, gain ``r``).

    Read back out of :func:`upsample1d.ops.sinc_bank`, whose layout is
    ``bank[n, i] = h[(half_width - n) * r + i + half_width * r]``: so the native references
    run exactly our filter. Derived, not an independent reference: the natives here are only
    timed, and tests/test_interpolate.py checks sinc_bank against scipy.signal.firwin.
    """
    from upsample1d.ops import sinc_bank

    bank, _ = sinc_bank(r, SINC_HALF_WIDTH)
    h = np.asarray(bank)[::-1].reshape(-1)[: 2 * SINC_HALF_WIDTH * r + 1]
    return np.ascontiguousarray(h, dtype="float32")


def torch_references(h, weights):
    """PyTorch references, on channels_first inputs as PyTorch users write them."""
    import torch.nn.functional as F

    from backends import torch as ref

    ht = _torch_tensor(np.tile(h[None, None], (C, 1, 1)))
    w_sub = _torch_tensor(weights["subpixel"].transpose(2, 1, 0))
    w_tr = _torch_tensor(weights["transposed"].transpose(2, 1, 0))
    k = weights["transposed"].shape[0]
    # zero-stuffed sinc: output t*r + i reads h[i - t'*r + L]: padding L, and output_padding
    # r - 1 brings the length to exactly T * r
    pad = SINC_HALF_WIDTH * R
    return {
        "depth_to_space_1d": ("d2s", lambda x: ref.depth_to_space_1d(x, R, as_numpy=False)),
        "space_to_depth_1d": ("s2d", lambda x: ref.space_to_depth_1d(x, R, as_numpy=False)),
        "upsample_nearest_1d": ("up_cf", lambda x: F.interpolate(x, scale_factor=R,
                                                                 mode="nearest")),
        "upsample_linear_1d": ("up_cf", lambda x: F.interpolate(
            x, scale_factor=R, mode="linear", align_corners=False)),
        "upsample_sinc_1d": ("up_cf", lambda x: F.conv_transpose1d(
            x, ht, stride=R, padding=pad, output_padding=R - 1, groups=C)),
        "SubpixelConv1D": ("up_cf", lambda x: ref.depth_to_space_1d(
            F.conv1d(x, w_sub, padding=1), R, "channels_first", "CRD", as_numpy=False)),
        # torch returns one sample more when k - R is odd: keep the first T * R (README)
        "TransposedConvUpsample1D": ("up_cf", lambda x: F.conv_transpose1d(
            x, w_tr, stride=R, padding=(k - R) // 2)[..., : x.shape[-1] * R]),
    }


def _torch_tensor(array):
    """``array`` as a torch tensor on the device Keras puts its tensors on (the inputs')."""
    import torch
    from keras.src.backend.torch.core import get_device

    return torch.from_numpy(np.ascontiguousarray(array)).to(get_device())


def jax_references(h, weights):
    """JAX references: ``jax.image.resize``, ``lax`` convolutions, the ``backends/`` shuffle."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from backends import jax as ref

    hj = jnp.asarray(np.tile(h[:, None, None], (1, 1, C)))
    w_sub = jnp.asarray(weights["subpixel"])
    w_tr = jnp.asarray(weights["transposed"].transpose(0, 2, 1))  # (K, C_in, C_out)
    dn = ("NWC", "WIO", "NWC")
    left = SINC_HALF_WIDTH * R
    right = R + len(h) - 2 - left

    def resize(method):
        return lambda x: jax.image.resize(x, (x.shape[0], x.shape[1] * R, x.shape[2]), method)

    return {
        "depth_to_space_1d": ("d2s", lambda x: ref.depth_to_space_1d(x, R, as_numpy=False)),
        "space_to_depth_1d": ("s2d", lambda x: ref.space_to_depth_1d(x, R, as_numpy=False)),
        "upsample_nearest_1d": ("up", resize("nearest")),
        "upsample_linear_1d": ("up", resize("linear")),
        "upsample_sinc_1d": ("up", lambda x: lax.conv_general_dilated(
            x, hj, (1,), [(left, right)], lhs_dilation=(R,), dimension_numbers=dn,
            feature_group_count=C)),
        "SubpixelConv1D": ("up", lambda x: ref.depth_to_space_1d(
            lax.conv_general_dilated(x, w_sub, (1,), "SAME", dimension_numbers=dn), R,
            as_numpy=False)),
        "TransposedConvUpsample1D": ("up", lambda x: lax.conv_transpose(
            x, w_tr, (R,), "SAME", dimension_numbers=dn)),
    }


def tensorflow_references(h, weights):
    """TensorFlow references: ``tf.image.resize``, ``tf.nn`` convolutions, the seed layer."""
    import tensorflow as tf

    from backends import tensorflow as ref

    ht = tf.constant(np.tile(h[:, None, None, None], (1, 1, C, 1)))
    w_sub = tf.constant(weights["subpixel"])
    w_tr = tf.constant(weights["transposed"])  # (K, C_out, C_in)

    def resize(method):
        def fn(x):
            y = tf.image.resize(x[:, :, None, :], (x.shape[1] * R, 1), method)
            return y[:, :, 0, :]
        return fn

    def sinc(x):
        b, t, c = x.shape
        z = tf.concat([x[:, :, None, :], tf.zeros((b, t, R - 1, c), x.dtype)], axis=2)
        z = tf.reshape(z, (b, t * R, 1, c))
        z = tf.pad(z, [[0, 0], [SINC_HALF_WIDTH * R, SINC_HALF_WIDTH * R], [0, 0], [0, 0]])
        return tf.nn.depthwise_conv2d(z, ht, [1, 1, 1, 1], "VALID")[:, :, 0, :]

    return {
        "depth_to_space_1d": ("d2s", lambda x: ref.depth_to_space_1d(x, R, as_numpy=False)),
        "space_to_depth_1d": ("s2d", lambda x: ref.space_to_depth_1d(x, R, as_numpy=False)),
        "upsample_nearest_1d": ("up", resize("nearest")),
        "upsample_linear_1d": ("up", resize("bilinear")),
        "upsample_sinc_1d": ("up", sinc),
        "SubpixelConv1D": ("up", lambda x: ref.subpixel1d_seed(
            tf.nn.conv1d(x, w_sub, 1, "SAME"), R)),
        "TransposedConvUpsample1D": ("up", lambda x: tf.nn.conv1d_transpose(
            x, w_tr, (x.shape[0], x.shape[1] * R, C), R, "SAME")),
    }


def native_references(backend, weights):
    """{case: (input key, fn)} written with the framework's own API."""
    make = {"torch": torch_references, "jax": jax_references,
            "tensorflow": tensorflow_references}.get(backend)
    return make(sinc_prototype(R), weights) if make else {}


def make_cases(backend):
    """[(case, variant, input key, fn)] with variant 'ours' or 'native', and the copy."""
    import keras

    from upsample1d.layers import SubpixelConv1D, TransposedConvUpsample1D
    from upsample1d.ops import (
        depth_to_space_1d,
        space_to_depth_1d,
        upsample_linear_1d,
        upsample_nearest_1d,
        upsample_sinc_1d,
    )

    subpixel = SubpixelConv1D(C, R, kernel_size=3)
    subpixel.build((None, None, C))
    poly = TransposedConvUpsample1D(C, R, overlap="full", implementation="polyphase")
    poly.build((None, None, C))
    native = TransposedConvUpsample1D(C, R, overlap="full", implementation="native")
    native.build((None, None, C))
    native.kernel.assign(poly.kernel)
    weights = {"subpixel": keras.ops.convert_to_numpy(subpixel.kernel),
               "transposed": keras.ops.convert_to_numpy(poly.kernel)}
    wrap = compile_as_keras_trains
    cases = [
        (COPY, "baseline", "out", wrap(lambda x: x * 2.0, backend)),
        ("depth_to_space_1d", "ours", "d2s", wrap(lambda x: depth_to_space_1d(x, R), backend)),
        ("space_to_depth_1d", "ours", "s2d", wrap(lambda x: space_to_depth_1d(x, R), backend)),
        ("upsample_nearest_1d", "ours", "up", wrap(lambda x: upsample_nearest_1d(x, R),
                                                    backend)),
        ("upsample_linear_1d", "ours", "up", wrap(lambda x: upsample_linear_1d(x, R), backend)),
        ("upsample_sinc_1d", "ours", "up", wrap(lambda x: upsample_sinc_1d(x, R), backend)),
        ("SubpixelConv1D", "ours", "up", layer_forward(subpixel, backend)),
        ("TransposedConvUpsample1D", "ours polyphase", "up", layer_forward(poly, backend)),
        ("TransposedConvUpsample1D", "ours native", "up", layer_forward(native, backend)),
    ]
    refs = native_references(backend, weights)
    out = []
    for name in dict.fromkeys(case[0] for case in cases):  # each native after all of ours
        out += [case for case in cases if case[0] == name]
        if name in refs:
            key, fn = refs[name]
            out.append((name, "native", key, wrap(fn, backend)))
    return out


def make_inputs(n, backend):
    """Inputs for output size ``n`` (float32 elements): keys out, d2s, s2d, up, up_cf."""
    import keras

    rng = np.random.default_rng(0)
    t_out = n // C
    t_in = t_out // R
    arrays = {
        "out": rng.standard_normal((1, t_out, C), dtype=np.float32),
        "d2s": rng.standard_normal((1, t_in, R * C), dtype=np.float32),
        "s2d": rng.standard_normal((1, t_out, C), dtype=np.float32),
        "up": rng.standard_normal((1, t_in, C), dtype=np.float32),
    }
    arrays["up_cf"] = np.ascontiguousarray(arrays["up"].transpose(0, 2, 1))
    return {k: keras.ops.convert_to_tensor(v) for k, v in arrays.items()}


def time_case(fn, x, n, args, backend):
    """Check that ``fn(x)`` has ``n`` elements, then time it: the fields of a result row."""
    y = fn(x)
    timing.sync(y, backend)
    if int(np.prod(tuple(y.shape))) != n:
        raise AssertionError(f"output shape {tuple(y.shape)} is not {n} elements")
    row = {"output": list(y.shape)}
    del y
    if args.repeats:
        t = timing.time_calls(fn, x, repeats=args.repeats, warmup=1, backend=backend)
    else:
        t = timing.time_calls(fn, x, budget_s=args.budget, min_calls=3, max_calls=50,
                              warmup=1, backend=backend)
    row.update({k: t[k] for k in ("median_ms", "min_ms", "repeats")})
    row["bytes"] = 4 * (int(np.prod(tuple(x.shape))) + n)
    row["gbps"] = report.gbps(row["bytes"], row["median_ms"])
    return row


def run(args):
    backend = backend_name()
    sizes = SIZES[args.size]
    results, errors, info = [], 0, None
    if "up" not in args.parts:
        return info, results, {}, errors
    cases = make_cases(backend)
    with progress.Task("ops", len(sizes) * len(cases)) as task:
        for n in sizes:
            inputs = make_inputs(n, backend)
            if info is None:
                info = machine_info(sample=inputs["up"])
            for name, variant, key, fn in cases:
                x = inputs[key]
                row = {"case": name, "variant": variant, "size": n, "input": list(x.shape)}
                task.start(f"{size_head(n)} {name} {variant}")
                try:
                    row.update(time_case(fn, x, n, args, backend))
                    task.done(f"{report.fmt_ms(row['median_ms'])} ms")
                except Exception as exc:  # record it and go on
                    errors += 1
                    row["error"] = progress.failure(task, exc)
                results.append(row)
    copies = {r["size"]: r.get("median_ms") for r in results if r["case"] == COPY}
    for r in results:
        if r.get("median_ms") and copies.get(r["size"]):
            r["vs_copy"] = r["median_ms"] / copies[r["size"]]
    return info, results, slopes(results, sizes), errors


# --- downsampling: the polyphase decimator against filter-then-stride -----------------------

def down_prototypes():
    """{case: (prototype, left)}: the 81-tap sinc of downsample_sinc_1d (read from
    :func:`upsample1d.ops.sinc_prototype`, the function under test uses) and the boxcar."""
    from upsample1d.ops import sinc_prototype

    sinc = np.asarray(sinc_prototype(R, SINC_HALF_WIDTH), np.float32)
    return {"downsample_sinc_1d": (sinc, SINC_HALF_WIDTH * R),
            "downsample_average_1d": (np.full(R, 1.0 / R, np.float32), 0)}


def filter_then_stride(h, left):
    """The FIR ``h`` as a full-rate convolution, then every ``R``-th sample: the same
    ``keras.ops`` calls and layout as the polyphase decimator (channels folded into the
    batch, one single-channel conv), ``R`` times the multiply-adds."""
    import keras
    from keras import ops

    kernel = keras.ops.convert_to_tensor(np.ascontiguousarray(h[:, None, None]))
    right = len(h) - 1 - left

    def fn(x):
        b, t, c = x.shape
        y = ops.reshape(ops.transpose(x, (0, 2, 1)), (b * c, t, 1))
        y = ops.pad(y, [[0, 0], [left, right], [0, 0]])
        y = ops.conv(y, kernel, padding="valid")[:, ::R]
        return ops.transpose(ops.reshape(y, (b, c, -1)), (0, 2, 1))

    return fn


def native_downsamplers(backend, prototypes):
    """{case: (input key, fn)}: the framework's strided depthwise conv with the same sinc
    FIR (only the kept outputs computed) and its average pooling."""
    h, left = prototypes["downsample_sinc_1d"]
    if backend == "torch":
        import torch.nn.functional as F

        ht = _torch_tensor(np.tile(h[None, None], (C, 1, 1)))
        return {"downsample_sinc_1d": ("x_cf", lambda x: F.conv1d(
                    x, ht, stride=R, padding=left, groups=C)),
                "downsample_average_1d": ("x_cf", lambda x: F.avg_pool1d(x, R))}
    if backend == "jax":
        import jax.numpy as jnp
        from jax import lax

        hj = jnp.asarray(np.tile(h[:, None, None], (1, 1, C)))
        return {"downsample_sinc_1d": ("x", lambda x: lax.conv_general_dilated(
                    x, hj, (R,), [(left, len(h) - 1 - left)],
                    dimension_numbers=("NWC", "WIO", "NWC"), feature_group_count=C)),
                "downsample_average_1d": ("x", lambda x: lax.reduce_window(
                    x, 0.0, lax.add, (1, R, 1), (1, R, 1), "VALID") / R)}
    if backend == "tensorflow":
        import tensorflow as tf

        ht = tf.constant(np.tile(h[:, None, None, None], (1, 1, C, 1)))

        def sinc(x):
            z = tf.pad(x[:, :, None, :], [[0, 0], [left, len(h) - 1 - left], [0, 0], [0, 0]])
            return tf.nn.depthwise_conv2d(z, ht, [1, R, R, 1], "VALID")[:, :, 0, :]

        return {"downsample_sinc_1d": ("x", sinc),
                "downsample_average_1d": ("x", lambda x: tf.nn.avg_pool1d(x, R, R, "VALID"))}
    return {}


def downsampling_cases(backend):
    """[(case, variant, input key, fn)]: ours, filter-then-stride, native, per op."""
    from upsample1d.ops import downsample_average_1d, downsample_sinc_1d

    wrap = compile_as_keras_trains
    prototypes = down_prototypes()
    natives = native_downsamplers(backend, prototypes)
    ours = {"downsample_sinc_1d": lambda x: downsample_sinc_1d(x, R, half_width=SINC_HALF_WIDTH),
            "downsample_average_1d": lambda x: downsample_average_1d(x, R)}
    cases = []
    for name, fn in ours.items():
        cases.append((name, DOWN_POLYPHASE, "x", wrap(fn, backend)))
        cases.append((name, DOWN_STRIDE, "x", wrap(filter_then_stride(*prototypes[name]),
                                                   backend)))
        if name in natives:
            key, native = natives[name]
            cases.append((name, DOWN_NATIVE, key, wrap(native, backend)))
    return cases


def run_downsampling(args, info=None):
    """Time every downsampling case at every input size; each output is checked against
    ours (max abs difference) before it is timed."""
    import keras

    backend = backend_name()
    cases = downsampling_cases(backend)
    sizes = SIZES[args.size]
    results, errors = [], 0
    with progress.Task("ops downsampling", len(sizes) * len(cases)) as task:
        for n in sizes:
            x = np.random.default_rng(1).standard_normal((1, n // C, C), dtype=np.float32)
            inputs = {"x": keras.ops.convert_to_tensor(x),
                      "x_cf": keras.ops.convert_to_tensor(
                          np.ascontiguousarray(x.transpose(0, 2, 1)))}
            if info is None:
                info = machine_info(sample=inputs["x"])
            reference = {}
            for name, variant, key, fn in cases:
                row = {"case": name, "variant": variant, "size": n,
                       "input": list(inputs[key].shape), "output_size": n // R}
                task.start(f"{size_head(n)} {name} {variant}")
                try:
                    y = np.asarray(keras.ops.convert_to_numpy(fn(inputs[key])))
                    y = y.transpose(0, 2, 1) if key == "x_cf" else y
                    if variant == DOWN_POLYPHASE:
                        reference[name] = y
                    difference = float(np.max(np.abs(y - reference[name])))
                    if not difference <= 1e-4:
                        raise AssertionError(f"differs from ours by {difference:.3g}")
                    row["max_abs_difference"] = difference
                    row.update(time_case(fn, inputs[key], n // R, args, backend))
                    task.done(f"{report.fmt_ms(row['median_ms'])} ms")
                except Exception as exc:  # record it and go on
                    errors += 1
                    row["error"] = progress.failure(task, exc)
                results.append(row)
    ours = {(r["case"], r["size"]): r.get("median_ms") for r in results
            if r["variant"] == DOWN_POLYPHASE}
    for r in results:
        base = ours.get((r["case"], r["size"]))
        if r.get("median_ms") and base:
            r["vs_polyphase"] = r["median_ms"] / base
    return info, results, errors


def render_downsampling(info, down, args, heading):
    """The downsampling section: median ms per size, and each variant's ratio to ours."""
    sizes = SIZES[args.size]
    taps = {name: len(h) for name, (h, _) in down_prototypes().items()}
    cell = {(r["case"], r["variant"], r["size"]): r for r in down}
    keys = list(dict.fromkeys((r["case"], r["variant"]) for r in down))

    def table(metric, fmt, variants):
        rows = []
        for case, variant in keys:
            if variant not in variants:
                continue
            row = [case, variant]
            for n in sizes:
                r = cell.get((case, variant, n), {})
                row.append("err" if "error" in r else fmt(r.get(metric)))
            rows.append(row)
        heads = ["case", "impl", *map(size_head, sizes)]
        return report.markdown_table(heads, rows, "ll" + "r" * len(sizes))

    lines = []
    if heading:
        lines += [f"## downsampling ops, {info['backend']}, size {args.size}", "",
                  info_line(info), ""]
    lines += [
        f"### downsampling: polyphase decimator against filter-then-stride (factor {R})",
        "",
        f"Input sizes {size_head(sizes[0])} .. {size_head(sizes[-1])} float32 elements as "
        f"(1, N/{C}, {C}) channels_last, output N/{R}. `{DOWN_POLYPHASE}`: space_to_depth + "
        "one convolution at the output rate, K multiply-adds per output sample "
        f"(sinc: K = {taps['downsample_sinc_1d']}, average: K = "
        f"{taps['downsample_average_1d']}); `{DOWN_STRIDE}`: the same FIR as a full-rate "
        f"convolution (same keras.ops calls and layout), then every {R}th sample, {R} K "
        f"per output; `{DOWN_NATIVE}`: the framework's strided depthwise conv (sinc) or "
        "average pooling, K per output. Outputs are checked against ours before timing. "
        f"Calls compiled as Keras trains ({COMPILE_MODES.get(info['backend'])}).",
        "",
        "median ms:",
        "",
        table("median_ms", report.fmt_ms, (DOWN_POLYPHASE, DOWN_STRIDE, DOWN_NATIVE)),
        "",
        f"time / `{DOWN_POLYPHASE}` (above 1: ours is faster; the multiply-add ratio of "
        f"filter-then-stride is {R}x):",
        "",
        table("vs_polyphase", report.fmt_ratio, (DOWN_STRIDE, DOWN_NATIVE)),
    ]
    errs = [r for r in down if "error" in r]
    if errs:
        lines += ["", "Errors:", ""]
        lines += [f"- {r['case']} {r['variant']} {size_head(r['size'])}: {r['error']}"
                  for r in errs]
    return "\n".join(lines) + "\n"


def slopes(results, sizes):
    """Log-log slope of median time against size over the three largest sizes."""
    big = sizes[-3:]
    out = {}
    for r in results:
        out.setdefault((r["case"], r["variant"]), {})[r["size"]] = r.get("median_ms")
    slope = {}
    for key, by_size in out.items():
        pts = [(math.log(n), math.log(by_size[n])) for n in big if by_size.get(n)]
        if len(pts) >= 2:
            xs, ys = zip(*pts, strict=True)
            slope[" / ".join(key)] = float(np.polyfit(xs, ys, 1)[0])
    return slope


def size_head(n):
    return f"2^{int(math.log2(n))}"


def metric_table(results, slope, sizes, metric, fmt):
    """One row per (case, impl), one column per size; for ``median_ms`` also the slopes."""
    keys = list(dict.fromkeys((r["case"], r["variant"]) for r in results))
    cell = {(r["case"], r["variant"], r["size"]): r for r in results}
    copy_slope = slope.get(f"{COPY} / baseline")
    rows = []
    for case, variant in keys:
        row = [case, variant]
        for n in sizes:
            r = cell.get((case, variant, n), {})
            row.append("err" if "error" in r else fmt(r.get(metric)))
        if metric == "median_ms":
            s = slope.get(f"{case} / {variant}")
            row.append("" if s is None else f"{s:.2f}")
            row.append("" if s is None or copy_slope is None else f"{s - copy_slope:+.2f}")
        rows.append(row)
    heads = ["case", "impl", *map(size_head, sizes)]
    if metric == "median_ms":
        heads += ["slope", "slope - copy's"]
    return report.markdown_table(heads, rows, "ll" + "r" * (len(heads) - 2))


def render(info, results, slope, args, down=()):
    backend = info["backend"]
    sizes = SIZES[args.size]
    if not results:  # the downsampling section alone
        return render_downsampling(info, down, args, heading=True)

    def table(metric, fmt):
        return metric_table(results, slope, sizes, metric, fmt)

    def fmt_gbps(v):
        return "" if v is None else f"{v:.2f}"

    errs = [r for r in results if "error" in r]
    lines = [
        f"## ops and layers against native references and a copy, {backend}, size {args.size}",
        "",
        info_line(info),
        "",
        f"Output sizes {size_head(sizes[0])} .. {size_head(sizes[-1])} float32 elements as "
        f"(1, N/{C}, {C}) channels_last, "
        f"factor {R}; SubpixelConv1D kernel 3 and TransposedConvUpsample1D kernel 8 (full "
        f"overlap), {C} -> {C} channels. Calls compiled as Keras trains "
        f"({COMPILE_MODES.get(backend, backend)}); median of synchronised calls "
        f"({args.budget:g} s of calls per cell, 3 to 50). `native`: the same computation in "
        "the framework's own API (see benchmarks/bench_ops.py). The CPUs were shared with "
        "other jobs: small sizes are dominated by call overhead and noise.",
        "",
        "### median ms",
        "",
        "`slope`: log-log slope of time against size over the three largest sizes (1.0 = "
        "linear). On a CPU the copy itself is not linear there: sizes up to 2^22 floats "
        "(16 MB) stay in cache, 2^24 (64 MB) does not, and a fresh output buffer of that size "
        "costs page faults, so the copy's slope is the machine's, and `slope - copy's` near 0 "
        "(time proportional to the copy's, i.e. a constant ratio to the copy) is what linear "
        "scaling looks like here. A view (a reshape returned without copying) has slope 0.",
        "",
        table("median_ms", report.fmt_ms),
        "",
        "### ratio to the copy of the same output size",
        "",
        table("vs_copy", report.fmt_ratio),
        "",
        "### GB/s (input + output bytes / median time)",
        "",
        table("gbps", fmt_gbps),
    ]
    if errs:
        lines += ["", "Errors:", ""]
        lines += [f"- {r['case']} {r['variant']} {size_head(r['size'])}: {r['error']}"
                  for r in errs]
    if down:
        lines += ["", render_downsampling(info, down, args, heading=False).rstrip("\n")]
    return "\n".join(lines) + "\n"


def rerender(path):
    """Rewrite the .md beside an ops JSON from its stored results (no timing)."""
    import json

    path = Path(path)
    payload = json.loads(path.read_text())
    args = argparse.Namespace(size=payload["size"], budget=payload.get("budget", 0.5))
    markdown = render(payload["machine"], payload["results"], payload["slopes"], args,
                      payload.get("downsampling", ()))
    path.with_suffix(".md").write_text(markdown)
    print(markdown)
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        return rerender(args.render)
    backend = backend_name()
    progress.note(f"bench_ops on {backend}, size {args.size}")
    info, results, slope, errors = run(args)
    down = []
    if "down" in args.parts:
        info, down, down_errors = run_downsampling(args, info)
        errors += down_errors
    markdown = render(info, results, slope, args, down)
    payload = {"benchmark": "ops", "size": args.size, "budget": args.budget,
               "sizes": SIZES[args.size], "factor": R,
               "channels": C, "dtype": "float32", "compiled_as": COMPILE_MODES.get(
                   backend), "machine": info, "results": results, "slopes": slope,
               "downsampling": down}
    json_path, md_path = report.write_results(args.out, f"ops-{backend}", payload, markdown)
    print(markdown)
    progress.note(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
