"""The package's only backend branches, each with the reason it cannot be plain ``keras.ops``.

Everything else in ``upsample1d`` is written once with ``keras.ops``. What is here:

- :func:`device_scope` (PyTorch): Keras' torch backend moves every tensor an op touches to its
  default device (``cuda`` on a GPU host), so a shuffle of a CPU tensor would come back on the
  GPU. Ops and layers run under the device of their input instead.
- :func:`conv` and :func:`conv_transpose` (TensorFlow): without oneDNN (every CPU that is not
  an Intel one with AVX-512, or with ``TF_ENABLE_ONEDNN_OPTS=0``) TensorFlow's CPU kernels run
  only NWC convolutions; an NCW one raises ``UnimplementedError``. Where no GPU is visible,
  channels_first convolutions run as channels_last between two transposes: the same numbers.
- :data:`DEPTHWISE_BANKS` (PyTorch): a fixed filter bank applied to every channel runs either
  with the channels folded into the batch, as one single-channel conv (XLA, JAX and
  TensorFlow, run that fastest), or as one depthwise conv, strided for decimation (PyTorch's
  CPU convolution runs a batch of thousands of one-channel signals slowly, and its
  depthwise form faster: ``benchmarks/README.md``, the alias-free rows). Same multiply-adds,
  same numbers to float rounding. On torch that form is torch's own grouped convolution
  (:func:`depthwise_conv`), its kernel designed in torch's layout: Keras' depthwise_conv
  reshapes and permutes the kernel on every eager call and torch copies the strided view.
- :func:`same_conv` (PyTorch): BigVGAN's dilated convolutions hold torch's kernel layout; on
  torch one ``conv1d`` reads it as it is, with the bias fused (no separate pass over the
  output); elsewhere ``keras.ops.conv`` on its transpose.
- :func:`interpolation_implementation` (PyTorch): the faster form of sinc interpolation +
  conv differs between backends (measured; the reason is in its docstring).
- :func:`check_divisible` (TensorFlow): in a graph traced with an unknown length or channel
  count, the static checks cannot see the size, and a reshape would fail with a message that
  names neither the axis nor the argument. keras.ops has no run-time assertion.
- :func:`tensor`, :func:`tracing`, :func:`traced` and :func:`constant_result` (all): the
  engine's fixed filters are NumPy arrays made into tensors once per dtype and device
  (:func:`upsample1d.ops._polyphase.constant`); what counts as "inside a trace" (a constant
  made there must not be kept) differs per backend, and so does the conversion: on torch
  ``torch.tensor`` (a copy), which TorchDynamo can trace (Keras' conversion reads NumPy
  attributes it cannot). Under torch.compile the NumPy design code must not be traced at all
  (TorchDynamo turns NumPy arrays into tensors, and writing into them fails):
  :func:`constant_result` makes TorchDynamo run it for real and bake the result into the graph.
- :func:`reshape`, :func:`transpose`, :func:`concatenate`, :func:`broadcast_to` and
  :func:`repeat` (all): ``keras.ops`` first walks its arguments for
  symbolic tensors (a pytree traversal: more time than the reshape itself on torch); the
  shuffle, which has ruled them out already, the engine's ``up_map_down`` (109 calls in a
  BigVGAN forward pass) and reshapes of weights call the active backend's own implementation
  behind ``keras.ops`` (``keras.src.backend.<backend>.numpy``, a Keras internal: the one place
  the package imports from ``keras.src`` besides the torch device and
  :func:`autocast`, with ``keras.ops`` as the fallback if it moves;
  the private attributes of public Keras objects that the package reads are named where
  they are read: the functional graph in ``streaming/graph.py``, ``RNN.inner_loop`` and a
  node's ``arguments.fill_in`` in ``streaming/stream.py``, ``_flatten_layers`` in
  ``compare.py``, ``Variable._value`` in :class:`_Rejitted`). On torch that
  implementation also calls ``x.to(device)`` on every call (it compares a ``torch.device``
  with a string), so there these are ``torch.reshape``, ``torch.permute``, ``torch.cat``,
  ``torch.broadcast_to`` and ``torch.repeat_interleave``, which never move data between
  devices.
- :func:`pad` (all): ``keras.ops.pad``, unlike the other ops, makes a named ``Operation`` on
  every call, eager too: a Keras-global name counter moves, which TorchDynamo guards on (a
  ``torch.compile``'d model that pads would recompile on every call), and the Operation costs
  time. The package pads concrete tensors only, so it calls the backend's implementation
  (symbolic inputs go through the ops' ``compute_output_spec``, never here).
- :func:`inference`, :func:`compile_step` and :func:`autocast` (all; for
  ``upsample1d.streaming``): a context without gradient recording (torch records by default,
  keeping every chunk's graph alive), the backend's compiler for a stream's step
  (``jax.jit``, ``tf.function(jit_compile=True)``, ``torch.compile`` with a code object of
  its own per stream, called once a graph is chosen with only the guards that tell graphs
  apart: :func:`skipping_guards`; on TensorFlow the chosen graph is called as a
  ConcreteFunction, with flattened arguments through its private ``_call_flat`` where it has
  one: :func:`specialised`; on JAX jitted afresh when a weight changes, since a trace
  keeps the weights it read as constants: :class:`_Rejitted`), and the mixed-precision
  scope of ``Layer.__call__`` for a layer's ``call`` run directly.
- :func:`derived` and :func:`derived_kernel` (PyTorch): what is made from a layer's weights
  alone (the transposed upsampler's re-indexed kernel, Snake's per-channel factors) is remade
  on every eager torch call, tens of MB of copies for a large kernel, a dozen ops for a
  Snake; in torch inference it is kept until the weights change, and a graph of
  :func:`compile_step` takes it as a constant (TorchDynamo's ``assume_constant_result``, one
  function per owner, kept on the owner as ``_upsample1d_baked``), compiled afresh when
  those weights change. JAX and TensorFlow compile the making into their graphs.
- :func:`sin`, :func:`tanh` and :func:`keras_activation` (JAX): Keras 3.15's JAX ``sin``,
  ``tanh`` (``keras.ops`` and ``keras.activations``) and the other trigonometric ops promote
  with ``result_type(x.dtype, float)``, which there gives float32 for float64, so a float64
  Snake or tanh under ``jax_enable_x64`` came back float32-accurate (1.5e-7). jax.numpy's
  own keeps the dtype; the other backends keep it already. A symbolic call (a KerasTensor:
  ``BigVGAN.as_functional``'s final tanh) still records Keras' op.
- :func:`as_tensor` is not a branch but the one place where NumPy input becomes a tensor with
  its bits kept (16-bit floats travel as int16, which Keras would otherwise round-trip through
  float32 on torch) and with a warning where the backend changes the dtype (JAX without x64
  holds float64 as float32).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import itertools
import types
import warnings
import weakref

import keras
import numpy as np
from keras import ops
from keras.src.backend.common import global_state  # Keras' op-name counter: _BakingCompiled

BACKEND = keras.backend.backend()
_NULL_SCOPE = contextlib.nullcontext()
_SIXTEEN_BIT_FLOATS = ("float16", "bfloat16")

# The backend's implementation behind keras.ops, by its full module name: the attribute
# keras.src.backend.numpy names another module (Keras' NumPy backend) once that is imported.
try:
    _backend_numpy = importlib.import_module(f"keras.src.backend.{BACKEND}.numpy")
    reshape, transpose, pad = (_backend_numpy.reshape, _backend_numpy.transpose,
                               _backend_numpy.pad)
    concatenate, broadcast_to, repeat = (_backend_numpy.concatenate,
                                         _backend_numpy.broadcast_to, _backend_numpy.repeat)
except (ImportError, AttributeError):  # pragma: no cover - depends on the Keras version
    reshape, transpose, pad = ops.reshape, ops.transpose, ops.pad
    concatenate, broadcast_to, repeat = ops.concatenate, ops.broadcast_to, ops.repeat
if BACKEND == "torch":
    import torch

    # called positionally, as keras.ops: (x, shape), (x, axes), (xs, axis), (x, n, axis)
    reshape, transpose = torch.reshape, torch.permute
    concatenate, broadcast_to, repeat = torch.cat, torch.broadcast_to, torch.repeat_interleave


# --- float64 nonlinearities (JAX) ------------------------------------------------------------
if BACKEND == "jax":
    import jax.numpy as jnp

    # a KerasTensor (a model's call traced symbolically, as BigVGAN.as_functional does) takes
    # keras.ops: the graph node it records is Keras' own, which a stream knows
    def sin(x):
        return ops.sin(x) if isinstance(x, keras.KerasTensor) else jnp.sin(x)

    def tanh(x):
        return ops.tanh(x) if isinstance(x, keras.KerasTensor) else jnp.tanh(x)
else:
    sin, tanh = ops.sin, ops.tanh


def keras_activation(name):
    """``keras.activations.get(name)``, with :func:`tanh` for Keras' tanh (float64 kept on
    JAX)."""
    activation = keras.activations.get(name)
    return tanh if activation is keras.activations.tanh else activation


# --- devices (torch) ------------------------------------------------------------------------

def compiling():
    """Whether TorchDynamo is tracing (torch.compile, torch.export): it traces NumPy code but
    not NumPy attributes such as ``flags``, and it guards on every module-level cache the
    traced code reads or writes (a cache written while tracing changes its length, which
    fails the guard of every graph made before: a recompile per new entry)."""
    return False


if BACKEND == "torch":
    compiling = torch.compiler.is_compiling  # noqa: F811 - one call on the hot paths


def _torch_device_name(name):
    """Keras' torch device name (e.g. "cuda") as a torch device's ``str`` ("cuda:0"); an
    index-less "cuda" is the current device, read on every call (it may change)."""
    if name == "cuda":
        import torch

        return f"cuda:{torch.cuda.current_device()}"
    return "mps:0" if name == "mps" else name


def device_scope(x):
    """A context in which Keras ops keep ``x``'s device (a no-op except for torch tensors;
    under torch.compile the graph keeps devices itself)."""
    if BACKEND != "torch" or not ops.is_tensor(x) or compiling():
        return _NULL_SCOPE
    from keras.src.backend.torch.core import get_device

    device = str(x.device)
    if device == _torch_device_name(get_device()):
        return _NULL_SCOPE
    return keras.device(device)


# --- convolutions (TensorFlow without oneDNN; the decimator's form) ------------------------

DEPTHWISE_BANKS = BACKEND == "torch"

_TF_CPU_ONLY = None


def _needs_nwc(data_format):
    global _TF_CPU_ONLY
    if BACKEND != "tensorflow" or data_format != "channels_first":
        return False
    if _TF_CPU_ONLY is None:
        import tensorflow as tf

        _TF_CPU_ONLY = not tf.config.list_logical_devices("GPU")
    return _TF_CPU_ONLY


def _swap(x):
    return ops.transpose(x, (0, 2, 1))


def conv(x, kernel, padding="valid", data_format="channels_last", strides=1, dilation_rate=1):
    """``keras.ops.conv`` for rank-3 ``x``; channels_first runs as channels_last where the
    backend's CPU kernels cannot run it (TensorFlow without oneDNN)."""
    if _needs_nwc(data_format):
        return _swap(ops.conv(_swap(x), kernel, strides=strides, padding=padding,
                              data_format="channels_last", dilation_rate=dilation_rate))
    return ops.conv(x, kernel, strides=strides, padding=padding, data_format=data_format,
                    dilation_rate=dilation_rate)


