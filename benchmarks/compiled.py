"""Functions compiled the way Keras' own training loop runs them on each backend.

Not the tests' ``compile_fn`` (tests/conftest.py), which compiles with each backend's
strictest compiler (``jax.jit``, ``tf.function(jit_compile=True)``, ``torch.compile``) to
check that the ops trace: here TensorFlow runs a graph without XLA and PyTorch stays eager,
as ``model.fit`` does by default, because that is what a user's training step costs.
"""

from __future__ import annotations

from benchmarks.machine import backend_name

COMPILE_MODES = {"jax": "jax.jit", "tensorflow": "tf.function", "torch": "eager"}


def compile_as_keras_trains(fn, backend=None):
    """``fn`` as Keras' training loop runs it on this backend: ``jax.jit``,
    ``tf.function`` (graph, no XLA), PyTorch eager (returned unchanged)."""
    backend = backend or backend_name()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=False)
    return fn


def layer_forward(layer, backend=None):
    """``f(x) -> layer(x)`` compiled as in :func:`compile_as_keras_trains` (no gradient tape;
    torch under ``no_grad``). The layer must be built."""
    backend = backend or backend_name()
    if backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        others = [v.value for v in layer.non_trainable_variables]
        run = jax.jit(lambda tv, x: layer.stateless_call(tv, others, x)[0])
        return lambda x: run(trainable, x)
    if backend == "torch":
        import torch

        def forward(x):
            with torch.no_grad():
                return layer(x)

        return forward
    return compile_as_keras_trains(lambda x: layer(x), backend)


def layer_forward_backward(layer, backend=None):
    """``f(x) -> gradients`` of ``sum(layer(x) ** 2)`` with respect to the input and every
    trainable weight (a forward and a full backward pass), compiled as in
    :func:`compile_as_keras_trains`."""
    backend = backend or backend_name()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in layer.trainable_variables]
        others = [v.value for v in layer.non_trainable_variables]

        def loss(tv, x):
            return jnp.sum(layer.stateless_call(tv, others, x)[0] ** 2)

        run = jax.jit(jax.grad(loss, argnums=(0, 1)))
        return lambda x: run(trainable, x)
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=False)
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, [x, *layer.trainable_variables])

        return step
    import torch

    weights = [v.value for v in layer.trainable_variables]

    def step(x):
        x = x.detach().requires_grad_(True)
        y = layer(x)
        return torch.autograd.grad((y * y).sum(), [x, *weights])

    return step
