"""BigVGAN (Lee et al. 2023; NVIDIA's universal neural vocoder, v1 and v2) built from this
package's layers, and its checkpoints read and written in the official format.

- :func:`bigvgan` / :class:`BigVGAN`: the generator, mel spectrogram -> waveform, from the
  official ``config.json`` fields, channels_first or channels_last. Its upsamplers are
  :class:`~upsample1d.layers.TransposedConvUpsample1D` (or any
  :class:`~upsample1d.layers.Upsample1D` method, for new training), its activations
  :class:`~upsample1d.layers.AliasFreeActivation1D` around a
  :class:`~upsample1d.layers.Snake1D`.
- :func:`load_checkpoint` / :func:`save_checkpoint`: a local directory as the official package
  saves it (``config.json`` and ``bigvgan_generator.pt`` holding ``{"generator":
  state_dict}``), weight norm folded on the way in (``weight_g``/``weight_v`` and
  ``parametrizations.weight.original0/1``), written back with weight norm so that
  ``bigvgan.BigVGAN.from_pretrained(directory)`` and the official training code load it.
  Nothing is downloaded: fetching a checkpoint from a hub is the caller's business.
- :func:`from_state_dict` / :func:`state_dict`: the same mapping on a dict of NumPy arrays.

The mel front end that goes with it is :mod:`upsample1d.mel`.
"""

from __future__ import annotations

