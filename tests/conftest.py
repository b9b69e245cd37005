"""Shared helpers. The suite runs once per Keras backend: ``KERAS_BACKEND=<name> pytest``."""

import importlib
import importlib.util

import keras
import ml_dtypes
import numpy as np
import pytest

BACKEND = keras.backend.backend()


def has_module(name):
    return importlib.util.find_spec(name) is not None


def keras_device():
    """Where Keras puts a new tensor on the active backend, e.g. 'cpu' or 'cuda:0'."""
    x = keras.ops.ones((1,))
    if BACKEND == "jax":
        return str(next(iter(x.devices()))).lower()
    return str(x.device).lower()


def on_gpu():
    device = keras_device()
    return "gpu" in device or "cuda" in device


def pytest_report_header(config):
    import platform

    lines = [f"upsample1d: keras {keras.__version__}, backend={BACKEND}, device={keras_device()}"]
    module = {"jax": "jax", "tensorflow": "tensorflow", "torch": "torch"}[BACKEND]
    version = importlib.import_module(module).__version__
    lines.append(f"upsample1d: {module} {version}, python {platform.python_version()}")
    if not on_gpu():
        lines.append("upsample1d: no GPU visible to Keras: GPU-only cases will skip")
    return lines



def to_backend(array):
    """NumPy (ml_dtypes bfloat16 included) to a tensor of the active backend, bits unchanged."""
    if BACKEND == "torch" and array.dtype == ml_dtypes.bfloat16:
        import torch

        host = torch.from_numpy(np.ascontiguousarray(array).view(np.int16)).view(torch.bfloat16)
        return keras.ops.convert_to_tensor(host.to(keras_device()))
    return keras.ops.convert_to_tensor(array)


def to_numpy(x):
    """A tensor of any backend to NumPy without touching its bits (bfloat16 kept)."""
    if BACKEND == "torch":
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu()
            if x.dtype == torch.bfloat16:
                return x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
            return x.numpy()
    return np.asarray(keras.ops.convert_to_numpy(x))


def bits(x):
    """Bit patterns of an array, for bit-exact comparison (NaN payloads and -0.0 included)."""
    x = np.ascontiguousarray(to_numpy(x) if not isinstance(x, np.ndarray) else x)
    if x.dtype.kind == "b":
        return x.view(np.uint8)
    return x.view(f"u{x.dtype.itemsize}")


def random_bits(shape, dtype, seed=0):
    """An array whose elements are random bit patterns of ``dtype`` (NaN, inf, -0.0 included)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    raw = rng.integers(0, 2 ** (8 * dtype.itemsize), size=shape, dtype=np.uint64)
    return raw.astype(f"u{dtype.itemsize}").view(dtype)


DTYPES = {
    "float16": np.float16,
    "bfloat16": ml_dtypes.bfloat16,
    "float32": np.float32,
    "float64": np.float64,
    "int32": np.int32,
    "bool": bool,
}


def vjp(fn, x, cotangent):
    """Gradient of ``sum(fn(x) * cotangent)`` with respect to ``x``, on the active backend."""
    if BACKEND == "jax":
        import jax

        _, pullback = jax.vjp(fn, x)
        return pullback(cotangent)[0]
    if BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x, output_gradients=cotangent)
    x = x.detach().clone().requires_grad_(True)
    fn(x).backward(cotangent)
    return x.grad


def compile_fn(fn, torch_backend="inductor"):
    """``fn`` compiled with the active backend's compiler (jax.jit, XLA tf.function,
    torch.compile with ``torch_backend``: "aot_eager" captures the graph without Inductor's
    slow C++ code generation)."""
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    import torch

    return torch.compile(fn, backend=torch_backend, fullgraph=True, dynamic=False)


requires_gpu = pytest.mark.skipif(
    not on_gpu(), reason=f"no GPU visible to the {BACKEND} backend (device={keras_device()})"
)


def layer_grads(layer, x, cotangent):
    """Gradients of ``sum(layer(x) * cotangent)`` with respect to ``x`` and to each of the
    layer's trainable weights, as NumPy, on the active backend (the layer must be built)."""
    variables = list(layer.trainable_variables)
    if BACKEND == "jax":
        import jax

        def loss(values, x):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                return keras.ops.sum(layer(x) * cotangent)

        g_vars, g_x = jax.grad(loss, argnums=(0, 1))([v.value for v in variables], x)
        grads = [g_x, *g_vars]
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * cotangent)
        grads = tape.gradient(loss, [x, *variables])
    else:
        import torch

        x = torch.as_tensor(x, device=keras_device()).detach().clone().requires_grad_(True)
        cotangent = torch.as_tensor(cotangent, device=x.device)
        loss = torch.sum(layer(x) * cotangent)
        grads = torch.autograd.grad(loss, [x, *[v.value for v in variables]])
    return [to_numpy(g) for g in grads]


@pytest.fixture(autouse=True, scope="session")
def full_precision_matmuls():
    """Tests compare mathematics: pin torch to full float32 (on Ampere and newer GPUs it runs
    float32 convolutions and matmuls in TF32, with ~1e-3 relative error, by default). Tests
    of the TF32 path itself turn it back on and say what tolerance they need."""
    if BACKEND != "torch":
        yield
        return
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def sampled_grid(cases, every=3, ids=None):
    """``cases`` as pytest params: a fixed one in ``every`` of them (chosen by a hash of the
    case, so the same ones every run) in the default run, the rest marked ``slow`` (run them
    with ``-m slow``). The default run always keeps the first and last case. On JAX, one in
    ``2 * every``: it compiles every op for every new shape eagerly, the slowest backend of
    the default run by far; the other two cover the grids more densely."""
    import zlib

    every = 2 * every if BACKEND == "jax" else every
    params = []
    for index, case in enumerate(cases):
        values = case if isinstance(case, tuple) else (case,)
        case_id = ids[index] if ids else "-".join(map(str, values))
        keep = index in (0, len(cases) - 1) or zlib.crc32(case_id.encode()) % every == 0
        params.append(pytest.param(*values, id=case_id,
                                   marks=() if keep else (pytest.mark.slow,)))
    return params
