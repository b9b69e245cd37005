"""What every layer of the package shares."""

from __future__ import annotations

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
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def _channels(self, input_shape):
        input_shape = check.rank3_shape(input_shape, type(self).__name__)
        channels = input_shape[check.channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"{type(self).__name__} needs a known channel dimension, got "
                             f"input shape {input_shape} ({self.data_format}).")
        return channels

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
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "float" not in dtype:
            raise TypeError(f"{type(self).__name__} needs a floating-point input, got dtype "
                            f"{dtype}.")
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