import json
import os
import time

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.layers import (
    UPSAMPLERS,
    AliasFreeActivation1D,
    Snake1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.layers._base import Layer, pin_channels
from upsample1d.mel import bigvgan_mel
from upsample1d.ops import kaiser_sinc_filter
from upsample1d.vocoder import (  # check_config there: vocode checks before Keras starts
    ACTIVATIONS,
    CONFIG_FILE,
    RESBLOCKS,
    WEIGHTS_FILE,
    check_config,
    read_config,
    read_torch_weights,
    write_wav,
)

FILTER_TAPS = 12  # alias-free-torch's Activation1d(up_ratio=2, down_ratio=2): 12-tap filters


@keras.saving.register_keras_serializable(package="upsample1d")
class DilatedConv1D(Layer):
    """A stride-1 convolution with ``padding="same"`` and a dilation, channels_first or
    channels_last: ``out[t] = sum_k x[t + k d - ((K - 1) d) // 2] @ kernel[k] + bias`` (zeros
    outside; Keras' "same"), i.e. torch's ``Conv1d(C_in, filters, K, dilation=d,
    padding=(K - 1) * d // 2)`` for odd ``K``. Unlike ``keras.layers.Conv1D``, channels_first
    runs on TensorFlow CPUs without oneDNN (there computed as channels_last between two
    transposes, as the package's own convolutions).

    The kernel is stored as ``(filters, C_in, K)``, torch's layout
    (:func:`upsample1d._backend.same_conv`): on torch it goes to ``conv1d`` as it is, with
    the bias fused (with Keras' layout stored, torch copies every kernel on every call: a
    quarter of BigVGAN's CPU time); elsewhere ``keras.ops.conv`` reads its transpose, which
    ``jax.jit`` / ``tf.function`` fold into the constant.

    Example:
    >>> import keras
    >>> from upsample1d.bigvgan import DilatedConv1D
    >>> DilatedConv1D(8, 3, dilation_rate=5)(keras.Input((None, 4))).shape
    (None, None, 8)
    """

    def __init__(self, filters, kernel_size, dilation_rate=1, use_bias=True, data_format=None,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = check.positive_int(filters, "filters")
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        self.dilation_rate = check.positive_int(dilation_rate, "dilation_rate")
        self.use_bias = check.boolean(use_bias, "use_bias")
        self.data_format = check.data_format(data_format)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def build(self, input_shape):
        channels = pin_channels(self, input_shape, self.data_format)
        keras_shape = (self.kernel_size, channels, self.filters)

        def initializer(shape, dtype=None):  # fans as for Keras' (K, C_in, filters) layout
            kernel = ops.convert_to_numpy(self.kernel_initializer(keras_shape, dtype))
            # contiguous: a strided view stored on torch would be copied on every call
            return np.ascontiguousarray(np.transpose(kernel, (2, 1, 0)))

        self.kernel = self.add_weight(name="kernel", shape=keras_shape[::-1],
                                      initializer=initializer)
        self.bias = self.add_weight(name="bias", shape=(self.filters,),
                                    initializer="zeros") if self.use_bias else None

    def call(self, inputs):
        # the variables' values (in the compute dtype under a mixed policy's autocast scope)
        weights = [w.value for w in (self.kernel, self.bias) if w is not None]
        kernel, bias = [w if w.dtype == inputs.dtype else ops.cast(w, inputs.dtype)
                        for w in weights] + [None] * (2 - len(weights))
        return _backend.same_conv(inputs, kernel, bias, self.dilation_rate, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[check.channel_axis(self.data_format)] = self.filters
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "dilation_rate": self.dilation_rate,
                "use_bias": self.use_bias, "data_format": self.data_format,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _snake(activation, logscale, data_format, name, dtype):
    snake = Snake1D(use_beta=activation == "snakebeta", alpha_logscale=logscale,
                    data_format=data_format, name=f"{name}_snake", dtype=dtype)
    return AliasFreeActivation1D(snake, up=2, down=2, up_kernel_size=FILTER_TAPS,
                                 down_kernel_size=FILTER_TAPS, data_format=data_format,
                                 name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="upsample1d")
class AMPBlock1D(Layer):
    """BigVGAN's anti-aliased multi-periodicity residual block (``AMPBlock1`` / ``AMPBlock2``).

    ``variant="1"``: for each dilation ``d``,
    ``x = x + conv2(act2(conv1_d(act1(x))))`` with ``conv1_d`` dilated by ``d`` and ``conv2``
    undilated; ``variant="2"``: ``x = x + conv_d(act(x))``. Every conv is a
    :class:`DilatedConv1D` ``(channels -> channels, kernel_size)`` with bias, every ``act`` an
    :class:`~upsample1d.layers.AliasFreeActivation1D` (2x, 12-tap filters) around a
    :class:`~upsample1d.layers.Snake1D` (``activation`` ``"snake"`` or ``"snakebeta"``,
    ``snake_logscale``). Shape-preserving: ``(B, T, C)`` or ``(B, C, T)``.
    """

    def __init__(self, channels, kernel_size=3, dilations=(1, 3, 5), variant="1",
                 activation="snakebeta", snake_logscale=True, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = check.positive_int(channels, "channels")
        self.kernel_size = check.positive_int(kernel_size, "kernel_size")
        self.dilations = [check.positive_int(d, "dilations") for d in dilations]
        self.variant = check.choice(str(variant), "variant", RESBLOCKS)
        self.activation = check.choice(activation, "activation", ACTIVATIONS)
        self.snake_logscale = check.boolean(snake_logscale, "snake_logscale")
        self.data_format = check.data_format(data_format)
        def convs(group, rates):
            return [DilatedConv1D(self.channels, self.kernel_size, d,
                                  data_format=self.data_format, name=f"{group}_{n}",
                                  dtype=self.dtype_policy)
                    for n, d in enumerate(rates)]

        # variant 2's convs are torch's `convs`; variant 1 has `convs1` and `convs2`
        self.convs1 = convs("convs1" if self.variant == "1" else "convs", self.dilations)
        self.convs2 = convs("convs2", [1] * len(self.dilations)) if self.variant == "1" else []
        self.acts = [_snake(self.activation, self.snake_logscale, self.data_format,
                            f"activations_{n}", self.dtype_policy)
                     for n in range(len(self.convs1) + len(self.convs2))]

    def build(self, input_shape):
        pin_channels(self, input_shape, self.data_format)
        for layer in (*self.acts, *self.convs1, *self.convs2):
            layer.build(input_shape)

    def call(self, x):
        # The sublayers' own `call`: built here, with this block's dtype policy (its
        # autocast scope is theirs) and its input checks (`build` pins the channels), they
        # need nothing else of `Layer.__call__`, which costs about 0.1 ms each on eager
        # torch: 216 calls, 2-3% of a BigVGAN forward pass at 1 s of audio.
        if self.variant == "1":
            pairs = zip(self.convs1, self.convs2, self.acts[::2], self.acts[1::2], strict=True)
            for conv1, conv2, act1, act2 in pairs:
                x = conv2.call(act2.call(conv1.call(act1.call(x)))) + x
            return x
        for conv, act in zip(self.convs1, self.acts, strict=True):
            x = conv.call(act.call(x)) + x
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels,
                "kernel_size": self.kernel_size, "dilations": self.dilations,
                "variant": self.variant, "activation": self.activation,
                "snake_logscale": self.snake_logscale, "data_format": self.data_format}


@keras.saving.register_keras_serializable(package="upsample1d")
class BigVGAN(keras.Model):
    """The BigVGAN generator (``bigvgan.BigVGAN``): log-mel spectrogram in, waveform out.

    ``conv_pre`` (:class:`DilatedConv1D`, ``num_mels -> C``, 7 taps) ; for each stage ``i``:
    an upsampler by ``upsample_rates[i]`` to ``C / 2**(i+1)`` channels (default
    :class:`~upsample1d.layers.TransposedConvUpsample1D` with ``upsample_kernel_sizes[i]``
    taps and a bias: torch's ``ConvTranspose1d(k, u, padding=(k - u) // 2)``), then the mean
    of one :class:`AMPBlock1D` per ``resblock_kernel_sizes`` entry; then an anti-aliased
    snake, ``conv_post`` (``-> 1`` channel, 7 taps, bias if ``use_bias_at_final``) and
    ``tanh`` (``use_tanh_at_final``) or a clamp to ``[-1, 1]``.

    Shapes: channels_first ``(B, num_mels, frames) -> (B, 1, frames * prod(upsample_rates))``
    (the official layout); channels_last ``(B, frames, num_mels) -> (B, samples, 1)``.

    Args:
        config: the official ``config.json`` as a dict (:func:`check_config`); other fields
            (mel settings, training) are kept in :attr:`hparams`.
        data_format: ``"channels_first"``, ``"channels_last"`` or None (Keras' default).
        upsampler: an :class:`~upsample1d.layers.Upsample1D` method; ``"transposed"``
            (default) is the official architecture and the only one whose checkpoints
            :func:`save_checkpoint` writes; the others are for new training.
        upsampler_options: more arguments for every upsampler (e.g.
            ``{"implementation": "native"}`` for the transposed one).
    """

    def __init__(self, config, data_format=None, upsampler="transposed",
                 upsampler_options=None, **kwargs):
        super().__init__(**kwargs)
        self.hparams = h = check_config(config)
        self.data_format = df = check.data_format(data_format)
        self.upsampler = check.choice(upsampler, "upsampler", tuple(UPSAMPLERS))
        self.upsampler_options = dict(upsampler_options or {})
        width = h["upsample_initial_channel"]
        dtype = self.dtype_policy
        self.conv_pre = DilatedConv1D(width, 7, data_format=df, name="conv_pre", dtype=dtype)
        self.ups, self.resblocks = [], []
        for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"],
                                               strict=True)):
            width //= 2
            self.ups.append(self._upsampler(width, u, k, f"ups_{i}"))
            for j, (size, rates) in enumerate(zip(h["resblock_kernel_sizes"],
                                                  h["resblock_dilation_sizes"], strict=True)):
                self.resblocks.append(AMPBlock1D(
                    width, size, rates, h["resblock"], h["activation"], h["snake_logscale"],
                    data_format=df, name=f"resblocks_{i}_{j}", dtype=dtype))
        self.activation_post = _snake(h["activation"], h["snake_logscale"], df,
                                      "activation_post", dtype)
        self.conv_post = DilatedConv1D(1, 7, use_bias=h["use_bias_at_final"], data_format=df,
                                       name="conv_post", dtype=dtype)

    def _upsampler(self, filters, factor, kernel_size, name):
        if self.upsampler == "transposed":
            options = {"kernel_size": kernel_size, "use_bias": True, **self.upsampler_options}
            return TransposedConvUpsample1D(filters, factor, data_format=self.data_format,
                                            name=name, dtype=self.dtype_policy, **options)
        return Upsample1D(filters, factor, method=self.upsampler, data_format=self.data_format,
                          name=name, dtype=self.dtype_policy, **self.upsampler_options)

    def build(self, input_shape):
        input_shape = check.rank3_shape(input_shape, "BigVGAN")
        mels = input_shape[check.channel_axis(self.data_format)]
        if mels not in (None, self.hparams["num_mels"]):
            raise ValueError(f"BigVGAN expects {self.hparams['num_mels']} mel channels "
                             f"(num_mels), got input shape {input_shape} ({self.data_format}).")

        def build(layer, channels):  # once: `bigvgan()` returns a built model
            if not layer.built:
                layer.build(self.input_shape_for()[:1] + (
                    (channels, None) if self.data_format == "channels_first"
                    else (None, channels)))

        width = self.hparams["upsample_initial_channel"]
        build(self.conv_pre, self.hparams["num_mels"])
        n = len(self.hparams["resblock_kernel_sizes"])
        for i, up in enumerate(self.ups):
            build(up, width)
            width //= 2
            for block in self.resblocks[i * n:(i + 1) * n]:
                build(block, width)
        build(self.activation_post, width)
        build(self.conv_post, width)

    def call(self, mel):
        x = self.conv_pre(mel)
        n = len(self.hparams["resblock_kernel_sizes"])
        for i, up in enumerate(self.ups):
            x = up(x)
            xs = None
            for block in self.resblocks[i * n:(i + 1) * n]:
                xs = block(x) if xs is None else xs + block(x)
            x = xs / n
        x = self.conv_post(self.activation_post(x))
        return _backend.tanh(x) if self.hparams["use_tanh_at_final"] else ops.clip(x, -1.0, 1.0)

    def as_functional(self):
        """This generator as a functional ``keras.Model`` on the same layers (the same
        weights, any number of frames): what :class:`upsample1d.streaming.Stream` runs
        (``Stream(model)`` calls it)."""
        mel = keras.Input(self.input_shape_for()[1:], dtype=self.compute_dtype)
        return keras.Model(mel, self.call(mel), name=self.name)

    @property
    def hop_size(self):
        """Output samples per mel frame: the product of ``upsample_rates``."""
        return int(np.prod(self.hparams["upsample_rates"]))

    def input_shape_for(self, frames=None):
        """The model's input shape for ``frames`` mel frames (None: any)."""
        mels = self.hparams["num_mels"]
        if self.data_format == "channels_first":
            return (None, mels, frames)
        return (None, frames, mels)

    def compute_output_shape(self, input_shape):
        axis = check.time_axis(self.data_format)
        frames = input_shape[axis]
        shape = [input_shape[0], 1, 1]
        shape[axis] = None if frames is None else frames * self.hop_size
        return tuple(shape)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
                "config": self.hparams, "data_format": self.data_format,
                "upsampler": self.upsampler, "upsampler_options": self.upsampler_options}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)