def conv_transpose(x, kernel, strides, padding="same", data_format="channels_last"):
    """``keras.ops.conv_transpose`` for rank-3 ``x``, with the same fallback as :func:`conv`."""
    if _needs_nwc(data_format):
        return _swap(ops.conv_transpose(_swap(x), kernel, strides=strides, padding=padding,
                                        data_format="channels_last"))
    return ops.conv_transpose(x, kernel, strides=strides, padding=padding,
                              data_format=data_format)


def depthwise_conv(x, kernel, strides=1):
    """(torch: :data:`DEPTHWISE_BANKS`) a fixed bank on every channel of channels_first
    ``x``, ``(B, C, T)`` or ``(B, C, H, W)``, as one grouped convolution with the kernel
    already in torch's layout ``(C * m, 1, *window)``: output channel ``c * m + j`` is
    filter ``j`` on channel ``c``, "valid". torch's own call: ``keras.ops.depthwise_conv``
    would check, reshape and permute the kernel on every call, and hand torch a strided
    view, which its convolution copies (an eager alias-free activation: 0.3 ms of 6 ms at
    768 x 376 samples, measured in-process)."""
    conv = torch.nn.functional.conv1d if x.ndim == 3 else torch.nn.functional.conv2d
    return conv(x, kernel, stride=strides, groups=x.shape[1])


