"""Export of a model with every layer: a TF SavedModel (TensorFlow backend), reloaded with
``tf.saved_model.load``, and ONNX (TensorFlow backend through tf2onnx, PyTorch backend through
torch.onnx/onnxscript, JAX through jax2onnx with a fixed batch size), run with onnxruntime.
Skips, saying why, where a backend or package is missing."""

import importlib.util

import keras
import numpy as np
import pytest
from conftest import BACKEND
from helpers_crossbackend import every_layer_model

from upsample1d.layers import (
    InterpolationUpsample1D,
    SpaceToDepth1D,
    Subpixel1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def model_and_data():
    model = every_layer_model(length=32)
    x = np.random.default_rng(0).normal(size=(3, 32, 4)).astype(np.float32)
    expected = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
    return model, x, expected


def test_tf_saved_model(model_and_data, tmp_path):
    if BACKEND != "tensorflow":
        pytest.skip(f"SavedModel export is checked from the TensorFlow backend (backend is "
                    f"{BACKEND})")
    import tensorflow as tf

    model, x, expected = model_and_data
    path = str(tmp_path / "saved_model")
    model.export(path, format="tf_saved_model", verbose=False)
    reloaded = tf.saved_model.load(path)
    np.testing.assert_allclose(reloaded.serve(tf.constant(x)).numpy(), expected, rtol=0,
                               atol=TOLERANCE)
    # The serving signature keeps the batch dimension open.
    np.testing.assert_allclose(reloaded.serve(tf.constant(x[:1])).numpy(), expected[:1],
                               rtol=0, atol=TOLERANCE)


ONNX_NEEDS = {"tensorflow": ["onnx", "onnxruntime", "tf2onnx"],
              "torch": ["onnx", "onnxruntime", "onnxscript"],
              "jax": ["onnx", "onnxruntime", "jax2onnx"]}


def _reshape_only_model():
    """Every layer whose channels_last DCR path is reshapes and convolutions only."""

    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 4))
    down = SpaceToDepth1D(2)(inputs)
    outputs = keras.layers.Concatenate()([
        SpaceToDepth1D(2)(Subpixel1D(2)(SubpixelConv1D(4, 2, use_bias=True)(down))),
        TransposedConvUpsample1D(3, 2)(down),
        TransposedConvUpsample1D(3, 2, implementation="native")(down),
        InterpolationUpsample1D(3, 2, method="nearest")(down),
        Upsample1D(2, 2, method="subpixel")(down),
    ])
    return keras.Model(inputs, outputs)


def _onnx_round_trip(model, x, path):
    missing = [m for m in ONNX_NEEDS[BACKEND] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"ONNX export on {BACKEND} needs {', '.join(missing)} "
                    f"(pip install {' '.join(missing)})")
    import onnxruntime

    expected = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
    # The input signature given: on JAX, Keras (3.15) infers it only from a model that went
    # through __call__, and predict runs its stateless_call ("never called"). With a fixed
    # batch on JAX: jax2onnx (0.17) cannot export a reshape of a symbolic batch, which the
    # engine's banks make (channels folded into the batch).
    batch = x.shape[0] if BACKEND == "jax" else None
    signature = [keras.InputSpec(shape=(batch, *x.shape[1:]), dtype="float32")]
    model.export(str(path), format="onnx", verbose=False, input_signature=signature)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    np.testing.assert_allclose(session.run(None, {name: x})[0], expected, rtol=0,
                               atol=TOLERANCE)


@pytest.mark.slow
@pytest.mark.filterwarnings(  # Keras' tf2onnx shim probes np.object
    "ignore:In the future `np.object` will be defined:FutureWarning")
def test_onnx_reshape_only_layers(tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 32, 4)).astype(np.float32)
    _onnx_round_trip(_reshape_only_model(), x, tmp_path / "model.onnx")


@pytest.mark.slow
def test_onnx_every_layer(model_and_data, tmp_path):
    _, x, _ = model_and_data
    _onnx_round_trip(every_layer_model(length=32), x, tmp_path / "model.onnx")


@pytest.mark.slow
def test_onnx_transposing_shuffles_and_filters(tmp_path):
    """float32 CRD / channels_first shuffles and the linear and sinc banks export too (only
    16-bit floats are moved as ints, which ONNX could not express)."""
    inputs = keras.Input((32, 4))
    crd = Subpixel1D(2, mode="CRD")(inputs)
    first = keras.layers.Permute((2, 1))(
        Subpixel1D(2, data_format="channels_first")(keras.layers.Permute((2, 1))(inputs)))
    linear = InterpolationUpsample1D(2, 2, method="linear")(inputs)
    sinc = InterpolationUpsample1D(2, 2, method="sinc")(inputs)
    model = keras.Model(inputs, keras.layers.Concatenate()([crd, first, linear, sinc]))
    x = np.random.default_rng(1).normal(size=(2, 32, 4)).astype(np.float32)
    _onnx_round_trip(model, x, tmp_path / "model.onnx")


LITERT_NEEDS = {"tensorflow": ["ai_edge_litert"], "torch": ["ai_edge_litert", "litert_torch"]}


@pytest.mark.slow
@pytest.mark.filterwarnings(  # torch.export's own pytree deprecation (litert-torch)
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")
def test_litert_every_layer(model_and_data, tmp_path):
    """LiteRT (``.tflite``) of a model with every layer, run with ai-edge-litert's
    interpreter: TensorFlow's converter, or litert-torch on torch."""
    if BACKEND not in LITERT_NEEDS:
        pytest.skip(f"Keras exports LiteRT from TensorFlow and torch, not {BACKEND}")
    missing = [m for m in LITERT_NEEDS[BACKEND] if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"LiteRT export on {BACKEND} needs {', '.join(missing)} (pip install "
                    f"{' '.join(m.replace('_', '-') for m in missing)})")
    from ai_edge_litert.interpreter import Interpreter

    _, x, _ = model_and_data
    model = every_layer_model(length=32)
    expected = np.asarray(keras.ops.convert_to_numpy(model.predict(x, verbose=0)))
    path = tmp_path / "model.tflite"
    signature = [keras.InputSpec(shape=x.shape, dtype="float32")]  # LiteRT: a fixed batch
    model.export(str(path), format="litert", verbose=False, input_signature=signature)
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (given,), (output,) = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.set_tensor(given["index"], x)
    interpreter.invoke()
    np.testing.assert_allclose(interpreter.get_tensor(output["index"]), expected, rtol=0,
                               atol=TOLERANCE)
