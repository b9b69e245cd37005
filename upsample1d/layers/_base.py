"""What every layer of the package shares."""

from __future__ import annotations

import warnings

import keras
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check


class Layer(keras.layers.Layer):
    """A Keras layer that runs, and builds its weights, on the device of its input (torch:
    see :func:`upsample1d._backend.device_scope`; elsewhere this is Keras' own ``Layer``)."""

    def __call__(self, *args, **kwargs):
        with _backend.device_scope(args[0] if args else kwargs.get("inputs")):
            return super().__call__(*args, **kwargs)


def pin_channels(layer, input_shape, data_format):
    """The channel count of ``input_shape``, which ``layer`` builds weights for: from now on
    its ``input_spec`` refuses any other (a multiple would otherwise run as a grouped
    convolution, or broadcast, without an error)."""
    input_shape = check.rank3_shape(input_shape, type(layer).__name__)
    axis = check.channel_axis(data_format)
    channels = input_shape[axis]
    if channels is None:
        raise ValueError(f"{type(layer).__name__} needs a known channel dimension, got input "
                         f"shape {input_shape} ({data_format}).")
    # -1 for channels_last, as Keras' Conv1D, so the error names the axis as Keras users know
    spec_axis = -1 if data_format == "channels_last" else axis
    layer.input_spec = keras.layers.InputSpec(ndim=3, axes={spec_axis: channels})
    return channels


class ConvResampler(Layer):
    """Arguments, weights, checks and config shared by the learned up- and downsamplers: a
    kernel and an optional bias with Keras' ``Conv1D`` options, ``filters`` output channels,
    resampling by ``factor``. Subclasses give ``build`` (with :meth:`_add_kernel_and_bias`),
    ``_resample(inputs)`` and ``compute_output_shape``."""

    def __init__(self, filters, factor, data_format=None, use_bias=False,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check.positive_int(filters, "filters")
        self.factor = check.positive_int(factor, "factor")
        self.data_format = check.data_format(data_format)
        self.use_bias = check.boolean(use_bias, "use_bias")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def _channels(self, input_shape):
        """The input channels of the build shape, pinned in ``input_spec`` (as Keras' Conv1D)."""
        return pin_channels(self, input_shape, self.data_format)

    def _input_shape(self, channels):
        """A build shape with ``channels`` input channels."""
        if self.data_format == "channels_last":
            return (None, None, channels)
        return (None, channels, None)

    def _add_kernel_and_bias(self, kernel_shape, bias_size=None):
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(bias_size or self.filters,),
                initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)

    def _add_bias(self, y):
        if self.bias is None:
            return y
        if self.data_format == "channels_last":
            return y + self.bias
        return y + ops.reshape(self.bias, (1, -1, 1))

    def call(self, inputs):
        check.floating(inputs.dtype, type(self).__name__)
        if inputs.shape[check.time_axis(self.data_format)] == 0:
            # Convolutions cannot run on an empty time axis on every backend; the answer is
            # known: no samples in, none out.
            shape = [ops.shape(inputs)[0], 0, 0]
            shape[check.channel_axis(self.data_format)] = self.filters
            return ops.zeros(tuple(shape), dtype=self.compute_dtype)
        return self._resample(inputs)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "factor": self.factor,
            "data_format": self.data_format,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
        })
        return config


class ChosenResampler(Layer):
    """A learned resampler chosen by name (``Upsample1D``, ``Downsample1D``): it holds one
    layer of ``CHOICES[method]`` as the attribute named ``ROLE`` and forwards to it, so one
    string swaps the resampler in an architecture. Serializes as ``method`` plus the chosen
    layer's own options."""

    CHOICES = {}  # method -> (layer class, its fixed options)
    ROLE = ""

    def __init__(self, filters, factor, method, name=None, dtype=None, trainable=True,
                 **options):
        super().__init__(name=name, dtype=dtype, trainable=trainable)
        self.method = check.choice(method, "method", tuple(self.CHOICES))
        layer_cls, fixed = self.CHOICES[self.method]
        # The attribute's name is the path of the weights in saved .keras files.
        # trainable passed on: Keras' Layer(trainable=False) freezes the layer's own weights,
        # not a sub-layer's
        setattr(self, self.ROLE, layer_cls(filters, factor, **fixed, **options,
                                           dtype=self.dtype_policy, trainable=trainable,
                                           name=f"{self.method}_{self.ROLE}"))
        self.filters = self.chosen.filters
        self.factor = self.chosen.factor

    @property
    def chosen(self):
        """The layer that does the work."""
        return getattr(self, self.ROLE)

    def build(self, input_shape):
        self.chosen.build(input_shape)

    def call(self, inputs):
        return self.chosen(inputs)

    def compute_output_shape(self, input_shape):
        return self.chosen.compute_output_shape(input_shape)

    def get_config(self):
        skip = ("name", "trainable", "dtype", "filters", "factor", "method")
        options = {k: v for k, v in self.chosen.get_config().items() if k not in skip}
        return {**super().get_config(), "filters": self.filters, "factor": self.factor,
                "method": self.method, **options}


CONVERSION_DROPS = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                    "kernel_constraint", "bias_constraint")


def converted_options(source, conversion):
    """``(layer, options)`` for a conversion of ``source`` (a layer, or a
    :class:`ChosenResampler` holding it): the layer doing the work, and what the new layer
    keeps of ``source`` besides its weights: its name and whether it trains. Regularizers and
    constraints act on the source kernel's own layout (a tiled bias, phases in another
    order), so they are not carried; a UserWarning names them."""
    layer = unwrap(source)
    dropped = [f"{attribute} {getattr(layer, attribute)!r}" for attribute in CONVERSION_DROPS
               if getattr(layer, attribute, None) is not None]
    if dropped:
        warnings.warn(f"{conversion} does not carry {source.name}'s {', '.join(dropped)}: "
                      "they act on that layer's kernel layout; set them on the new layer if "
                      "it is to be trained.", UserWarning, stacklevel=3)
    return layer, {"name": getattr(source, "name", None),
                   "trainable": getattr(source, "trainable", True)}


def unwrap(layer):
    """The layer doing the work: ``layer`` itself, or the one a :class:`ChosenResampler`
    holds."""
    return layer.chosen if isinstance(layer, ChosenResampler) else layer