def same_conv(x, kernel, bias, dilation_rate, data_format):
    """A stride-1 ``"same"`` convolution of rank-3 ``x`` with ``kernel`` in torch's layout
    ``(filters, C_in, K)``, a dilation ``d`` and an optional ``bias``:
    ``y[t] = sum_k kernel[:, :, k] @ x[t + k d - ((K - 1) d) // 2] + bias`` (zeros outside,
    as Keras pads "same"). On torch one ``conv1d`` with the kernel as it is and the bias
    fused (a separate add is one more pass over the output, 117 of them in a BigVGAN
    forward pass, and ``keras.ops.conv`` permutes the kernel on every call); elsewhere
    ``keras.ops.conv`` (:func:`conv`) on the kernel's transpose, then the bias."""
    if BACKEND == "torch":
        channels_last = data_format == "channels_last"
        if channels_last:
            x = torch.permute(x, (0, 2, 1))
        total = (kernel.shape[2] - 1) * dilation_rate
        padding = total // 2
        if total % 2:  # torch pads symmetrically: the extra zero by hand
            x, padding = torch.nn.functional.pad(x, (padding, total - padding)), 0
        y = torch.nn.functional.conv1d(x, kernel, bias, padding=padding,
                                       dilation=dilation_rate)
        return torch.permute(y, (0, 2, 1)) if channels_last else y
    y = conv(x, ops.transpose(kernel, (2, 1, 0)), padding="same", data_format=data_format,
             dilation_rate=dilation_rate)
    if bias is None:
        return y
    shape = (1, 1, -1) if data_format == "channels_last" else (1, -1, 1)
    return y + reshape(bias, shape)


