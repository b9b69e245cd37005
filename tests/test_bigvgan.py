"""BigVGAN (upsample1d.bigvgan) against the official generator (PyPI ``bigvgan==2.4.1``, torch,
``use_cuda_kernel=False``), randomly initialised in the shapes of the published configs.

Parity criterion (the issue's): ``max |ours - official| <= 1e-5 * max |official|`` in float32,
on the same mel input (the official mel of synthetic harmonic audio). In float64, with the
official filters replaced by the exact ones, the two agree to ~1e-9: the mapping is exact and
what remains in float32 is rounding (the official float32 output is itself ~6e-7 from its own
float64 output).
"""

import copy
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import BACKEND, has_module

from upsample1d.audio import synthetic_audio
from upsample1d.bigvgan import (
    AMPBlock1D,
    BigVGAN,
    DilatedConv1D,
    bigvgan,
    check_config,
    from_state_dict,
    load_checkpoint,
    save_checkpoint,
    state_dict,
)

torch = pytest.importorskip("torch")
pytest.importorskip("bigvgan", reason="the official package: bigvgan==2.4.1 (--no-deps)")

from helpers_bigvgan import (  # noqa: E402
    CONFIGS,
    mel_of,
    official_generator,
    reduced,
    run_official,
    to_parametrizations,
    write_checkpoint,
)

pytestmark = pytest.mark.filterwarnings(  # the official package uses torch's old weight norm
    "ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")
RELATIVE = 1e-5
FRAMES = 6
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def relative_error(got, expected):
    return float(np.abs(got - expected).max() / np.abs(expected).max())


def mel_for(config, frames=FRAMES, batch=1, seed=3):
    audio = synthetic_audio(batch, config["hop_size"] * frames, config["sampling_rate"],
                            seed=seed)[..., 0]
    return mel_of(audio, config)


def run_ours(model, mel):
    """Our model's output as channels_first NumPy, from a channels_first mel.

    On JAX through ``predict_on_batch`` (one jitted program): run eagerly, JAX compiles each
    of the generator's ~1000 ops for its shape, 2-3x as long. The eager path is checked by
    the other tests (streaming compares the eager offline call)."""
    cf = model.data_format == "channels_first"
    x = mel if cf else np.transpose(mel, (0, 2, 1))
    y = model.predict_on_batch(x) if BACKEND == "jax" else keras.ops.convert_to_numpy(model(x))
    return np.asarray(y if cf else np.transpose(y, (0, 2, 1)))


# weight norm present with channels_first, removed with channels_last: each config both ways
CASES = [(name, wn, "channels_first" if wn else "channels_last")
         for name in CONFIGS for wn in (True, False)]


@pytest.mark.parametrize("name, weight_norm, data_format", CASES)
def test_parity_with_official(name, weight_norm, data_format):
    config = reduced(name, channels=64)
    mel = mel_for(config)
    official = official_generator(config, seed=1, weight_norm=weight_norm, probe=mel)
    expected = run_official(official, mel)
    model = from_state_dict(bigvgan(config, data_format=data_format), official.state_dict())
    got = run_ours(model, mel)
    assert got.shape == expected.shape == (1, 1, FRAMES * model.hop_size)
    assert relative_error(got, expected) <= RELATIVE


def test_parity_with_parametrized_weight_norm():
    """torch's newer weight norm (``parametrizations.weight.original0/1``) loads the same."""
    config = reduced("bigvgan_v2_24khz_100band_256x", channels=64, resblock="2")
    mel = mel_for(config)
    official = to_parametrizations(official_generator(config, seed=5, probe=mel))
    weights = official.state_dict()
    assert any(".parametrizations.weight.original1" in key for key in weights)
    model = from_state_dict(bigvgan(config, data_format="channels_first"), weights)
    assert relative_error(run_ours(model, mel), run_official(official, mel)) <= RELATIVE


