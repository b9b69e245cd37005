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
  nearest and linear; zero-stuffing + the sinc prototype filter (``F.conv_transpose1d``
  with groups, ``lax.conv_general_dilated`` with ``lhs_dilation``, explicit zeros +
  ``tf.nn.depthwise_conv2d``) for sinc; the framework's conv + the ``backends/`` shuffle
  (TF: the seed's batch_to_space layer) for subpixel; the framework's transposed conv for
  transposed. PyTorch references take channels_first inputs, as PyTorch users write them;
- a plain copy of the output size (``y = x * 2``: one read and one write of ``N`` floats).

Calls are compiled as Keras' training loop runs them (``jax.jit``, ``tf.function``,
PyTorch eager). Reported: median ms, GB/s (input + output bytes / time) and the ratio to the
copy of the same output size, plus the log-log slope of time against size over the three
largest sizes (1.0 = linear scaling). Writes ``ops-<backend>.json`` and ``.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks import common  # noqa: E402

R = 4
C = 16
SIZES = {"full": [4**k for k in range(6, 13)], "tiny": [4**5, 4**6]}
COPY = "copy (x * 2)"
SINC_HALF_WIDTH = 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--budget", type=float, default=0.5,
                   help="seconds of timed calls per case and size (default 0.5)")
    p.add_argument("--repeats", type=int, default=None, help="fixed timed calls instead")
    p.add_argument("--out", default=str(common.REPO_ROOT / "benchmarks" / "results"))
    p.add_argument("--render", metavar="JSON",
                   help="only re-render the markdown of an earlier ops-<backend>.json")
    return p.parse_args(argv)


def sinc_prototype(r):
    """The full low-pass of upsample_sinc_1d (length 2 * half_width * r + 1), scaled by r."""
    length = SINC_HALF_WIDTH * r
    m = np.arange(2 * length + 1) - length
    h = np.sinc(m / r) / r * np.kaiser(2 * length + 1, 5.0)
    return (h / h.sum() * r).astype("float32")


