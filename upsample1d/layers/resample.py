"""A Keras layer around :func:`upsample1d.ops.resample_1d`: any rational ratio, no weights."""

from __future__ import annotations

import keras

from upsample1d import _validation as check
from upsample1d.layers._base import Layer
from upsample1d.ops.resample import QUALITIES, _resample, filter_numbers, ratio


@keras.saving.register_keras_serializable(package="upsample1d")
class Resample1D(Layer):
    """Resample the time axis by ``up / down`` (reduced by their gcd): for sample rates,
    ``Resample1D(new_rate, orig_rate)``.

    ``out[b, n, c] = sum_s h[n * down - s * up + N] * x_e[b, s, c]`` for
    ``n < ceil(T * up / down)``, with ``h`` the ``quality`` preset's Kaiser-windowed sinc
    (:func:`upsample1d.filters.resample_prototype`) and ``x_e`` the input extended by
    ``edge``: :func:`~upsample1d.ops.resample_1d`, which says what each argument means. The
    ``"poly"`` quality with zero edges is ``scipy.signal.resample_poly``. No weights: the same
    layer in every model, differentiable, for data pipelines and inside models alike.

    Args:
        up, down: the ratio (``down`` defaults to 1).
        quality: ``"poly"`` (default), ``"kaiser_fast"``, ``"kaiser_best"``, ``"hq"`` or
            ``"vhq"``.
        zero_crossings, rolloff, kaiser_beta: the filter's numbers, instead of the preset's.
        edge: ``"zeros"`` (default), ``"replicate"`` or ``"reflect"``.
        data_format: ``"channels_last"``, ``"channels_first"`` or ``None`` (Keras' default).

    Input shape: ``(B, T, C)`` (channels_last) or ``(B, C, T)``.
    Output shape: ``(B, ceil(T * up / down), C)`` or ``(B, C, ceil(T * up / down))``.

    Example:
    >>> import keras
    >>> from upsample1d.layers import Resample1D
    >>> Resample1D(44100, 48000)(keras.Input((48000, 2))).shape
    (None, 44100, 2)
    """

    def __init__(self, up, down=1, quality="poly", zero_crossings=None, rolloff=None,
                 kaiser_beta=None, edge="zeros", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.up, self.down = ratio(up, down)
        self.quality = check.choice(quality, "quality", QUALITIES)
        self._numbers = filter_numbers(self.up, self.down, self.quality, zero_crossings,
                                       rolloff, kaiser_beta)
        # as given (None: the preset's), checked: what get_config saves
        self.zero_crossings, self.rolloff, self.kaiser_beta = (
            None if given is None else number
            for given, number in zip((zero_crossings, rolloff, kaiser_beta), self._numbers,
                                     strict=True))
        self.edge = check.edge(edge)
        self.data_format = check.data_format(data_format)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def call(self, inputs):
        check.floating(inputs.dtype, "Resample1D")
        if self.up == self.down:
            return inputs
        return _resample(inputs, self.up, self.down, self._numbers, self.edge, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        axis = check.time_axis(self.data_format)
        shape[axis] = check.resampled_length(shape[axis], self.up, self.down)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "up": self.up, "down": self.down,
                "quality": self.quality, "zero_crossings": self.zero_crossings,
                "rolloff": self.rolloff, "kaiser_beta": self.kaiser_beta, "edge": self.edge,
                "data_format": self.data_format}