@pytest.mark.parametrize("activation, tanh", [("snake", True), ("snakebeta", False)])
def test_parity_snake_and_linear_scale(activation, tanh):
    """Snake (one parameter), linear-scale parameters, AMPBlock2, tanh and bias at the end."""
    config = reduced("bigvgan_22khz_80band", channels=32, upsample_rates=[4, 2],
                     upsample_kernel_sizes=[8, 4], activation=activation,
                     snake_logscale=False, resblock="2", use_tanh_at_final=tanh,
                     use_bias_at_final=True)
    mel = mel_for(config)
    official = official_generator(config, seed=2, probe=mel)
    model = from_state_dict(bigvgan(config, data_format="channels_last"),
                            official.state_dict())
    assert relative_error(run_ours(model, mel), run_official(official, mel)) <= RELATIVE


@pytest.mark.skipif(BACKEND == "jax" and not keras.config.floatx() == "float64"
                    and not __import__("jax").config.jax_enable_x64,
                    reason="JAX holds float64 only with jax_enable_x64")
def test_float64_mapping_is_exact():
    """In float64 with identical filters the two generators agree to ~1e-9 of the peak: no
    weight, tap or padding is off (one would show as an O(1) difference)."""
    from upsample1d.ops import kaiser_sinc_filter

    config = reduced("bigvgan_v2_44khz_128band_512x", channels=64)
    mel = mel_for(config)
    official = official_generator(config, seed=4, weight_norm=False, probe=mel)
    reference = copy.deepcopy(official).double()
    exact = torch.from_numpy(kaiser_sinc_filter(0.25, 0.3, 12)).reshape(1, 1, 12)
    with torch.no_grad():
        for _, buffer in reference.named_buffers():
            buffer.copy_(exact)
        expected = reference(torch.from_numpy(mel).double()).numpy()
    model = from_state_dict(bigvgan(config, data_format="channels_first", dtype="float64"),
                            official.state_dict())
    got = run_ours(model, mel.astype(np.float64))
    assert got.dtype == np.float64
    assert relative_error(got, expected) < 1e-8


@pytest.mark.slow  # 112 M parameters in both frameworks
def test_parity_full_width():
    config = CONFIGS["bigvgan_v2_24khz_100band_256x"]
    mel = mel_for(config, frames=4, batch=1)
    official = official_generator(config, seed=6, probe=mel)
    model = from_state_dict(bigvgan(config, data_format="channels_first"),
                            official.state_dict())
    assert relative_error(run_ours(model, mel), run_official(official, mel)) <= RELATIVE


# --- checkpoint directories -------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random official checkpoint directory (weight norm), its generator and a mel."""
    directory = str(tmp_path_factory.mktemp("bigvgan") / "official")
    config = reduced("bigvgan_v2_24khz_100band_256x", channels=64)
    mel = mel_for(config)
    official = write_checkpoint(directory, config, seed=7, probe=mel)
    return directory, official, mel


def test_load_checkpoint_directory(checkpoint):
    directory, official, mel = checkpoint
    model = load_checkpoint(directory, data_format="channels_first")
    assert model.hparams["sampling_rate"] == 24000  # the mel fields are kept
    assert relative_error(run_ours(model, mel), run_official(official, mel)) <= RELATIVE


@pytest.mark.parametrize("weight_norm", [True, False])
def test_save_then_official_loads(checkpoint, tmp_path, weight_norm):
    """load -> save -> the official code loads it -> the same output."""
    from bigvgan.bigvgan import BigVGAN as Official

    directory, official, mel = checkpoint
    model = load_checkpoint(directory, data_format="channels_last")
    save_checkpoint(model, str(tmp_path), weight_norm=weight_norm)
    weights = torch.load(tmp_path / "bigvgan_generator.pt", weights_only=True)["generator"]
    assert any(key.endswith("weight_g") for key in weights) == weight_norm
    if weight_norm:  # the official training code loads it strictly, weight norm and all
        reloaded = Official(official.h)
        reloaded.load_state_dict(weights)
    else:
        reloaded = Official.from_pretrained(str(tmp_path))  # local: no network
    reloaded.eval()
    expected = run_official(official, mel)
    assert relative_error(run_official(reloaded, mel), expected) <= RELATIVE
    with open(tmp_path / "config.json") as f:
        assert json.load(f) == model.hparams