def bigvgan(config, data_format=None, upsampler="transposed", upsampler_options=None,
            name="bigvgan", dtype=None):
    """A built :class:`BigVGAN` generator for the official ``config`` (a dict as in
    ``config.json``), with fresh weights; :func:`load_checkpoint` fills them from an
    official checkpoint.

    Example:
    >>> from upsample1d.models import bigvgan
    >>> config = {"num_mels": 80, "upsample_rates": [4, 2], "upsample_kernel_sizes": [8, 4],
    ...           "upsample_initial_channel": 32, "resblock": "1",
    ...           "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3]],
    ...           "activation": "snakebeta", "snake_logscale": True}
    >>> model = bigvgan(config, data_format="channels_first")
    >>> model.compute_output_shape((None, 80, 50))          # 8 samples per frame
    (None, 1, 400)
    """
    model = BigVGAN(config, data_format=data_format, upsampler=upsampler,
                    upsampler_options=upsampler_options, name=name, dtype=dtype)
    model.build(model.input_shape_for())
    return model


# --- checkpoints: the official state dict <-> this model's weights ---------------------------
#
# Convolution weights: torch's Conv1d holds (out, in, K), as DilatedConv1D does; its
# ConvTranspose1d holds (in, out, K) and TransposedConvUpsample1D (K, out, in) (Keras' layout),
# so that one maps by reversing the axes. Neither side flips the taps: torch's ConvTranspose1d
# and this package's transposed layer both compute full[n] = sum_t x[t] w[n - t*stride], and
# padding (k - u) // 2 is the centring the transposed layer applies.

