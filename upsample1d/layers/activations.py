"""Periodic and anti-aliased activations for audio generators (BigVGAN, Lee et al. 2023).

- :class:`Snake1D`: ``x + sin^2(alpha x) / alpha`` with a learnable ``alpha`` per channel
  (Ziyin et al. 2020), or SnakeBeta's ``x + sin^2(alpha x) / beta``;
- :class:`AliasFreeActivation1D`: any activation run at ``up`` times the rate between an
  exact windowed-sinc upsampler and a low-pass decimator, as alias-free-torch's
  ``Activation1d``, on every backend (:mod:`upsample1d.ops.alias_free`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check
from upsample1d.layers._base import Layer, pin_channels
from upsample1d.ops.alias_free import FILTERS, _activate

SNAKES = {"snake": False, "snakebeta": True}
# keras.activations that mix samples along an axis: not a pointwise nonlinearity
NOT_ELEMENTWISE = ("softmax", "log_softmax", "glu", "sparsemax")
EPSILON = 1e-9  # BigVGAN's no_div_by_zero


@keras.saving.register_keras_serializable(package="upsample1d")
class Snake1D(Layer):
    """Snake: ``y = x + sin^2(alpha_c x) / (beta_c + 1e-9)``, one ``alpha`` (and ``beta``)
    per channel ``c``, learnable; ``beta = alpha`` unless ``use_beta`` (SnakeBeta).

    As BigVGAN's ``Snake`` / ``SnakeBeta`` (activations.py): the parameters start at ``alpha``
    (both of them); with ``alpha_logscale=True`` they are stored as logs and exponentiated in
    every call (BigVGAN's ``alpha_logscale``: the weights start at ``log(alpha)``, 0 for the
    default ``alpha=1.0``, where BigVGAN starts at 0 whatever ``alpha`` is). The ``1e-9`` is
    BigVGAN's guard against a division by zero; ``1 / (beta + 1e-9)`` is also clipped to the
    largest finite value of the compute dtype, so a ``beta`` near 0 gives no inf or NaN in
    float16. A float16 or bfloat16 input is computed in float32 and the output cast back: in
    float16 the gradients overflow for a ``beta`` under ~4e-3 (a loss-scaled
    ``mixed_float16`` fit would skip every step). ``trainable=False`` freezes the parameters
    (BigVGAN's ``alpha_trainable``).

    Args:
        alpha: initial ``alpha`` (and ``beta``), a positive number (default 1.0).
        use_beta: learn a separate ``beta`` (SnakeBeta; default False).
        alpha_logscale: store ``log(alpha)`` (and ``log(beta)``) (default False).
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (Keras' default).

    Input and output shape: ``(B, T, C)`` (channels_last) or ``(B, C, T)``; weights
    ``alpha`` (and ``beta``) of shape ``(C,)``.

    Example:
    >>> import numpy as np
    >>> from keras.ops import convert_to_numpy
    >>> from upsample1d.layers import Snake1D
    >>> y = Snake1D()(np.full((1, 1, 2), np.pi / 2, np.float32))  # pi/2 + sin^2(pi/2) / 1
    >>> np.round(convert_to_numpy(y).astype(float), 4).tolist()
    [[[2.5708, 2.5708]]]
    """

    def __init__(self, alpha=1.0, use_beta=False, alpha_logscale=False, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_init = check.positive_number(alpha, "alpha")
        self.use_beta = check.boolean(use_beta, "use_beta")
        self.alpha_logscale = check.boolean(alpha_logscale, "alpha_logscale")
        self.data_format = check.data_format(data_format)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        # element-wise and length-preserving: a Keras mask still marks the same steps
        self.supports_masking = True

    def build(self, input_shape):
        channels = pin_channels(self, input_shape, self.data_format)
        start = np.log(self.alpha_init) if self.alpha_logscale else self.alpha_init
        self.alpha = self.add_weight(name="alpha", shape=(channels,),
                                     initializer=keras.initializers.Constant(start))
        self.beta = None
        if self.use_beta:
            self.beta = self.add_weight(name="beta", shape=(channels,),
                                        initializer=keras.initializers.Constant(start))

    def call(self, inputs):
        check.floating(inputs.dtype, "Snake1D")
        return self.snake(inputs, self.data_format)

    def snake(self, x, data_format):
        """The activation on ``x`` laid out as ``data_format`` (the layer must be built)."""
        return self.snake_function(x.dtype, data_format)(x)

    def snake_function(self, dtype, data_format):
        """The activation as a function of tensors of ``dtype`` laid out as ``data_format``,
        its per-channel factors computed once (the layer must be built): for a caller that
        applies it more than once per call (:class:`AliasFreeActivation1D`). In torch
        inference the factors are kept until the weights change (:func:`upsample1d._backend.
        derived`)."""
        weights = [w for w in (self.alpha, self.beta) if w is not None]
        dtype = keras.backend.standardize_dtype(dtype)
        # 16-bit inputs are computed in float32: in float16 the backward pass overflows once
        # a beta is under ~4e-3 (1 / beta^2, and the loss scale times 1 / beta, pass 65504),
        # so the gradients are inf or NaN and a loss-scaled fit skips every step
        compute = "float32" if dtype in ("float16", "bfloat16") else dtype
        alpha, inverse = _backend.derived(
            self, lambda: self._factors(compute, data_format, dtype), weights, dtype,
            data_format)
        if compute == dtype:
            return lambda x: x + inverse * ops.square(_backend.sin(x * alpha))

        def snake(x):
            v = ops.cast(x, compute)
            return ops.cast(v + inverse * ops.square(_backend.sin(v * alpha)), dtype)

        return snake

    def _factors(self, dtype, data_format, output_dtype):
        """``(alpha, 1 / (beta + 1e-9))`` in ``dtype``, shaped to broadcast over a tensor
        laid out as ``data_format``; ``1 / (beta + 1e-9)`` clipped to the largest finite
        value of ``output_dtype``."""
        shape = (1, 1, -1) if data_format == "channels_last" else (1, -1, 1)
        alpha = ops.cast(self.alpha, dtype)
        beta = alpha if self.beta is None else ops.cast(self.beta, dtype)
        if self.alpha_logscale:
            alpha = ops.exp(alpha)
            beta = alpha if self.beta is None else ops.exp(beta)
        largest = 65504.0 if output_dtype == "float16" else 3e38
        inverse = ops.clip(1.0 / (beta + EPSILON), -largest, largest)
        # weights, never symbolic: the backend's reshape (_backend.reshape: no pytree walk)
        return _backend.reshape(alpha, shape), _backend.reshape(inverse, shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha_init, "use_beta": self.use_beta,
                "alpha_logscale": self.alpha_logscale, "data_format": self.data_format}


def _activation(activation, dtype=None):
    """``(name or None, callable)`` for the ``activation`` argument of the layer below; a
    ``"snake"`` / ``"snakebeta"`` name makes a :class:`Snake1D` with the dtype policy
    ``dtype``."""
    if isinstance(activation, dict):  # a serialized layer or function (get_config)
        activation = keras.saving.deserialize_keras_object(activation)
    if isinstance(activation, str):
        name = activation.lower()  # the one letter-case rule of every string option
        if name in SNAKES:
            return name, Snake1D(use_beta=SNAKES[name], data_format="channels_first",
                                 dtype=dtype)
        if name in NOT_ELEMENTWISE:
            raise ValueError(f"`activation` must act on each sample alone; {activation!r} "
                             f"mixes samples along an axis, got activation={activation!r}.")
        try:
            return name, _backend.keras_activation(name)
        except ValueError:
            raise ValueError(f"`activation` must be a Keras activation name, 'snake', "
                             f"'snakebeta' or a callable, got activation={activation!r}."
                             ) from None
    if not callable(activation):
        raise TypeError(f"`activation` must be a Keras activation name, 'snake', 'snakebeta' "
                        f"or a callable, got {activation!r} of type "
                        f"{type(activation).__name__}.")
    name = getattr(activation, "__name__", None)
    if isinstance(name, str):
        try:  # a Keras activation passed as a function: keep its name
            known = keras.activations.get(name) is activation
        except (ValueError, TypeError):
            known = False
        if known and name in NOT_ELEMENTWISE:
            raise ValueError(f"`activation` must act on each sample alone; {name} mixes "
                             f"samples along an axis, got activation={activation!r}.")
        if known:
            return name, _backend.keras_activation(name)
    return None, activation


@keras.saving.register_keras_serializable(package="upsample1d")
class AliasFreeActivation1D(Layer):
    """An activation applied at ``up`` times the sample rate: upsample with a windowed sinc,
    apply the nonlinearity, low-pass at the input Nyquist and downsample by ``down``, as
    alias-free-torch's ``Activation1d`` (BigVGAN's anti-aliased multi-periodicity block).

    ``y = D(f(U(x)))`` with ``U`` = :func:`~upsample1d.ops.upsample_alias_free_1d`
    ``(up, up_kernel_size)`` and ``D`` = :func:`~upsample1d.ops.downsample_alias_free_1d`
    ``(down, down_kernel_size)``, both with replicated edges; with ``h_r`` =
    ``kaiser_sinc_filter(0.5 / r, 0.6 / r, K)``:
    ``U(x)[t*up + i] = up * sum_s h_up[(t - s) up + i + (K_up - up) // 2] x_p[s]`` and
    ``D(v)[t] = sum_k h_down[k] v_e[t down + k - (K_down // 2 - 1)]`` (even ``K_down``).
    ``U`` runs as ``up`` phases at the input rate then the shuffle, ``D`` as ``down``
    phases folded from the high-rate signal and one convolution at the output rate: nothing
    is computed on zero-stuffed samples or thrown away. ``filter="sinc_bank"`` swaps both
    filters for :func:`~upsample1d.ops.sinc_bank`'s design. A nonlinearity makes harmonics
    above the input Nyquist; at the higher rate they fit, and the low-pass removes them
    instead of letting them fold back (alias) into the band (:func:`upsample1d.artifacts.
    measure_aliasing` measures how much). Alignment: with the ``"alias_free_torch"`` filters
    the output lags the input by ``0`` samples for ``up = down = 2`` (BigVGAN) but by a
    fraction of a sample at other ratios (1/3 at 3, 1/4 at 4: alias-free-torch's upsampler
    is half-pixel aligned, its decimator is not), kept for parity; ``"sinc_bank"`` is
    centred at every ratio.

    Args:
        activation: a Keras activation name (``"tanh"``, ``"leaky_relu"``, ...),
            ``"snake"`` / ``"snakebeta"`` (a :class:`Snake1D` sub-layer with a learnable
            ``alpha`` (and ``beta``) per channel, with this layer's dtype policy), a
            :class:`Snake1D` or other Keras layer, or a callable. Names run on the internal
            channels_first layout, a ``Snake1D`` on its own ``data_format``, other callables
            and layers on the layer's ``data_format``.
        up, down: the ratios (default 2, 2); output length ``ceil(T * up / down)``.
        up_kernel_size, down_kernel_size: filter lengths (default 12, as alias-free-torch),
            ``up_kernel_size > up``.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (Keras' default).
        filter: ``"alias_free_torch"`` (default: the filters of alias-free-torch 0.0.6, the
            same outputs to float rounding) or ``"sinc_bank"``.

    Input shape: ``(B, T, C)`` (channels_last) or ``(B, C, T)``.
    Output shape: ``(B, ceil(T * up / down), C)`` or ``(B, C, ceil(T * up / down))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import AliasFreeActivation1D
    >>> AliasFreeActivation1D("snake")(keras.Input((None, 32))).shape
    (None, None, 32)
    """

    def __init__(self, activation, up=2, down=2, up_kernel_size=12, down_kernel_size=12,
                 data_format=None, filter="alias_free_torch", **kwargs):
        super().__init__(**kwargs)
        self.up = check.positive_int(up, "up")
        self.down = check.positive_int(down, "down")
        self.filter = check.choice(filter, "filter", FILTERS)
        self.up_kernel_size = check.alias_free_kernel_size(up_kernel_size, self.up,
                                                           "up_kernel_size", self.filter, True)
        self.down_kernel_size = check.alias_free_kernel_size(
            down_kernel_size, self.down, "down_kernel_size", self.filter, False)
        self.data_format = check.data_format(data_format)
        self.activation_name, self.activation = _activation(activation, self.dtype_policy)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        if not self.trainable and isinstance(self.activation, keras.layers.Layer):
            # Keras' Layer(trainable=False) freezes the layer's own weights, not a sub-layer's
            self.activation.trainable = False

    @property
    def _layout(self):
        """The layout the activation sees: the internal channels_first for names, a
        Snake1D's own, the layer's ``data_format`` for other callables and layers."""
        if self.activation_name is not None:
            return "channels_first"
        if isinstance(self.activation, Snake1D):
            return self.activation.data_format
        return self.data_format

    @property
    def _pointwise(self):
        """Whether the activation acts on each sample of each channel alone (then it may run
        on the upsampler's phases)."""
        return self.activation_name is not None or isinstance(self.activation, Snake1D)

    def build(self, input_shape):
        input_shape = check.rank3_shape(input_shape, "AliasFreeActivation1D")
        if isinstance(self.activation, keras.layers.Layer):
            shape = list(input_shape)  # what the activation sees: the high-rate signal
            axis = check.time_axis(self.data_format)
            shape[axis] = check.resampled_length(shape[axis], self.up)
            if self._layout != self.data_format:
                shape[1], shape[2] = shape[2], shape[1]
            if not self.activation.built:
                self.activation.build(tuple(shape))
            if self.activation.weights:  # per-channel weights: other channel counts refused
                channels = pin_channels(self, input_shape, self.data_format)
                self._check_snake_channels(channels)

    def _check_snake_channels(self, channels):
        """ValueError unless a held Snake1D (built before, perhaps for another input) has
        ``channels`` alphas: its function runs without its ``__call__``, so without the
        channel check of its own ``input_spec``, and one alpha would broadcast silently."""
        if not isinstance(self.activation, Snake1D):
            return
        built_for = self.activation.alpha.shape[0]
        if built_for != channels:
            raise ValueError(
                f"AliasFreeActivation1D got an input of {channels} channels, but its Snake1D "
                f"{self.activation.name!r} was built for {built_for} channels (alpha of shape "
                f"({built_for},)); pass an unbuilt Snake1D, or one built for {channels} "
                f"channels.")

    def _channels_first_activation(self, dtype):
        """The activation as a function of a channels_first tensor of ``dtype``. A
        :class:`Snake1D` is pointwise per channel, so it runs on that layout whatever its own,
        as its function (its factors computed once, not at each of its uses in a call)."""
        if isinstance(self.activation, Snake1D):
            return self.activation.snake_function(dtype, "channels_first")
        if self._layout == "channels_first":
            return self.activation
        return lambda x: ops.transpose(self.activation(ops.transpose(x, (0, 2, 1))),
                                       (0, 2, 1))

    def _activate(self, x):
        """The activation on the high-rate signal ``x``, laid out channels_first."""
        return self._channels_first_activation(x.dtype)(x)

    def call(self, inputs):
        check.floating(inputs.dtype, "AliasFreeActivation1D")
        x = inputs
        if self.data_format == "channels_last":
            x = ops.transpose(x, (0, 2, 1))
        x = _activate(x, self.up, self.down, self.up_kernel_size, self.down_kernel_size,
                      self.filter, self._channels_first_activation(x.dtype),
                      at_phases=self._pointwise)
        return ops.transpose(x, (0, 2, 1)) if self.data_format == "channels_last" else x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = check.time_axis(self.data_format)
        shape[axis] = check.resampled_length(shape[axis], self.up, self.down)
        return tuple(shape)

    def get_config(self):
        if self.activation_name is not None:
            activation = self.activation_name
        elif isinstance(self.activation, keras.layers.Layer):
            activation = keras.saving.serialize_keras_object(self.activation)
        else:
            activation = keras.activations.serialize(self.activation)
        return {**super().get_config(), "activation": activation, "up": self.up,
                "down": self.down, "up_kernel_size": self.up_kernel_size,
                "down_kernel_size": self.down_kernel_size, "data_format": self.data_format,
                "filter": self.filter}