def test_state_dict_round_trip_is_exact(checkpoint):
    directory, _, _ = checkpoint
    model = load_checkpoint(directory)
    weights = state_dict(model)
    again = from_state_dict(bigvgan(model.hparams), weights)
    for a, b in zip(model.weights, again.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))


def test_refuses_a_checkpoint_that_does_not_fit(checkpoint):
    _, official, _ = checkpoint
    weights = {k: v.numpy() for k, v in official.state_dict().items()}
    model = bigvgan(reduced("bigvgan_v2_24khz_100band_256x", channels=64))
    missing = {k: v for k, v in weights.items() if not k.startswith("conv_post.")}
    with pytest.raises(ValueError, match=r"missing conv_post\.weight \(this config expects "
                                         r"shape \(1, 1, 7\)\)"):
        from_state_dict(model, missing)
    extra = {**weights, "conv_post.bias": np.zeros(1, np.float32)}
    with pytest.raises(ValueError, match=r"unexpected conv_post\.bias \(shape \(1,\)\)"):
        from_state_dict(model, extra)
    wrong = {**weights, "ups.0.0.bias": np.zeros(5, np.float32)}
    with pytest.raises(ValueError, match=r"ups\.0\.0\.bias: the checkpoint has shape \(5,\), "
                                         r"this config expects \(32,\)"):
        from_state_dict(model, wrong)
    wider = bigvgan(reduced("bigvgan_v2_24khz_100band_256x", channels=128))
    with pytest.raises(ValueError, match=r"conv_pre\.weight: the checkpoint has shape "
                                         r"\(64, 100, 7\), this config expects \(128, 100, 7\)"):
        from_state_dict(wider, weights)
    bad_filter = {**weights, "activation_post.upsample.filter": np.zeros((1, 1, 12))}
    with pytest.raises(ValueError, match="activation_post.upsample.filter is not BigVGAN's"):
        from_state_dict(model, bad_filter)


def test_refuses_a_weight_given_twice_or_a_gain_of_another_shape(checkpoint):
    """The official strict load refuses these; folding took one weight and dropped the
    other unseen, and read a gain by its element count alone."""
    _, official, _ = checkpoint
    weights = {k: v.numpy() for k, v in official.state_dict().items()}
    model = bigvgan(reduced("bigvgan_v2_24khz_100band_256x", channels=64))
    plain_too = {**weights, "conv_pre.weight": np.zeros((64, 100, 7), np.float32)}
    with pytest.raises(ValueError, match=r"gives conv_pre\.weight twice: as "
                                         r"'conv_pre\.weight_g' .* as 'conv_pre\.weight'"):
        from_state_dict(model, plain_too)
    both_namings = {**weights, **{k.replace("weight_g", "parametrizations.weight.original0")
                                  .replace("weight_v", "parametrizations.weight.original1"): v
                                  for k, v in weights.items() if k.startswith("conv_pre.")
                                  and "weight_" in k}}
    with pytest.raises(ValueError, match="gives conv_pre.weight twice: .* the other weight"):
        from_state_dict(model, both_namings)
    flat_gain = {**weights, "conv_pre.weight_g": weights["conv_pre.weight_g"].reshape(-1)}
    with pytest.raises(ValueError, match=r"'conv_pre\.weight_g' has shape \(64,\), .* "
                                         r"\(64, 1, 1\)"):
        from_state_dict(model, flat_gain)


def test_refuses_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_checkpoint(str(tmp_path))
    with open(tmp_path / "config.json", "w") as f:
        json.dump(reduced("bigvgan_22khz_80band", channels=64), f)
    with pytest.raises(FileNotFoundError, match="no bigvgan_generator.pt"):
        load_checkpoint(str(tmp_path))
    torch.save({"model": {}}, tmp_path / "bigvgan_generator.pt")
    with pytest.raises(ValueError, match="holds no 'generator' state dict"):
        load_checkpoint(str(tmp_path))


# --- the model --------------------------------------------------------------------------------