# --- interpolation + conv: the faster form -----------------------------------------------

def interpolation_implementation(method):
    """``"fused"`` or ``"direct"`` for ``InterpolationUpsample1D(implementation=None)``: the
    one that trained faster in the Demucs-like model on every backend (``benchmarks/``,
    ``train_step-*-lstm0``, 2-core CPU). Fused wins for nearest and linear everywhere. For
    sinc the composed kernel is long (the 21-tap bank folded into the conv: 23 taps at the
    input rate for K = 9, r = 4) while the direct form is a 21-tap per-channel bank and then
    the 9-tap conv: fewer multiply-adds, which torch's depthwise CPU conv turns into time
    and the folded-batch bank of JAX and TensorFlow does not (the measured ratios are in
    ``benchmarks/README.md``)."""
    return "direct" if method == "sinc" and BACKEND == "torch" else "fused"


# --- run-time size checks (TensorFlow graphs with unknown sizes) ----------------------------

def check_divisible(x, axis, divisor, op, axis_name, data_format, divisor_name="block_size"):
    """``x``, checked when the graph runs to have ``x.shape[axis] % divisor == 0`` if that size
    is unknown while tracing; the error names ``op``, the axis, ``divisor_name`` and the
    size."""
    if BACKEND != "tensorflow" or x.shape[axis] is not None or divisor == 1:
        return x
    import tensorflow as tf

    size = tf.shape(x)[axis]
    check = tf.debugging.Assert(
        tf.equal(size % divisor, 0),
        [f"{op}: the {axis_name} axis ({data_format}) must be divisible by "
         f"{divisor_name}={divisor}; its size is", size])
    with tf.control_dependencies([check]):
        return tf.identity(x)


# --- constants ------------------------------------------------------------------------------

def tracing(like):
    """Whether a compiler is tracing the computation ``like`` belongs to (jax.jit,
    tf.function, TorchDynamo): a constant made now must not be kept."""
    if BACKEND == "jax":
        import jax

        return isinstance(like, jax.core.Tracer)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return not tf.executing_eagerly()
    return compiling()