_WEIGHT_NORM = (("weight_g", "weight_v"),
                ("parametrizations.weight.original0", "parametrizations.weight.original1"))


def _modules(model):
    """``(torch module name, kind, layer)`` for every module of the official generator that
    holds weights: kind ``"conv"`` (Conv1d), ``"up"`` (ConvTranspose1d) or ``"act"``
    (Activation1d around Snake / SnakeBeta)."""
    if model.upsampler != "transposed":
        raise ValueError(f"only upsampler='transposed' has the official checkpoint layout; "
                         f"this model uses upsampler={model.upsampler!r}.")
    yield "conv_pre", "conv", model.conv_pre
    n = len(model.hparams["resblock_kernel_sizes"])
    for i, up in enumerate(model.ups):
        yield f"ups.{i}.0", "up", up
        for j, block in enumerate(model.resblocks[i * n:(i + 1) * n]):
            prefix = f"resblocks.{i * n + j}"
            first = "convs1" if block.variant == "1" else "convs"
            for group, convs in ((first, block.convs1), ("convs2", block.convs2)):
                for m, conv in enumerate(convs):
                    yield f"{prefix}.{group}.{m}", "conv", conv
            for m, act in enumerate(block.acts):
                yield f"{prefix}.activations.{m}", "act", act
    yield "activation_post", "act", model.activation_post
    yield "conv_post", "conv", model.conv_post