def small_config(**changes):
    return {"num_mels": 12, "upsample_rates": [4, 2], "upsample_kernel_sizes": [8, 4],
            "upsample_initial_channel": 16, "resblock": "1", "resblock_kernel_sizes": [3, 5],
            "resblock_dilation_sizes": [[1, 3], [1, 3]], "activation": "snakebeta",
            "snake_logscale": True, **changes}


@pytest.mark.parametrize("changes, message", [
    ({"num_mels": None}, "lacks the field"),
    ({"upsample_kernel_sizes": [8]}, "same length"),
    ({"upsample_kernel_sizes": [7, 4]}, "k - u even"),
    ({"upsample_kernel_sizes": [2, 4]}, "k >= u"),
    ({"upsample_initial_channel": 2}, "no channel"),
    ({"resblock": "3"}, "resblock"),
    ({"resblock_kernel_sizes": [3, 4]}, "must be odd"),
    ({"resblock_dilation_sizes": [[1, 3]]}, "one per resblock kernel size"),
    ({"activation": "relu"}, "activation"),
    ({"snake_logscale": "yes"}, "true or false"),
    ({"upsample_rates": []}, "non-empty list"),
])
def test_config_errors(changes, message):
    config = small_config(**changes)
    if changes.get("num_mels", 0) is None:
        del config["num_mels"]
    with pytest.raises((ValueError, TypeError), match=message):
        check_config(config)


def test_layer_flags_take_true_or_false():
    """bool() took the string "false" as True: a bias, a log-scale Snake."""
    with pytest.raises(TypeError, match="`use_bias` must be True or False, got 'false'"):
        DilatedConv1D(3, 3, 1, use_bias="false")
    with pytest.raises(TypeError, match="`snake_logscale` must be True or False, got 0"):
        AMPBlock1D(4, snake_logscale=0)


def test_defaults_and_kept_fields():
    c = check_config({**small_config(), "sampling_rate": 16000, "resblock": 2})
    assert c["use_tanh_at_final"] is True and c["use_bias_at_final"] is True
    assert c["sampling_rate"] == 16000 and c["resblock"] == "2"


def test_layers_and_shapes():
    model = bigvgan(small_config(), data_format="channels_last")
    assert isinstance(model, BigVGAN) and model.hop_size == 8
    assert all(type(up).__name__ == "TransposedConvUpsample1D" for up in model.ups)
    assert len(model.resblocks) == 4 and all(isinstance(b, AMPBlock1D) for b in model.resblocks)
    assert isinstance(model.conv_pre, DilatedConv1D)
    y = model(np.zeros((1, 5, 12), np.float32))
    assert tuple(y.shape) == (1, 40, 1)
    with pytest.raises(ValueError, match="expects 12 mel channels"):
        model.build((None, None, 13))
    weights = list(model.weights)
    model.build((None, None, 12))  # built already (by bigvgan()): the same weights
    assert len(model.weights) == len(weights)
    assert all(a is b for a, b in zip(model.weights, weights, strict=True))


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize(("kernel_size", "dilation", "bias"),
                         [(3, 1, True), (7, 5, True), (4, 2, False), (2, 3, True), (1, 4, False)])