def traced(value):
    """Whether ``value`` belongs to a trace (a JAX tracer: under jax.jit even a constant made
    from NumPy can be one), so that it must not outlive it."""
    if BACKEND == "jax":
        import jax

        return isinstance(value, jax.core.Tracer)
    return False


def device_name(like):
    """The device of ``like`` where it matters for a cached constant (torch), else None."""
    return str(like.device) if BACKEND == "torch" else None


def tensor(array, dtype, like, kept=False):
    """NumPy ``array`` as a tensor of ``dtype`` next to ``like``. ``kept`` (it will be
    cached): on torch it is made outside inference mode, or every later call that needs a
    gradient through it would fail."""
    if BACKEND == "torch":  # Keras' conversion reads NumPy attributes TorchDynamo cannot trace
        import torch

        # TorchDynamo traces NumPy code as tensors, which torch.tensor would warn about
        # copying; eagerly and in a non-strict torch.export (litert-torch's), which run
        # NumPy for real, a copy (torch.as_tensor warns on read-only arrays).
        convert = torch.as_tensor if torch.compiler.is_dynamo_compiling() else torch.tensor
        outside = kept and torch.is_inference_mode_enabled()
        with torch.inference_mode(False) if outside else _NULL_SCOPE:
            return convert(array, dtype=getattr(torch, keras.backend.standardize_dtype(dtype)),
                           device=like.device)
    return ops.convert_to_tensor(array, dtype=dtype)


def constant_result(function):
    """``function`` (a pure function of constants returning NumPy), marked so that
    TorchDynamo calls it for real while tracing and keeps its result as a constant of the
    graph instead of tracing its NumPy code; unchanged on the other backends."""
    if BACKEND != "torch":
        return function
    import torch

    return torch.compiler.assume_constant_result(function)


# --- kernels made from weights (torch inference) ---------------------------------------------

_DERIVED = weakref.WeakKeyDictionary()  # owner -> (variable values, stamp, derived value)
_OPTIMIZER_STEPS = 0  # torch.optim steps taken in this process since _STEP_HOOK (_written)
_STEP_HOOK = None


def _count_optimizer_step(optimizer, args, kwargs):
    global _OPTIMIZER_STEPS
    _OPTIMIZER_STEPS += 1


def _written(values):
    """What tells whether torch tensors ``values`` were written since: their version
    counters (every in-place op moves them), where their data lies (``p.data = new``), and
    the number of ``torch.optim`` steps taken (a fused optimizer, ``Adam(fused=True)``,
    writes its parameters without moving their version counters). Writes through ``p.data``
    move nothing: autograd does not see them either."""
    global _STEP_HOOK
    if _STEP_HOOK is None:  # counted from the first value kept on
        from torch.optim.optimizer import register_optimizer_step_post_hook

        _STEP_HOOK = register_optimizer_step_post_hook(_count_optimizer_step)
    return (tuple(v._version for v in values), tuple(v.data_ptr() for v in values),
            _OPTIMIZER_STEPS)


def derived(owner, make, variables, *key, traced=None):
    """``make()``, a value made from ``variables`` alone (and ``key``: a dtype, a layout).
    Eager torch would remake it on every call. So on torch, outside gradient recording and
    tracing (inference: Keras' ``predict``, a ``no_grad`` block), it is kept per ``owner``
    and remade when a variable is written (:func:`_written`: a new tensor, its version
    counter or data moves, a ``torch.optim`` step) or ``key`` changes. JAX and TensorFlow
    compile the making into their graph; torch recording gradients needs it in the graph
    too. A torch graph that :func:`compile_step` traces takes the kept value as a constant
    instead (:func:`_baked`); any other trace makes it with ``traced`` (default ``make``:
    the layout kept values are copied into would be one more copy in its graph)."""
    if BACKEND != "torch" or torch.is_grad_enabled():
        return make()
    if compiling():
        baked = owner.__dict__.get(_BAKED_ATTRIBUTE)
        kept = None if baked is None else baked(owner, key)
        return (traced or make)() if kept is None else kept
    # the tensors themselves are held (their memory cannot be reused by new ones)
    values = tuple(v.value if isinstance(v, keras.Variable) else v for v in variables)
    stamp = (_written(values), *key)
    kept = _DERIVED.get(owner)
    if (kept is not None and kept[1] == stamp
            and all(a is b for a, b in zip(kept[0], values, strict=True))):
        return kept[2]
    value = make()
    _DERIVED[owner] = (values, stamp, value)
    if _BAKED_ATTRIBUTE not in owner.__dict__:
        object.__setattr__(owner, _BAKED_ATTRIBUTE, _constant_of(next(_BAKER_NUMBERS)))
    return value


