"""The mel front end of BigVGAN (``bigvgan.meldataset.mel_spectrogram``), on every backend.

- :func:`mel_filters`: Slaney-style mel filters with the librosa convention
  (``librosa.filters.mel(htk=False, norm="slaney")``), computed in NumPy;
- :func:`mel_spectrogram`: the log-mel spectrogram, written with ``keras.ops``;
- :class:`MelSpectrogram`: the same as a Keras layer, so that copy-synthesis
  (waveform -> mel -> generator -> waveform) runs as one model on JAX, TensorFlow or PyTorch.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from upsample1d import _backend
from upsample1d import _validation as check

CLIP = 1e-5  # BigVGAN's dynamic_range_compression clip value
MAGNITUDE_FLOOR = 1e-9  # added under the square root of |STFT|^2, as BigVGAN does


def _hz_to_mel(hz):
    """Slaney's mel scale (librosa ``hz_to_mel(htk=False)``): linear below 1 kHz, log above."""
    hz = np.asarray(hz, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    mel = hz / f_sp
    above = hz >= min_log_hz
    return np.where(above, min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz)
                    / logstep, mel)


def _mel_to_hz(mel):
    mel = np.asarray(mel, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    hz = f_sp * mel
    above = mel >= min_log_mel
    return np.where(above, min_log_hz * np.exp(logstep * (np.maximum(mel, min_log_mel)
                                                          - min_log_mel)), hz)


def mel_filters(sampling_rate, n_fft, num_mels, fmin=0.0, fmax=None):
    """Mel filter bank ``(num_mels, n_fft // 2 + 1)`` float32, equal to
    ``librosa.filters.mel(sr=sampling_rate, n_fft=n_fft, n_mels=num_mels, fmin=fmin,
    fmax=fmax)`` (Slaney's mel scale and area normalisation, librosa's default), which
    BigVGAN's ``mel_spectrogram`` uses.

    Filter ``m`` is the triangle over the STFT bin frequencies ``f_k = k * sampling_rate /
    n_fft`` rising from ``c_m`` to ``c_{m+1}`` and falling to ``c_{m+2}``, where
    ``c_0 .. c_{num_mels+1}`` are equally spaced on the mel scale from ``fmin`` to ``fmax``
    (default ``sampling_rate / 2``), scaled by ``2 / (c_{m+2} - c_m)``. Rounded as librosa
    rounds it (triangles stored in float32, then scaled in float64), so the two are equal.

    Example:
    >>> from upsample1d.mel import mel_filters
    >>> w = mel_filters(24000, 1024, 100)
    >>> w.shape, w.dtype.name, bool((w >= 0).all())
    ((100, 513), 'float32', True)
    """
    sampling_rate, n_fft, num_mels, fmin, fmax = check.mel_bands(sampling_rate, n_fft,
                                                                 num_mels, fmin, fmax)
    frequencies = np.fft.rfftfreq(n=n_fft, d=1.0 / sampling_rate)
    centres = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), num_mels + 2))
    widths = np.diff(centres)
    ramps = np.subtract.outer(centres, frequencies)
    weights = np.zeros((num_mels, len(frequencies)), np.float32)
    for m in range(num_mels):
        rising = -ramps[m] / widths[m]
        falling = ramps[m + 2] / widths[m + 1]
        weights[m] = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (centres[2:] - centres[:num_mels]))[:, None]
    return weights


def hann_window(win_size, n_fft=None):
    """``torch.hann_window(win_size)`` (periodic) as float32 NumPy, rounded as torch rounds
    it (angles in float32, ``0.5 + (-0.5) cos``; equal to it but for ~3 % of the samples, one
    float32 ulp apart where torch's cosine is not correctly rounded); with ``n_fft`` larger,
    zero-padded on both sides to ``n_fft`` as ``torch.stft`` centres it."""
    angles = np.arange(win_size, dtype=np.float32) * np.float32(2 * np.pi / win_size)
    window = np.float32(0.5) + np.float32(-0.5) * np.cos(angles.astype(np.float64)).astype(
        np.float32)
    if n_fft is not None and n_fft > win_size:
        left = (n_fft - win_size) // 2
        window = np.pad(window, (left, n_fft - win_size - left))
    return window


