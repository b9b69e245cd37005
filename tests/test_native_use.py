"""The layers and ops in each framework's own idiom, without Keras' training loop: Keras layers
inside a plain ``torch.nn.Sequential`` trained with a torch optimizer (torch backend), and the
ops under ``jax.grad`` / ``jax.jit`` on plain jax arrays (JAX backend)."""

import numpy as np
import pytest
from conftest import BACKEND

from upsample1d.layers import Subpixel1D, SubpixelConv1D
from upsample1d.ops import (
    depth_to_space_1d,
    space_to_depth_1d,
    upsample_linear_1d,
    upsample_nearest_1d,
    upsample_sinc_1d,
)


def test_layers_in_torch_sequential_train_with_a_torch_optimizer():
    if BACKEND != "torch":
        pytest.skip(f"torch.nn use needs the torch backend (backend is {BACKEND})")
    import torch

    torch.manual_seed(0)
    up = SubpixelConv1D(4, 2, kernel_size=3, data_format="channels_first", mode="CRD")
    model = torch.nn.Sequential(
        torch.nn.Conv1d(1, 8, 5, padding=2),
        torch.nn.Tanh(),
        Subpixel1D(2, data_format="channels_first", mode="CRD"),  # (B, 4, 2T)
        up,                                                        # (B, 4, 4T)
        torch.nn.Conv1d(4, 1, 3, padding=1),
    )
    x = torch.sin(torch.linspace(0, 20, 64)).reshape(1, 1, 64).repeat(4, 1, 1)
    target = torch.nn.functional.interpolate(x, scale_factor=4, mode="linear")
    assert model(x).shape == (4, 1, 256)  # builds the Keras layers
    assert isinstance(up, torch.nn.Module)
    names = [name for name, _ in model.named_parameters()]
    assert any(name.startswith("3.") for name in names), names  # the Keras kernel is seen
    kernel_before = up.kernel.value.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert not torch.equal(up.kernel.value.detach(), kernel_before)
    # Subpixel1D(CRD, channels_first) is PixelShuffle's order: out[b, c, t*r + i] ==
    # in[b, c*r + i, t].
    y = torch.randn(2, 6, 5)
    folded = y.reshape(2, 2, 3, 5).permute(0, 1, 3, 2).reshape(2, 2, 15)
    assert torch.equal(Subpixel1D(3, data_format="channels_first", mode="CRD")(y), folded)


def test_ops_under_jax_grad_on_plain_arrays():
    if BACKEND != "jax":
        pytest.skip(f"jax.grad on plain arrays needs the jax backend (backend is {BACKEND})")
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 6, 4)).astype(np.float32))
    w = jnp.asarray(rng.normal(size=(2, 12, 2)).astype(np.float32))

    # The shuffle is a permutation: the gradient of <d2s(x), w> is s2d(w).
    grad = jax.grad(lambda v: jnp.sum(depth_to_space_1d(v, 2, mode="CRD") * w))(x)
    assert isinstance(grad, jax.Array)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(space_to_depth_1d(w, 2,
                                                                                  mode="CRD")))
    grad = jax.jit(jax.grad(lambda v: jnp.sum(space_to_depth_1d(v, 2) * x)))(w)
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(depth_to_space_1d(x, 2)))

    # The interpolations are linear maps A: grad of |A x|^2 / 2 is A^T A x.
    for op in (upsample_nearest_1d, upsample_linear_1d, upsample_sinc_1d):
        small = x[:1, :, :1]
        basis = np.eye(6, dtype=np.float32).reshape(6, 6, 1)
        matrix = np.asarray(op(jnp.asarray(basis), 3))[:, :, 0].T  # (18, 6)
        grad = jax.jit(jax.grad(lambda v, op=op: 0.5 * jnp.sum(op(v, 3) ** 2)))(small)
        expected = matrix.T @ matrix @ np.asarray(small)[0, :, 0]
        np.testing.assert_allclose(np.asarray(grad)[0, :, 0], expected, rtol=1e-5, atol=1e-5)
    # vmap over a leading axis of rank-3 batches.
    stacked = jnp.stack([x, 2 * x])
    out = jax.vmap(lambda v: upsample_linear_1d(v, 2))(stacked)
    np.testing.assert_allclose(np.asarray(out[1]), 2 * np.asarray(upsample_linear_1d(x, 2)),
                               rtol=1e-6, atol=1e-6)