_BAKING = None  # while a compile_step function runs on torch: where it records what it bakes
_BAKED_ATTRIBUTE = "_upsample1d_baked"  # an owner's own constant-result function (_constant_of)
_BAKER_NUMBERS = itertools.count()


def _baked(owner, key):
    """``owner``'s value kept by an eager :func:`derived` call for ``key``, while a torch
    function of :func:`compile_step` traces and that value's weights are as they were when
    it was made; recorded there as baked into the graph. None otherwise: the graph makes
    the value itself. TorchDynamo calls this for real and keeps what it returns as a
    constant of the graph (:func:`constant_result`): in a stream's compiled step, the
    polyphase kernel of a transposed upsampler is then not re-indexed on every call (a
    copy of the whole kernel each chunk)."""
    kept = _DERIVED.get(owner)
    if _BAKING is None or kept is None or kept[1][1:] != key:
        return None
    values, stamp, value = kept
    if _written(values) != stamp[0]:
        return None
    _BAKING[id(value)] = (values, stamp[0])
    return value


def _constant_of(number):
    # TorchDynamo names a constant after the code of the function that returned it and
    # takes one constant per name in a graph: each owner gets a function of its own
    def baked(owner, key):
        return _baked(owner, key)

    baked.__code__ = baked.__code__.replace(co_name=f"baked_{number}")
    return constant_result(baked)


def derived_kernel(layer, make, variable):
    """:func:`derived` for a kernel made from ``variable`` for ``keras.ops.conv`` or
    ``conv_transpose`` (a re-indexed kernel, or the weight in the compute dtype): for a large
    kernel the remaking is tens of MB copied each call (BigVGAN's first upsampler: 57 MB;
    then torch's conv copies it again into its own layout), so the kept kernel is in the
    layout torch's conv reads."""
    if BACKEND != "torch" or torch.is_grad_enabled():
        return make()
    # Keras' torch conv and conv_transpose read kernel.permute(2, 1, 0): make it contiguous
    return derived(layer, lambda: make().permute(2, 1, 0).contiguous().permute(2, 1, 0),
                   (variable,), layer.compute_dtype, traced=make)


# --- input conversion -----------------------------------------------------------------------

def as_tensor(x):
    """``x`` as a tensor of the active backend: tensors pass through untouched; NumPy arrays
    keep every bit; a dtype the backend cannot hold gives a warning naming both dtypes."""
    if ops.is_tensor(x):
        return x
    if not isinstance(x, (np.ndarray, np.generic)):
        return ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in _SIXTEEN_BIT_FLOATS:
        bits = ops.convert_to_tensor(np.ascontiguousarray(x).view(np.int16))
        return ops.view(bits, dtype)
    tensor = ops.convert_to_tensor(x)
    converted = keras.backend.standardize_dtype(tensor.dtype)
    if converted != dtype:
        warnings.warn(
            f"the {BACKEND} backend holds this NumPy {dtype} input as {converted} (on JAX, "
            "enable 64-bit types with jax.config.update('jax_enable_x64', True)); values that "
            f"{converted} cannot represent are changed.", UserWarning, stacklevel=4)
    return tensor


# --- streaming: inference and compiled steps -----------------------------------------------

def inference():
    """A context without gradient recording: ``torch.no_grad()`` on torch (which records
    by default, keeping every chunk's graph alive); JAX and TensorFlow record only inside
    ``jax.grad`` / a ``GradientTape``."""
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


