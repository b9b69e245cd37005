"""Distributed training on JAX with ``keras.distribution``: data parallel and channel-sharded
model parallel, checked on 4 virtual CPU devices against one device.

Multi-GPU how-to (JAX backend; the layers need nothing special, they are plain keras.ops)::

    import os
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    from upsample1d.models import autoencoder

    devices = keras.distribution.list_devices("gpu")           # e.g. 8 GPUs
    # Data parallel: weights replicated, each batch split over the devices.
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    # ...or model parallel: a (batch, model) mesh and a layout that shards the channel axis
    # of the convolution kernels (activations follow) over "model":
    mesh = keras.distribution.DeviceMesh((2, 4), ("batch", "model"), devices=devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map["encode/kernel"] = (None, None, "model")        # (taps, in, out): shard out
    layout_map["latent/kernel"] = (None, "model", None)        # shard in
    layout_map["up/.*kernel"] = (None, "model", None)          # the upsampler's conv
    keras.distribution.set_distribution(
        keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))

    model = autoencoder("subpixel", length=16384)              # build after set_distribution
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x, batch_size=64)                              # batch divisible by "batch"

The global batch must be divisible by the number of devices on the batch axis, and a sharded
channel count by the size of the "model" axis. To try it on a CPU, fake devices before JAX is
imported: ``XLA_FLAGS=--xla_force_host_platform_device_count=4``. ``keras.distribution`` is
JAX-only in Keras 3; with TensorFlow use ``tf.distribute.MirroredStrategy`` and with PyTorch
``torch.nn.parallel.DistributedDataParallel`` around the model (the layers are plain
``tf.Module`` / ``torch.nn.Module`` objects there).

The check runs in a subprocess (the device count must be set before JAX is imported): the seed
auto-encoder is trained for 2 epochs of 4 steps with SGD on one device, under ``DataParallel``
and under the channel-sharding ``ModelParallel`` layout, and the losses must agree.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import BACKEND
from helpers_crossbackend import REPO

HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "helpers_crossbackend.py")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    BACKEND != "jax", reason=f"keras.distribution (DataParallel, ModelParallel) is JAX-only; "
    f"backend is {BACKEND}")]


@pytest.fixture(scope="module")
def losses(tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed") / "losses.json"
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") +
                         " --xla_force_host_platform_device_count=4").strip(),
           "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, HELPER, "distributed", str(out)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr[-4000:]}"
    with open(out) as f:
        return json.load(f)


def _close(a, b, rtol=1e-4, atol=1e-6):
    return all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(a, b, strict=True))


def test_data_parallel_matches_one_device(losses):
    assert losses["devices"] == 4
    single, parallel = losses["single"]["loss"], losses["data_parallel"]["loss"]
    assert len(single) == 2 and single[-1] < single[0]
    assert _close(parallel, single), (parallel, single)
    assert _close(losses["data_parallel"]["prediction"], losses["single"]["prediction"],
                  atol=1e-5)


def test_model_parallel_channel_sharding_matches_one_device(losses):
    result = losses["model_parallel"]
    assert _close(result["loss"], losses["single"]["loss"]), (result["loss"],
                                                             losses["single"]["loss"])
    assert _close(result["prediction"], losses["single"]["prediction"], atol=1e-5)
    sharding = result["shardings"]["encode/kernel"]
    assert "model" in sharding, sharding  # the kernel really is split over "model"