class _Settings:
    """The checked arguments of :func:`mel_spectrogram`, and the constants made from them."""

    def __init__(self, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax):
        sampling_rate, n_fft, num_mels, fmin, fmax = check.mel_bands(
            sampling_rate, n_fft, num_mels, fmin, fmax)
        self.hop_size, self.win_size = check.stft_frames(n_fft, hop_size, win_size)
        self.n_fft, self.num_mels, self.sampling_rate = n_fft, num_mels, sampling_rate
        self.fmin, self.fmax = fmin, fmax
        self.padding = (n_fft - self.hop_size) // 2
        self.filters = mel_filters(sampling_rate, n_fft, num_mels, fmin, fmax).T

    def frames(self, length):
        """Number of output frames for ``length`` samples (None if unknown)."""
        if length is None:
            return None
        return 1 + (length + 2 * self.padding - self.n_fft) // self.hop_size

    def check_length(self, length):
        # reflect padding needs more samples than it pads; the STFT needs one whole frame
        shortest = max(self.padding + 1, self.n_fft - 2 * self.padding)
        if length is not None and length < shortest:
            raise ValueError(f"mel_spectrogram needs at least {shortest} samples (n_fft="
                             f"{self.n_fft}, hop_size={self.hop_size}), got {length}.")


def _waveform(x, data_format):
    """``x`` as ``(B, T)``: rank 2 as it is, rank 3 with one channel on the channel axis."""
    shape = tuple(x.shape)
    if len(shape) == 2:
        return x
    if len(shape) == 3 and shape[check.channel_axis(data_format)] == 1:
        return ops.squeeze(x, check.channel_axis(data_format))
    raise ValueError(f"mel_spectrogram expects a waveform (batch, time), or rank 3 with one "
                     f"channel ({data_format}), got shape {shape}.")


def _log_mel(x, settings, data_format):
    """The computation of :func:`mel_spectrogram` on a checked ``(B, T)`` float tensor."""
    p = settings.padding
    x = _backend.pad(x, ((0, 0), (p, p)), mode="reflect")
    window = hann_window(settings.win_size, settings.n_fft)
    real, imag = ops.stft(x, settings.n_fft, settings.hop_size, settings.n_fft,
                          window=window, center=False)
    magnitude = ops.sqrt(real * real + imag * imag + MAGNITUDE_FLOOR)
    # einsum, not matmul: Keras' torch matmul returns float32 for float64 inputs
    mel = ops.einsum("bfk,km->bfm", magnitude, ops.cast(settings.filters, magnitude.dtype))
    # clip, not maximum: Keras' torch maximum returns float32 for float64 inputs
    mel = ops.log(ops.clip(mel, CLIP, np.inf))
    return mel if data_format == "channels_last" else ops.transpose(mel, (0, 2, 1))


def mel_spectrogram(x, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin=0.0,
                    fmax=None, data_format="channels_last"):
    """BigVGAN's log-mel spectrogram (``bigvgan.meldataset.mel_spectrogram``, ``center=False``).

    With ``p = (n_fft - hop_size) // 2``, ``x_p`` the waveform reflect-padded by ``p`` on
    both sides, ``w`` the periodic Hann window of ``win_size`` centred in ``n_fft`` and ``M``
    = :func:`mel_filters`: frame ``t`` is ``S[t, k] = |sum_n x_p[t*hop_size + n] w[n]
    exp(-2 pi i k n / n_fft)|`` (computed as ``sqrt(re^2 + im^2 + 1e-9)``), and
    ``out[b, t, m] = log(max(sum_k M[m, k] S[t, k], 1e-5))``, for
    ``t < 1 + (T + 2p - n_fft) // hop_size`` (``T / hop_size`` frames when ``hop_size``
    divides ``T`` and ``n_fft - hop_size`` is even, as in every published config).

    Shapes: ``x`` is ``(B, T)``, or ``(B, T, 1)`` channels_last / ``(B, 1, T)``
    channels_first; the output is ``(B, frames, num_mels)`` channels_last or
    ``(B, num_mels, frames)`` channels_first (BigVGAN's layout). Float32 or float64 input.

    Example:
    >>> import numpy as np
    >>> from upsample1d.mel import mel_spectrogram
    >>> x = np.zeros((1, 2560), np.float32)
    >>> y = mel_spectrogram(x, 1024, 100, 24000, 256, 1024, data_format="channels_first")
    >>> tuple(y.shape)                                  # 2560 / 256 frames
    (1, 100, 10)
    """
    settings = _Settings(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax)
    data_format = check.data_format(data_format)
    x = _waveform(x if isinstance(x, keras.KerasTensor) else ops.convert_to_tensor(x),
                  data_format)
    settings.check_length(x.shape[1])
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in ("float32", "float64"):
        raise TypeError(f"mel_spectrogram needs float32 or float64 input, got dtype {dtype}.")
    if isinstance(x, keras.KerasTensor):
        return _MelOp(settings, data_format).symbolic_call(x)
    return _log_mel(x, settings, data_format)