def _lowpass():
    """The fixed filter of BigVGAN's Activation1d (both up and down, ratio 2, 12 taps), in
    its state-dict shape ``(1, 1, 12)``."""
    return kaiser_sinc_filter(0.25, 0.3, FILTER_TAPS).astype(np.float32).reshape(1, 1, -1)


def _stored(value):
    """float32 ``value`` as a checkpoint may hold it: as it is, or rounded to float16 or to
    bfloat16 (a half-precision checkpoint's filter buffers are too)."""
    bits = value.astype(np.float32).view(np.uint32)
    bfloat16 = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16).astype(np.uint32)
    return value, value.astype(np.float16).astype(np.float32), bfloat16.view(np.float32)


def _parameters(model):
    """``{torch name: (variable, torch shape, to_torch)}`` for the learned parameters, and
    ``{torch name: value}`` for the fixed filter buffers."""
    learned, buffers = {}, {}
    for name, kind, layer in _modules(model):
        if kind == "act":
            snake = layer.activation
            learned[f"{name}.act.alpha"] = (snake.alpha, tuple(snake.alpha.shape), None)
            if snake.beta is not None:
                learned[f"{name}.act.beta"] = (snake.beta, tuple(snake.beta.shape), None)
            buffers[f"{name}.upsample.filter"] = _lowpass()
            buffers[f"{name}.downsample.lowpass.filter"] = _lowpass()
            continue
        if kind == "conv":  # DilatedConv1D stores torch's layout
            learned[f"{name}.weight"] = (layer.kernel, tuple(layer.kernel.shape), None)
        else:  # the transposed layer: Keras' (K, out, in) for torch's (in, out, K)
            learned[f"{name}.weight"] = (layer.kernel, tuple(layer.kernel.shape)[::-1],
                                         (2, 1, 0))
        if layer.bias is not None:
            learned[f"{name}.bias"] = (layer.bias, tuple(layer.bias.shape), None)
    return learned, buffers


def _fold(g, v):
    """Weight norm folded: ``v * g / ||v||``, the norm over every axis but the first (torch's
    ``weight_norm(dim=0)``), computed in float64."""
    v = np.asarray(v, np.float64)
    norm = np.sqrt(np.sum(v * v, axis=tuple(range(1, v.ndim)), keepdims=True))
    return v * (np.asarray(g, np.float64).reshape(norm.shape) / norm)