def native_references(backend, weights):
    """{case: (input key, fn)} written with the framework's own API."""
    h = sinc_prototype(R)
    taps = len(h)
    if backend == "torch":
        import torch
        import torch.nn.functional as F

        from backends import torch as ref

        ht = torch.from_numpy(np.ascontiguousarray(np.tile(h[None, None], (C, 1, 1))))
        w_sub = torch.from_numpy(np.ascontiguousarray(weights["subpixel"].transpose(2, 1, 0)))
        w_tr = torch.from_numpy(np.ascontiguousarray(weights["transposed"].transpose(2, 1, 0)))
        k = weights["transposed"].shape[0]
        pad = (19 * R + 2) // 2
        out_pad = 2 * pad - 19 * R - 1
        return {
            "depth_to_space_1d": ("d2s", lambda x: ref.depth_to_space_1d(x, R, as_numpy=False)),
            "space_to_depth_1d": ("s2d", lambda x: ref.space_to_depth_1d(x, R, as_numpy=False)),
            "upsample_nearest_1d": ("up_cf", lambda x: F.interpolate(x, scale_factor=R,
                                                                     mode="nearest")),
            "upsample_linear_1d": ("up_cf", lambda x: F.interpolate(
                x, scale_factor=R, mode="linear", align_corners=False)),
            "upsample_sinc_1d": ("up_cf", lambda x: F.conv_transpose1d(
                x, ht, stride=R, padding=pad, output_padding=out_pad, groups=C)),
            "SubpixelConv1D": ("up_cf", lambda x: ref.depth_to_space_1d(
                F.conv1d(x, w_sub, padding=1), R, "channels_first", "CRD", as_numpy=False)),
            "TransposedConvUpsample1D": ("up_cf", lambda x: F.conv_transpose1d(
                x, w_tr, stride=R, padding=(k - R) // 2, output_padding=(k - R) % 2)),
        }
    if backend == "jax":
        import jax
        import jax.numpy as jnp
        from jax import lax

        from backends import jax as ref

        hj = jnp.asarray(np.tile(h[:, None, None], (1, 1, C)))
        w_sub = jnp.asarray(weights["subpixel"])
        w_tr = jnp.asarray(weights["transposed"].transpose(0, 2, 1))  # (K, C_in, C_out)
        dn = ("NWC", "WIO", "NWC")

        def resize(method):
            return lambda x: jax.image.resize(x, (x.shape[0], x.shape[1] * R, x.shape[2]),
                                              method)

        return {
            "depth_to_space_1d": ("d2s", lambda x: ref.depth_to_space_1d(x, R, as_numpy=False)),
            "space_to_depth_1d": ("s2d", lambda x: ref.space_to_depth_1d(x, R, as_numpy=False)),
            "upsample_nearest_1d": ("up", resize("nearest")),
            "upsample_linear_1d": ("up", resize("linear")),
            "upsample_sinc_1d": ("up", lambda x: lax.conv_general_dilated(
                x, hj, (1,), [(SINC_HALF_WIDTH * R, R + taps - 2 - SINC_HALF_WIDTH * R)],
                lhs_dilation=(R,), dimension_numbers=dn, feature_group_count=C)),
            "SubpixelConv1D": ("up", lambda x: ref.depth_to_space_1d(
                lax.conv_general_dilated(x, w_sub, (1,), "SAME", dimension_numbers=dn), R,
                as_numpy=False)),
            "TransposedConvUpsample1D": ("up", lambda x: lax.conv_transpose(
                x, w_tr, (R,), "SAME", dimension_numbers=dn)),
        }
    if backend == "tensorflow":
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
    return {}


def make_cases(backend):
    """[(case, variant, input key, fn)] with variant 'ours' or 'native', and the copy."""
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
    import keras

    weights = {"subpixel": keras.ops.convert_to_numpy(subpixel.kernel),
               "transposed": keras.ops.convert_to_numpy(poly.kernel)}
    wrap = common.compile_fn
    cases = [
        (COPY, "baseline", "out", wrap(lambda x: x * 2.0, backend)),
        ("depth_to_space_1d", "ours", "d2s", wrap(lambda x: depth_to_space_1d(x, R), backend)),
        ("space_to_depth_1d", "ours", "s2d", wrap(lambda x: space_to_depth_1d(x, R), backend)),
        ("upsample_nearest_1d", "ours", "up", wrap(lambda x: upsample_nearest_1d(x, R),
                                                    backend)),
        ("upsample_linear_1d", "ours", "up", wrap(lambda x: upsample_linear_1d(x, R), backend)),
        ("upsample_sinc_1d", "ours", "up", wrap(lambda x: upsample_sinc_1d(x, R), backend)),
        ("SubpixelConv1D", "ours", "up", common.layer_forward(subpixel, backend)),
        ("TransposedConvUpsample1D", "ours polyphase", "up", common.layer_forward(poly,
                                                                                  backend)),
        ("TransposedConvUpsample1D", "ours native", "up", common.layer_forward(native,
                                                                               backend)),
    ]
    refs = native_references(backend, weights)
    out = []
    for case in cases:
        out.append(case)
        name = case[0]
        if name in refs and not any(c[0] == name and c[1] == "native" for c in out):
            if case[1] == "ours native":
                continue
            key, fn = refs[name]
            out.append((name, "native", key, wrap(fn, backend)))
    # keep the native reference of the transposed layer after both of our implementations
    order = {name: i for i, (name, *_rest) in enumerate(cases)}
    out.sort(key=lambda c: (order[c[0]], c[1] == "native"))
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


def run(args):
    backend = common.backend_name()
    cases = make_cases(backend)
    sizes = SIZES[args.size]
    results, errors, info = [], 0, None
    for n in sizes:
        inputs = make_inputs(n, backend)
        if info is None:
            info = common.machine_info(sample=inputs["up"])
        for name, variant, key, fn in cases:
            x = inputs[key]
            row = {"case": name, "variant": variant, "size": n, "input": list(x.shape)}
            try:
                y = fn(x)
                common.sync(y, backend)
                if int(np.prod(tuple(y.shape))) != n:
                    raise AssertionError(f"output shape {tuple(y.shape)} is not {n} elements")
                row["output"] = list(y.shape)
                del y
                if args.repeats:
                    timing = common.time_fn(fn, x, repeats=args.repeats, warmup=1,
                                            backend=backend)
                else:
                    timing = common.time_budget(fn, x, budget_s=args.budget, lo=3, hi=50,
                                                backend=backend)
                row.update({k: timing[k] for k in ("median_ms", "min_ms", "repeats")})
                nbytes = 4 * (int(np.prod(tuple(x.shape))) + n)
                row["bytes"] = nbytes
                row["gbps"] = common.gbps(nbytes, row["median_ms"])
            except Exception as exc:  # record it and go on
                errors += 1
                row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                traceback.print_exc(file=sys.stderr)
            results.append(row)
        common.progress(f"size 2^{int(math.log2(n))} done ({len(cases)} cases)")
    copies = {r["size"]: r.get("median_ms") for r in results if r["case"] == COPY}
    for r in results:
        if r.get("median_ms") and copies.get(r["size"]):
            r["vs_copy"] = r["median_ms"] / copies[r["size"]]
    return info, results, slopes(results, sizes), errors


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


def render(info, results, slope, args):
    backend = info["backend"]
    sizes = SIZES[args.size]
    keys = []
    for r in results:
        if (r["case"], r["variant"]) not in keys:
            keys.append((r["case"], r["variant"]))
    cell = {(r["case"], r["variant"], r["size"]): r for r in results}
    size_heads = [f"2^{int(math.log2(n))}" for n in sizes]
    copy_slope = slope.get(f"{COPY} / baseline")

    def table(metric, fmt):
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
        heads = ["case", "impl", *size_heads]
        if metric == "median_ms":
            heads += ["slope", "slope - copy's"]
        return common.markdown_table(heads, rows, "ll" + "r" * (len(heads) - 2))

    def fmt_gbps(v):
        return "" if v is None else f"{v:.2f}"

    errs = [r for r in results if "error" in r]
    lines = [
        f"## ops and layers against native references and a copy, {backend}, size {args.size}",
        "",
        common.info_line(info),
        "",
        f"Output sizes {size_heads[0]} .. {size_heads[-1]} float32 elements as "
        f"(1, N/{C}, {C}) channels_last, "
        f"factor {R}; SubpixelConv1D kernel 3 and TransposedConvUpsample1D kernel 8 (full "
        f"overlap), {C} -> {C} channels. Calls compiled as Keras trains "
        f"({common.COMPILE_MODES.get(backend, backend)}); median of synchronised calls "
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
        table("median_ms", common.fmt_ms),
        "",
        "### ratio to the copy of the same output size",
        "",
        table("vs_copy", common.fmt_ratio),
        "",
        "### GB/s (input + output bytes / median time)",
        "",
        table("gbps", fmt_gbps),
    ]
    if errs:
        lines += ["", "Errors:", ""]
        lines += [f"- {r['case']} {r['variant']} 2^{int(math.log2(r['size']))}: {r['error']}"
                  for r in errs]
    return "\n".join(lines) + "\n"


def rerender(path):
    """Rewrite the .md beside an ops JSON from its stored results (no timing)."""
    import json

    path = Path(path)
    payload = json.loads(path.read_text())
    args = argparse.Namespace(size=payload["size"], budget=payload.get("budget", 0.5))
    markdown = render(payload["machine"], payload["results"], payload["slopes"], args)
    path.with_suffix(".md").write_text(markdown)
    print(markdown)
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        return rerender(args.render)
    backend = common.backend_name()
    common.progress(f"bench_ops on {backend}, size {args.size}")
    info, results, slope, errors = run(args)
    markdown = render(info, results, slope, args)
    payload = {"benchmark": "ops", "size": args.size, "budget": args.budget,
               "sizes": SIZES[args.size], "factor": R,
               "channels": C, "dtype": "float32", "compiled_as": common.COMPILE_MODES.get(
                   backend), "machine": info, "results": results, "slopes": slope}
    json_path, md_path = common.write_results(args.out, f"ops-{backend}", payload, markdown)
    print(markdown)
    common.progress(f"wrote {json_path} and {md_path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