def test_dilated_conv_is_the_same_conv_of_its_docstring(kernel_size, dilation, bias,
                                                        data_format):
    """out[t] = sum_k x[t + k d - ((K - 1) d) // 2] @ kernel[k] + bias, zeros outside: odd
    and even spans (the extra zero on the right, as Keras pads "same"), kernel stored
    (filters, C_in, K)."""
    layer = DilatedConv1D(3, kernel_size, dilation, use_bias=bias, data_format=data_format)
    x = np.random.default_rng(kernel_size).normal(size=(2, 11, 4)).astype(np.float32)
    x_in = x if data_format == "channels_last" else np.swapaxes(x, 1, 2).copy()
    layer.build(x_in.shape)
    rng = np.random.default_rng(dilation)
    layer.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in layer.weights])
    kernel = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)
    assert kernel.shape == (3, 4, kernel_size)
    left = (kernel_size - 1) * dilation // 2
    padded = np.pad(x.astype(np.float64), ((0, 0), (left, (kernel_size - 1) * dilation - left),
                                           (0, 0)))
    want = sum(padded[:, k * dilation:k * dilation + 11] @ kernel[:, :, k].T
               for k in range(kernel_size))
    if bias:
        want = want + keras.ops.convert_to_numpy(layer.bias)
    got = keras.ops.convert_to_numpy(layer(x_in))
    got = got if data_format == "channels_last" else np.swapaxes(got, 1, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_mixed_precision_runs_in_the_compute_dtype(data_format="channels_first"):
    """Under mixed_bfloat16 (float32 variables read as bfloat16 in every sublayer, those of
    AMPBlock1D called through `call` included) the output is bfloat16 and near the float32
    model with the same weights (bfloat16 keeps 8 bits: a few % through the network)."""
    full = bigvgan(small_config(), data_format=data_format)
    mixed = bigvgan(small_config(), data_format=data_format, dtype="mixed_bfloat16")
    shape = (1, 12, 6) if data_format == "channels_first" else (1, 6, 12)
    x = np.random.default_rng(0).normal(-5, 1, shape).astype(np.float32)
    mixed.set_weights(full.get_weights())
    assert all(w.dtype == "float32" for w in mixed.weights)
    y = mixed.predict_on_batch(x) if BACKEND == "jax" else mixed(x)  # (run_ours: jitted)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    got = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(y, "float32")))
    assert relative_error(got, run_ours(full, x)) < 0.25


def test_other_upsampler_for_training():
    model = bigvgan(small_config(), data_format="channels_first", upsampler="nearest")
    assert tuple(model(np.zeros((2, 12, 3), np.float32)).shape) == (2, 1, 24)
    with pytest.raises(ValueError, match="only upsampler='transposed'"):
        state_dict(model)


def test_trains():
    model = bigvgan(small_config(), data_format="channels_last")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 12)).astype(np.float32)
    y = 0.5 * np.sin(np.arange(48) / 3.0)[None, :, None].repeat(2, 0).astype(np.float32)
    losses = model.fit(x, y, epochs=3, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


# --- .keras files -----------------------------------------------------------------------------

NEXT = {"jax": "tensorflow", "tensorflow": "torch", "torch": "jax"}
LOAD_SCRIPT = """
import sys, numpy as np, keras
import upsample1d.bigvgan  # registers the classes
model = keras.saving.load_model(sys.argv[1], safe_mode=True)
np.save(sys.argv[3], np.asarray(keras.ops.convert_to_numpy(model(np.load(sys.argv[2])))))
"""


@pytest.fixture(scope="module")
def saved_keras(tmp_path_factory, checkpoint):
    directory, _, mel = checkpoint
    model = load_checkpoint(directory, data_format="channels_first")
    path = tmp_path_factory.mktemp("keras") / f"bigvgan_{BACKEND}.keras"
    model.save(path)
    np.save(path.parent / "mel.npy", mel)
    return path, mel, run_ours(model, mel)


def test_keras_file_same_backend(saved_keras):
    path, mel, expected = saved_keras
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, BigVGAN) and loaded.hparams["hop_size"] == 256
    np.testing.assert_array_equal(run_ours(loaded, mel), expected)


@pytest.mark.slow  # cross-backend loading: a subprocess of the next backend
def test_keras_file_other_backend(saved_keras):
    """Saved here, loaded on the next backend of the cycle jax -> tensorflow -> torch -> jax:
    the three runs of the suite cover every backend as the writer and as the reader."""
    other = NEXT[BACKEND]
    if not has_module(other):
        pytest.skip(f"{other} is not installed")
    path, _, expected = saved_keras
    out = path.parent / "other.npy"
    env = {**os.environ, "KERAS_BACKEND": other, "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(path),
                          str(path.parent / "mel.npy"), str(out)], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert relative_error(np.load(out), expected) <= RELATIVE


# --- the .pt file without torch ---------------------------------------------------------------