def _plain(weights, used):
    """The state dict with every weight-normed ``weight`` folded; the keys read go to
    ``used``."""
    plain = dict(weights)
    for key in weights:
        for g_suffix, v_suffix in _WEIGHT_NORM:
            if key.endswith("." + g_suffix):
                prefix = key[:-len(g_suffix)]
                v_key = prefix + v_suffix
                if v_key not in weights:
                    continue
                g, v = np.asarray(weights[key]), np.asarray(weights[v_key])
                g_shape = (v.shape[0],) + (1,) * (v.ndim - 1) if v.ndim else None
                if g.shape != g_shape:
                    raise ValueError(f"checkpoint key {key!r} has shape {g.shape}, which does "
                                     f"not fit {v_key!r} of shape {v.shape} (torch's weight "
                                     f"norm has {g_shape}).")
                # one weight given twice (plain and weight-normed, or in both namings): the
                # official load_state_dict refuses it, and folding would drop one unseen
                if prefix + "weight" in plain:
                    given = (repr(prefix + "weight") if prefix + "weight" in weights else
                             "the other weight-norm naming")
                    raise ValueError(f"the checkpoint gives {prefix}weight twice: as {key!r} "
                                     f"with {v_key!r} and as {given}.")
                plain[prefix + "weight"] = _fold(g, v)
                del plain[key], plain[v_key]
                used.update((key, v_key))
    return plain


def from_state_dict(model, weights):
    """Set ``model``'s weights (a :class:`BigVGAN`, upsampler ``"transposed"``) from the
    official generator's ``state_dict`` (a mapping of names to arrays: NumPy, torch tensors,
    anything ``np.asarray`` reads). Weight norm is folded, in either of torch's namings.
    Raises ValueError listing every missing key, unexpected key and wrong shape (with both
    shapes), or a fixed filter that is not BigVGAN's; nothing is set then. A weight given
    twice (plain and weight-normed, or in both namings) is refused, as the official strict
    load refuses it. A half-precision state dict loads: its fixed filters, rounded to float16
    or bfloat16, are recognised, and the model keeps BigVGAN's float32 ones."""
    weights = {key: _numpy(value) for key, value in weights.items()}
    learned, buffers = _parameters(model)
    plain = _plain(weights, set())
    problems, values = [], {}
    for key, (_, shape, _) in learned.items():
        if key not in plain:
            problems.append(f"missing {key} (this config expects shape {shape})")
        elif tuple(plain[key].shape) != shape:
            problems.append(f"{key}: the checkpoint has shape {tuple(plain[key].shape)}, this "
                            f"config expects {shape}")
        else:
            values[key] = plain[key]
    for key, value in buffers.items():
        if key not in plain:
            problems.append(f"missing {key} (this config expects shape {value.shape})")
        elif plain[key].shape != value.shape or not any(
                np.abs(plain[key] - rounded).max() <= 1e-6 for rounded in _stored(value)):
            problems.append(f"{key} is not BigVGAN's 12-tap Kaiser-sinc filter (shape "
                            f"{plain[key].shape}, expected {value.shape})")
    extra = sorted(set(plain) - set(learned) - set(buffers))
    problems += [f"unexpected {key} (shape {tuple(plain[key].shape)})" for key in extra]
    if problems:
        raise ValueError("the checkpoint does not fit this BigVGAN config: "
                         + "; ".join(problems) + ".")
    for key, (variable, _, axes) in learned.items():
        value = values[key] if axes is None else np.transpose(values[key], axes)
        variable.assign(value.astype(keras.backend.standardize_dtype(variable.dtype)))
    return model


def state_dict(model):
    """``model``'s weights as the official generator's ``state_dict`` without weight norm
    (the keys of ``bigvgan.BigVGAN(h)`` after ``remove_weight_norm()``), float32 NumPy: the
    learned parameters, then the fixed filter buffers."""
    learned, buffers = _parameters(model)
    out = {}
    for key, (variable, _, axes) in learned.items():
        value = np.asarray(ops.convert_to_numpy(variable), np.float32)
        out[key] = value if axes is None else np.ascontiguousarray(np.transpose(value, axes))
    out.update(buffers)
    return out


def _numpy(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


# --- checkpoint directories ------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError(f"writing {WEIGHTS_FILE} (or reading torch's legacy format) needs "
                          "PyTorch (any backend may run the model): pip install torch"
                          ) from None
    return torch


