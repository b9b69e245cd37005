"""Official BigVGAN generators and checkpoints for the tests, randomly initialised (fixed
seeds), in the shapes of the published configs. Nothing is downloaded: the configs' fields
are written here, and the weights are random.

Needs torch and the official package (``bigvgan==2.4.1``, installed with ``--no-deps`` by
``tasks.py setup``: see the README's vocoder section).
"""

from __future__ import annotations

import json
import os

import numpy as np

# The architecture and mel fields of the published config.json files (NVIDIA/BigVGAN,
# configs/), as the hub checkpoints of the same names ship them.
_V2 = {"resblock": "1", "upsample_initial_channel": 1536, "resblock_kernel_sizes": [3, 7, 11],
       "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
       "use_tanh_at_final": False, "use_bias_at_final": False, "activation": "snakebeta",
       "snake_logscale": True, "fmin": 0, "fmax": None, "fmax_for_loss": None}
CONFIGS = {
    "bigvgan_v2_24khz_100band_256x": {
        **_V2, "upsample_rates": [4, 4, 2, 2, 2, 2], "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4],
        "num_mels": 100, "n_fft": 1024, "hop_size": 256, "win_size": 1024,
        "sampling_rate": 24000},
    "bigvgan_v2_44khz_128band_512x": {
        **_V2, "upsample_rates": [8, 4, 2, 2, 2, 2],
        "upsample_kernel_sizes": [16, 8, 4, 4, 4, 4], "num_mels": 128, "n_fft": 2048,
        "hop_size": 512, "win_size": 2048, "sampling_rate": 44100},
    # v1: no use_tanh_at_final / use_bias_at_final fields (the official defaults, True)
    "bigvgan_22khz_80band": {
        "resblock": "1", "upsample_rates": [4, 4, 2, 2, 2, 2],
        "upsample_kernel_sizes": [8, 8, 4, 4, 4, 4], "upsample_initial_channel": 1536,
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "activation": "snakebeta", "snake_logscale": True, "num_mels": 80, "n_fft": 1024,
        "hop_size": 256, "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": 8000,
        "fmax_for_loss": None},
}


def reduced(name, channels=64, **changes):
    """The published config ``name`` with ``upsample_initial_channel=channels`` (and any
    other ``changes``): same stages, kernels, dilations, activations and mel settings."""
    return {**CONFIGS[name], "upsample_initial_channel": channels, **changes}


def mel_of(audio, config):
    """The official ``mel_spectrogram`` of ``audio`` ``(B, T)`` float32 NumPy, as NumPy
    ``(B, num_mels, frames)``."""
    import torch
    from bigvgan.meldataset import mel_spectrogram

    c = config
    mel = mel_spectrogram(torch.from_numpy(np.asarray(audio, np.float32)), c["n_fft"],
                          c["num_mels"], c["sampling_rate"], c["hop_size"], c["win_size"],
                          c["fmin"], c["fmax"])
    return mel.numpy()


def official_generator(config, seed=0, weight_norm=True, probe=None, peak=0.8):
    """``bigvgan.BigVGAN(config)`` (the torch reference, ``use_cuda_kernel=False``) with every
    parameter random: weights, biases, weight-norm gains and the snakes' alpha and beta, so a
    parameter read into the wrong place shows in the output. With ``probe`` (a mel
    ``(B, num_mels, frames)``), ``conv_post`` is scaled so that the output before the final
    tanh / clamp peaks at ``peak`` on it (no sample saturated, so the clamp hides nothing).
    ``weight_norm=False`` removes weight norm (its state dict then holds plain weights)."""
    import torch
    from bigvgan.bigvgan import BigVGAN
    from bigvgan.env import AttrDict

    generator = torch.Generator().manual_seed(seed)

    def rand(shape, scale):
        return torch.randn(shape, generator=generator) * scale

    model = BigVGAN(AttrDict(json.loads(json.dumps(config))), use_cuda_kernel=False)
    model.eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("weight_v", "weight")):  # rows of norm ~1: gain ~1 per conv
                p.copy_(rand(p.shape, 1.0 / np.sqrt(p[0].numel())))
            elif name.endswith("weight_g"):
                p.copy_(0.6 * (1 + rand(p.shape, 0.2)))
            elif name.endswith(("alpha", "beta")):  # log-scale, or positive as trained
                p.copy_(rand(p.shape, 0.3) if config["snake_logscale"]
                        else torch.exp(rand(p.shape, 0.3)))
            else:  # biases
                p.copy_(rand(p.shape, 0.05))
        if probe is not None:
            _scale_output(model, torch.from_numpy(probe), peak)
    if not weight_norm:
        model.remove_weight_norm()
    return model


def _scale_output(model, mel, peak):
    """Scale conv_post's gain (and bias) so that its output peaks at ``peak`` on ``mel``."""
    seen = []
    hook = model.conv_post.register_forward_hook(
        lambda module, inputs, output: seen.append(float(output.abs().max())))
    model(mel)
    factor = peak / seen[0]
    gain = "weight_g" if hasattr(model.conv_post, "weight_g") else "weight"
    getattr(model.conv_post, gain).mul_(factor)
    if model.conv_post.bias is not None:
        model.conv_post.bias.mul_(factor)
    model(mel)
    hook.remove()
    assert abs(seen[1] - peak) < 1e-3 * peak


def to_parametrizations(model):
    """The same generator with torch's newer weight norm
    (``torch.nn.utils.parametrizations.weight_norm``): its state dict names the two parts
    ``parametrizations.weight.original0`` / ``original1``."""
    import torch
    from torch.nn.utils import parametrizations

    model.remove_weight_norm()
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            parametrizations.weight_norm(module)
    return model


def run_official(model, mel):
    """The official generator's output ``(B, 1, samples)`` for a NumPy mel, as NumPy."""
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(mel, np.float32))).numpy()


def write_checkpoint(directory, config, seed=0, weight_norm=True, probe=None):
    """A checkpoint directory as the official package saves it (``config.json``,
    ``bigvgan_generator.pt`` holding ``{"generator": state_dict}``) of a random official
    generator (:func:`official_generator`); returns the generator."""
    import torch

    model = official_generator(config, seed, weight_norm=weight_norm, probe=probe)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=4)
    torch.save({"generator": model.state_dict()}, os.path.join(directory,
                                                                "bigvgan_generator.pt"))
    return model