def autocast(layer):
    """The scope ``Layer.__call__`` opens around ``call`` for a layer with a mixed dtype
    policy (e.g. ``"mixed_bfloat16"``): its float32 variables read in the compute dtype. A
    stream runs ``call`` directly, so it opens the scope itself. ``keras.src``'s
    ``AutocastScope``: Keras exports no public form of it."""
    if not (layer.autocast and layer.compute_dtype != layer.variable_dtype
            and "float" in layer.compute_dtype):
        return contextlib.nullcontext()
    from keras.src.backend import AutocastScope

    return AutocastScope(layer.compute_dtype)


def compile_step(step, variables=(), **options):
    """``step`` under ``jax.jit``, ``tf.function(jit_compile=True)`` or ``torch.compile``
    (``dynamic=False``: every chunk length and state shape is its own specialised graph,
    as on the other two). ``options`` go to the compiler. No graph runs on weights older
    than the ``variables`` (those ``step`` reads) hold: on JAX it is jitted afresh when one
    holds a new value (:class:`_Rejitted`); on torch what is made from weights alone is a
    constant of the graphs while those weights stay as they are (:class:`_BakingCompiled`);
    a TensorFlow graph reads its variables on every call. On torch, Inductor writes a C++
    wrapper for CPU arguments (:func:`_with_cpp_wrapper`)."""
    backend = keras.backend.backend()
    if backend == "jax":
        return _Rejitted(step, variables, options)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(step, **{"jit_compile": True, **options})
    if backend == "torch":
        return _BakingCompiled(step, {"dynamic": False, **options})
    raise NotImplementedError(f"no compiler for the {backend} backend")


class _Rejitted:
    """``jax.jit(step, **options)``, jitted afresh when one of ``variables`` holds a new
    value (each call compares the arrays they hold, ``Variable._value``, a Keras private
    attribute: ``value`` costs microseconds a variable): a trace keeps the weights it read
    as constants of its graph, so after ``set_weights`` or ``assign`` the graph would still
    compute with the old ones."""

    def __init__(self, step, variables, options):
        self._step, self._variables, self._options = step, list(variables), options
        self._fresh()

    def _fresh(self):
        import jax

        # a function of its own: jax.jit keeps its traces per function
        self._compiled = jax.jit(_own_code(self._step), **self._options)
        self._values = [v._value for v in self._variables]

    def __call__(self, *args):
        if any(v._value is not value
               for v, value in zip(self._variables, self._values, strict=True)):
            self._fresh()
        return self._compiled(*args)


class _BakingCompiled:
    """``torch.compile(step, **options)`` (with a code object of its own) whose graphs take
    what :func:`derived` keeps (a transposed upsampler's re-indexed kernel, Snake's
    factors) as constants (:func:`_baked`), compiled afresh once the weights of one of them
    change (each call compares what :func:`_written` tells): the graphs never use a stale
    value, as the eager path never does. Compiled at the first call, which tells the device
    (:func:`_with_cpp_wrapper`)."""

    def __init__(self, step, options):
        self._step, self._options = step, options
        self._compiled, self._baked = None, {}
        self._names = collections.defaultdict(int)

    def _fresh(self, args):
        import torch

        self._compiled = torch.compile(_own_code(self._step),
                                       **_with_cpp_wrapper(self._options, args))
        self._baked = {}  # id(value) -> (the weights it was made from, their versions)

    def __call__(self, *args):
        global _BAKING
        if self._compiled is None or any(_written(values) != versions
                                         for values, versions in self._baked.values()):
            self._fresh(args)
        outer, _BAKING = _BAKING, self._baked
        # Keras names each op it makes from a global counter (keras.ops.pad inside a causal
        # Conv1D makes one per call), and Dynamo guards on the counter: every call compiled
        # again. Each call names from the same empty counter, the caller's kept aside.
        names = global_state.get_global_attribute("object_name_uids")
        self._names.clear()
        global_state.set_global_attribute("object_name_uids", self._names)
        try:
            return self._compiled(*args)
        finally:
            _BAKING = outer
            global_state.set_global_attribute("object_name_uids", names)