def load_checkpoint(directory, data_format=None, upsampler_options=None, name="bigvgan"):
    """A :class:`BigVGAN` with the weights of the official checkpoint in ``directory`` (a
    local folder as ``bigvgan.BigVGAN.save_pretrained`` writes it, or as downloaded from the
    hub: ``config.json`` and ``bigvgan_generator.pt``). The ``.pt`` file is read without
    PyTorch (:func:`upsample1d.vocoder.read_torch_weights`: tensors and containers only, as
    ``torch.load(weights_only=True)``); only torch's legacy format (before torch 1.6) needs
    torch installed. Reads nothing from the network. Weight norm,
    present or removed, is folded. ValueError if the weights do not fit the config
    (:func:`from_state_dict`)."""
    model = bigvgan(read_config(directory), data_format=data_format,
                    upsampler_options=upsampler_options, name=name)
    path = os.path.join(directory, WEIGHTS_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no {WEIGHTS_FILE} in {directory!r}.")
    try:
        checkpoint = read_torch_weights(path)
    except ValueError as error:  # torch's legacy format (before 1.6) needs torch itself
        if "not in torch's zip format" not in str(error):
            raise
        checkpoint = _torch().load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or "generator" not in checkpoint:
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint)
        raise ValueError(f"{path} holds no 'generator' state dict (found {found}).")
    return from_state_dict(model, checkpoint["generator"])


def save_checkpoint(model, directory, weight_norm=True):
    """Write ``model`` (a :class:`BigVGAN` with the transposed upsampler) to ``directory`` in
    the official format: ``config.json`` (:attr:`BigVGAN.hparams`) and
    ``bigvgan_generator.pt`` holding ``{"generator": state_dict}``. With ``weight_norm``
    (default) every convolution is stored as torch's ``weight_norm`` stores it
    (``weight_g``, ``weight_v``, with ``g`` computed by torch so that the official code
    rebuilds exactly these weights), which ``bigvgan.BigVGAN.from_pretrained`` and the
    official training code load; ``weight_norm=False`` stores plain ``weight`` tensors (what
    ``from_pretrained`` loads after its ``remove_weight_norm``). Needs PyTorch."""
    torch = _torch()
    weights = {}
    for key, value in state_dict(model).items():
        tensor = torch.from_numpy(np.ascontiguousarray(value))
        if weight_norm and key.endswith(".weight"):
            prefix = key[:-len("weight")]
            weights[prefix + "weight_g"] = torch.norm_except_dim(tensor, 2, 0)
            weights[prefix + "weight_v"] = tensor
        else:
            weights[key] = tensor
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(model.hparams, f, indent=4)
    torch.save({"generator": weights}, os.path.join(directory, WEIGHTS_FILE))
    return directory


def copy_synthesis(directory, out_path, audio=None, mel=None, status=print):
    """Load the checkpoint, make the mel of ``audio`` (or take ``mel``), run the generator and
    write ``out_path``. Returns a dict with the durations, the real-time factor (generation
    time / audio duration) and the backend. ``status(text)`` is told each stage."""
    status("loading the checkpoint")
    start = time.perf_counter()
    model = load_checkpoint(directory, data_format="channels_first")
    rate = model.hparams.get("sampling_rate", 0)
    loaded = time.perf_counter() - start
    if mel is None:
        status(f"mel spectrogram of {len(audio) / rate:.2f} s of audio")
        mel = bigvgan_mel(model.hparams, data_format="channels_first")(audio[None])
    frames = int(mel.shape[2])
    status(f"generating {frames * model.hop_size} samples from {frames} mel frames "
           f"(first call compiles)")
    start = time.perf_counter()
    # predict: compiled as Keras runs inference (jax.jit, tf.function; torch eager)
    y = np.asarray(model.predict(keras.ops.convert_to_numpy(mel), batch_size=1, verbose=0))[0, 0]
    seconds = time.perf_counter() - start
    status(f"writing {out_path}")
    write_wav(out_path, y, rate)
    duration = len(y) / rate if rate else float("nan")
    return {"load_s": loaded, "generate_s": seconds, "audio_s": duration,
            "rtf": seconds / duration if duration else float("nan"),
            "backend": keras.backend.backend(), "samples": len(y), "rate": rate}