def _output_shape(shape, settings, data_format):
    frames = settings.frames(shape[1])
    if data_format == "channels_last":
        return (shape[0], frames, settings.num_mels)
    return (shape[0], settings.num_mels, frames)


class _MelOp(keras.Operation):
    """Symbolic form of :func:`mel_spectrogram` on a ``(B, T)`` waveform."""

    def __init__(self, settings, data_format, name=None):
        super().__init__(name=name)
        self.settings, self.data_format = settings, data_format

    def call(self, x):
        return _log_mel(x, self.settings, self.data_format)

    def compute_output_spec(self, x):
        return keras.KerasTensor(_output_shape(x.shape, self.settings, self.data_format),
                                 dtype=x.dtype)


@keras.saving.register_keras_serializable(package="upsample1d")
class MelSpectrogram(keras.layers.Layer):
    """:func:`mel_spectrogram` as a layer without weights (the filters are constants).

    Args:
        n_fft, num_mels, sampling_rate, hop_size, win_size, fmin, fmax: as in BigVGAN's
            ``config.json`` (``fmax=None``: ``sampling_rate / 2``).
        data_format: of the output (and of a rank-3 input): ``"channels_last"``
            ``(B, frames, num_mels)`` or ``"channels_first"`` ``(B, num_mels, frames)``;
            ``None`` is Keras' default.

    Input shape: ``(B, T)``, or ``(B, T, 1)`` / ``(B, 1, T)`` by ``data_format``.

    Example:
    >>> import keras
    >>> from upsample1d.mel import MelSpectrogram
    >>> MelSpectrogram(1024, 100, 24000, 256, 1024)(keras.Input((25600,))).shape
    (None, 100, 100)
    """

    def __init__(self, n_fft, num_mels, sampling_rate, hop_size, win_size, fmin=0.0,
                 fmax=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._settings = _Settings(n_fft, num_mels, sampling_rate, hop_size, win_size, fmin,
                                   fmax)
        self.data_format = check.data_format(data_format)
        self.arguments = {"n_fft": n_fft, "num_mels": num_mels,
                          "sampling_rate": sampling_rate, "hop_size": hop_size,
                          "win_size": win_size, "fmin": fmin, "fmax": fmax}

    @property
    def input_dtype(self):
        """float32 under a 16-bit (or mixed) policy, else the compute dtype: the STFT and the
        log run in float32 at least (Keras' STFT refuses 16-bit floats), and the mel comes out
        in it."""
        compute = keras.backend.standardize_dtype(self.compute_dtype)
        return "float32" if compute in ("float16", "bfloat16") else compute

    def call(self, inputs):
        x = _waveform(inputs, self.data_format)
        self._settings.check_length(x.shape[1])
        return _log_mel(x, self._settings, self.data_format)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.input_dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 3:
            input_shape = (input_shape[0], input_shape[check.time_axis(self.data_format)])
        self._settings.check_length(input_shape[1])
        return _output_shape(input_shape, self._settings, self.data_format)

    def get_config(self):
        return {**super().get_config(), **self.arguments, "data_format": self.data_format}


def bigvgan_mel(hparams, data_format=None):
    """The :class:`MelSpectrogram` of a BigVGAN ``config.json`` (a dict with ``n_fft``,
    ``num_mels``, ``sampling_rate``, ``hop_size``, ``win_size``, ``fmin``, ``fmax``)."""
    missing = [key for key in ("n_fft", "num_mels", "sampling_rate", "hop_size", "win_size")
               if key not in hparams]
    if missing:
        raise ValueError(f"the BigVGAN config lacks the mel field(s) {', '.join(missing)}.")
    return MelSpectrogram(hparams["n_fft"], hparams["num_mels"], hparams["sampling_rate"],
                          hparams["hop_size"], hparams["win_size"], hparams.get("fmin", 0),
                          hparams.get("fmax"), data_format=data_format)