def test_reads_torch_files_without_torch(checkpoint, tmp_path):
    """The zip reader gives what torch.load gives, for the checkpoint and for views, strides,
    integer and boolean tensors; it refuses any other global, and the legacy format."""
    from upsample1d.vocoder import read_torch_weights

    directory, official, _ = checkpoint
    path = os.path.join(directory, "bigvgan_generator.pt")
    ours = read_torch_weights(path)["generator"]
    theirs = torch.load(path, weights_only=True)["generator"]
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key], value.numpy())
    odd = {"view": torch.arange(10.0)[3:7], "t": torch.randn(3, 4).t(),
           "int": torch.arange(5), "bool": torch.tensor([True, False]),
           "double": torch.randn(2, dtype=torch.float64), "list": [torch.ones(2), 3]}
    torch.save(odd, tmp_path / "odd.pt")
    read = read_torch_weights(tmp_path / "odd.pt")
    for key in ("view", "t", "int", "bool", "double"):
        np.testing.assert_array_equal(read[key], odd[key].numpy())
        assert read[key].dtype == odd[key].numpy().dtype
    assert read["list"][1] == 3
    torch.save({"x": torch.nn.Linear(2, 2)}, tmp_path / "module.pt")
    with pytest.raises(ValueError, match="is not allowed in a weights file"):
        read_torch_weights(tmp_path / "module.pt")
    torch.save({"x": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="not in torch's zip format"):
        read_torch_weights(tmp_path / "legacy.pt")


def test_load_checkpoint_reads_the_legacy_format_with_torch(checkpoint, tmp_path):
    directory, official, mel = checkpoint
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    with open(tmp_path / "config.json", "w") as f:
        json.dump(config, f)
    torch.save({"generator": official.state_dict()}, tmp_path / "bigvgan_generator.pt",
               _use_new_zipfile_serialization=False)
    model = load_checkpoint(str(tmp_path), data_format="channels_first")
    assert relative_error(run_ours(model, mel), run_official(official, mel)) <= RELATIVE


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
def test_load_checkpoint_reads_a_half_precision_checkpoint(checkpoint, tmp_path, half):
    """``model.bfloat16().state_dict()`` saved: the reader widens bfloat16 to float32 (the
    same numbers), and the filter buffers, rounded to 16 bits too, are still BigVGAN's."""
    from upsample1d.vocoder import read_torch_weights

    directory, official, mel = checkpoint
    shutil.copy(os.path.join(directory, "config.json"), tmp_path / "config.json")
    halved = copy.deepcopy(official).to(getattr(torch, half))
    torch.save({"generator": halved.state_dict()}, tmp_path / "bigvgan_generator.pt")
    read = read_torch_weights(tmp_path / "bigvgan_generator.pt")["generator"]
    for key, value in halved.state_dict().items():
        np.testing.assert_array_equal(read[key].astype(np.float32), value.float().numpy())
    model = load_checkpoint(str(tmp_path), data_format="channels_first")
    widened = halved.float()  # the weights as stored; the filters BigVGAN's own (float32)
    with torch.no_grad():
        for name, buffer in widened.named_buffers():
            buffer.copy_(dict(official.named_buffers())[name])
    assert relative_error(run_ours(model, mel), run_official(widened, mel)) <= RELATIVE


NO_TORCH_SCRIPT = """
import sys

class NoTorch:  # every import of torch fails, as where it is not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTorch())
import numpy as np, keras
from upsample1d.bigvgan import load_checkpoint
model = load_checkpoint(sys.argv[1], data_format="channels_first")
np.save(sys.argv[3], np.asarray(keras.ops.convert_to_numpy(model(np.load(sys.argv[2])))))
assert not any(name.split(".")[0] == "torch" for name in sys.modules)
"""


@pytest.mark.skipif(BACKEND != "tensorflow",
                    reason="runs once, in the TensorFlow run (a TensorFlow subprocess)")
def test_load_checkpoint_without_torch(checkpoint, tmp_path):
    directory, official, mel = checkpoint
    np.save(tmp_path / "mel.npy", mel)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow",
           "PYTHONPATH": os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", NO_TORCH_SCRIPT, directory,
                          str(tmp_path / "mel.npy"), str(tmp_path / "y.npy")], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert relative_error(np.load(tmp_path / "y.npy"), run_official(official, mel)) <= RELATIVE