def _with_cpp_wrapper(options, args):
    """torch.compile's ``options`` with Inductor's C++ wrapper (``cpp_wrapper``) where the
    arguments are CPU tensors and ``options`` name neither another backend nor a ``mode``
    (torch.compile takes a mode or options, not both; ``options={"cpp_wrapper": False}``
    turns it off). The default wrapper calls each kernel from Python: about 0.3 ms of a
    2.17 ms ``demucs_like`` step at 4096 samples on one thread (1.87 ms with it; its offline
    call 16.5 -> 13.4 ms), 7-9% of a 256-sample step of cached_conv's stack, for a longer
    first compilation (the wrapper is C++ too)."""
    if options.get("backend", "inductor") != "inductor" or "mode" in options:
        return options
    import torch

    tensors = [a for a in keras.tree.flatten(args) if isinstance(a, torch.Tensor)]
    if not tensors or any(t.device.type != "cpu" for t in tensors):
        return options
    return {**options, "options": {"cpp_wrapper": True, **options.get("options", {})}}


def specialised(compiled, *args):
    """``compiled`` (from :func:`compile_step`) for the shapes and dtypes of ``args``, to be
    called only with arguments of those: on TensorFlow its ConcreteFunction, which a call
    reaches without tf.function's dispatch (binding the arguments to its signature, looking
    the graph up): about 0.1 ms of a step, half of a 64-sample one and 15% of a 4096-sample
    one (the seed auto-encoder); ``compiled`` itself elsewhere (jax.jit's dispatch is C++;
    torch's guards are cut by :func:`skipping_guards`).

    On TensorFlow the ConcreteFunction is called with its arguments flattened
    (``tf.nest.flatten``, the order its own call binds them in) through its private
    ``_call_flat``, where it has one: its public call checks them against its signature
    again, in Python, which took 0.13 ms a call with a 16-tensor state (demucs_like, one
    thread; 0.18 ms against 0.05 ms), a sixth of a 4096-sample step. The caller has checked
    the shapes and dtypes already."""
    if BACKEND != "tensorflow":
        return compiled
    import tensorflow as tf

    concrete = compiled.get_concrete_function(*args)
    if not callable(getattr(concrete, "_call_flat", None)):
        return concrete

    def call(*arguments):  # a NumPy chunk too, which the public call would convert
        flat = [a if isinstance(a, tf.Tensor) else tf.convert_to_tensor(a)
                for a in tf.nest.flatten(arguments)]
        return concrete._call_flat(flat, concrete.captured_inputs)

    return call


def guarded_context(x):
    """What besides shapes and dtypes a torch.compile graph of a step depends on: the
    device of ``x`` and the grad mode (torch); None elsewhere."""
    if BACKEND != "torch":
        return None
    import torch

    return str(getattr(x, "device", None)), torch.is_grad_enabled()


def skipping_guards():
    """A context in which a ``torch.compile``'d function evaluates only the guards that tell
    its graphs apart (``skip_guard_eval_unsafe``). A stream's compiled step runs under it
    only for a signature (shapes, dtypes, :func:`guarded_context`) whose graph was chosen
    with every guard on the calls before. The full guards cost about a quarter of the step
    on a 256-sample chunk of cached_conv's stack (0.126 ms a step with them, 0.099 ms
    without; cached_conv 0.122 ms). A null context elsewhere."""
    if BACKEND != "torch":
        return _NULL_SCOPE
    import torch

    return torch.compiler.set_stance("default", skip_guard_eval_unsafe=True)


def refused_without_guards(error):
    """Whether ``error`` is torch.compile refusing to compile under :func:`skipping_guards`
    (raised before anything runs; the call can be made again with every guard)."""
    return "skip_guard_eval_unsafe" in str(error)


def _own_code(step):
    """``step`` (a function or bound method) with a code object of its own: torch.compile
    keeps its graphs, and its limit of 8 recompilations, per code object, which the ``step``
    of every Stream in a process would otherwise share (jax.jit keeps its traces per
    function, which this also makes new)."""
    function = getattr(step, "__func__", step)
    copy = types.FunctionType(function.__code__.replace(), function.__globals__,
                              function.__name__, function.__defaults__, function.__closure__)
    return types.MethodType(copy, step.__self__) if hasattr(step, "__func__") else copy
