"""Measure the artifacts of an upsampler: tones, filtering and spectral replicas.

The three artifact families of Pons, Pascual, Cengarle and Serra, "Upsampling artifacts in
neural audio synthesis" (ICASSP 2021), measured on any upsampler of this package (or any
callable that maps ``(B, T, C)`` to ``(B, T * factor, C')``, channels_last):

- :func:`measure` feeds probe signals through the upsampler and returns an
  :class:`ArtifactReport` (``tonal_db``, ``filtering_db``, ``replica_db``, ``droop_db`` and the
  spectra they come from);
- :func:`phase_gains` and :func:`predicted_tone_level_db` give the tones of a polyphase
  upsampler in closed form, from its weights alone (no signal is run);
- :func:`plot_spectrograms` draws one spectrogram panel per upsampler, like the paper's Fig. 1
  (needs matplotlib).

Conventions used throughout: ``fs_in`` is ``sample_rate`` (the rate of the upsampler's input),
``fs_out = factor * fs_in``. A mono probe ``x`` of ``T`` samples is fed as a ``(B, T, C_in)``
float32 batch with the same signal in every one of the ``C_in`` input channels, and the
analysed output is the **mean over the output channels** (a linear functional of the layer, so
the closed form of :func:`phase_gains` describes exactly that signal). Spectra use NumPy and
SciPy only.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

SIGNALS = ("noise", "ones", "sine")
ONES_DITHER_RMS = 0.03
NOISE_RMS = 0.25
SINE_AMPLITUDE = 0.5
LOW_BAND = (0.10, 0.50)
TOP_BAND = (0.75, 1.00)
DROOP_EDGE = 0.9
_TINY = 1e-30


@dataclasses.dataclass
class ArtifactReport:
    """What :func:`measure` found. Levels in dB; frequencies in Hz.

    Scalars (see :func:`measure` for the exact definitions): ``tonal_db``, ``tone_level_db``,
    ``filtering_db``, ``droop_db``, ``replica_db``. Arrays: ``line_db`` (each line's height
    above its floor, one per ``tone_hz``), ``freqs``/``spectrum_db`` (Welch power spectrum of
    the analysed output, for the analysis signal), ``response_hz``/``response_db`` (power gain
    ``|H(f)|^2`` across the input band, from the noise probe, 0 dB for a unit-gain upsampler)
    and ``output`` (the analysed output signal, mono, at ``output_rate``).
    """

    factor: int
    sample_rate: int
    output_rate: int
    signal: str
    input_channels: int
    tonal_db: float
    tone_level_db: float
    filtering_db: float
    droop_db: float
    replica_db: float
    tone_hz: np.ndarray
    line_db: np.ndarray
    freqs: np.ndarray
    spectrum_db: np.ndarray
    response_hz: np.ndarray
    response_db: np.ndarray
    output: np.ndarray = dataclasses.field(repr=False)

    def summary(self):
        """The scalars, as a JSON-friendly dict."""
        return {
            "factor": self.factor,
            "sample_rate": self.sample_rate,
            "output_rate": self.output_rate,
            "signal": self.signal,
            "input_channels": self.input_channels,
            "tonal_db": round(float(self.tonal_db), 3),
            "tone_level_db": round(float(self.tone_level_db), 3),
            "filtering_db": round(float(self.filtering_db), 3),
            "droop_db": round(float(self.droop_db), 3),
            "replica_db": round(float(self.replica_db), 3),
            "tone_hz": [float(f) for f in self.tone_hz],
            "line_db": [round(float(v), 3) for v in self.line_db],
        }


def _db(power):
    return 10.0 * np.log10(np.maximum(power, _TINY))


def make_signal(signal, length, sample_rate=16000, seed=0, sine_hz=None):
    """The mono probe of :func:`measure` (float64, ``(length,)``).

    ``"noise"``: Gaussian white noise of RMS 0.25. ``"ones"``: a constant 1 plus Gaussian white
    dither of RMS 0.03 (-30 dB), so that the floor around the lines is defined (a tone weaker
    than about -50 dB re the DC level, e.g. the 1e-3 phase ripple of the windowed sinc, then
    stays under the floor). ``"sine"``: amplitude 0.5 at ``sine_hz`` (default
    ``sample_rate / 16``) moved to the nearest DFT bin of ``length`` samples, so that it and its
    images fall exactly on bins. An array is used as given (a ``(T, C)`` array is averaged to
    mono).
    """
    rng = np.random.default_rng(seed)
    if isinstance(signal, str):
        if signal == "noise":
            return NOISE_RMS * rng.standard_normal(length)
        if signal == "ones":
            return 1.0 + ONES_DITHER_RMS * rng.standard_normal(length)
        if signal == "sine":
            return SINE_AMPLITUDE * np.sin(2 * np.pi * _sine_bin(length, sample_rate, sine_hz)
                                           * np.arange(length) / length)
        raise ValueError(f"`signal` must be one of {SIGNALS} or an array, got signal={signal!r}.")
    x = np.asarray(signal, np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.ndim != 1:
        raise ValueError(f"an array `signal` must have shape (T,) or (T, C), got {x.shape}.")
    return x


def _sine_bin(length, sample_rate, sine_hz):
    sine_hz = sample_rate / 16 if sine_hz is None else sine_hz
    return int(np.clip(round(sine_hz * length / sample_rate), 1, length // 2 - 1))


def _factor_of(upsampler, factor):
    if factor is None:
        for name in ("factor", "block_size"):
            factor = getattr(upsampler, name, None)
            if factor is not None:
                break
    if factor is None:
        raise ValueError("cannot tell the upsampling factor of this upsampler (no `.factor` or "
                         "`.block_size` attribute): pass factor=.")
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"`factor` must be a positive int, got factor={factor!r}.")
    return int(factor)


def _inner(layer):
    # Upsample1D wraps the chosen layer.
    return getattr(layer, "upsampler", layer)


def _input_channels(upsampler):
    from upsample1d.layers import (
        InterpolationUpsample1D,
        SubpixelConv1D,
        TransposedConvUpsample1D,
    )

    layer = _inner(upsampler)
    kernel = getattr(layer, "kernel", None) if getattr(layer, "built", False) else None
    if kernel is not None:
        channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
        if not channels_last:
            raise ValueError("measure() feeds channels_last (B, T, C) batches; this layer is "
                             "channels_first: wrap it in a callable that transposes.")
        if isinstance(layer, (SubpixelConv1D, InterpolationUpsample1D)):
            return int(kernel.shape[1])
        if isinstance(layer, TransposedConvUpsample1D):
            return int(kernel.shape[2])
    try:
        channels = upsampler.input.shape[-1]  # a layer used in a functional model
        return int(channels) if channels else 1
    except (AttributeError, ValueError, TypeError, IndexError):
        return 1


def _as_function(upsampler, factor):
    import keras

    if isinstance(upsampler, keras.layers.Layer):
        return upsampler
    if not callable(upsampler):
        raise TypeError(f"`upsampler` must be a Keras layer or a callable, got "
                        f"{type(upsampler).__name__}.")
    try:
        params = list(inspect.signature(upsampler).parameters.values())
    except (TypeError, ValueError):
        params = []
    if len(params) >= 2 and params[1].name in ("factor", "block_size"):
        return lambda x: upsampler(x, factor)  # an op: f(x, factor, ...)
    return upsampler


def _run(function, probes, channels, factor):
    """Feed ``(B, T)`` mono probes as ``(B, T, channels)``; return the mean output channel."""
    from keras import ops

    batch = np.repeat(probes[:, :, None], channels, axis=2).astype(np.float32)
    y = function(ops.convert_to_tensor(batch))
    y = np.asarray(ops.convert_to_numpy(y), np.float64)
    expected = probes.shape[1] * factor
    if y.ndim != 3 or y.shape[0] != probes.shape[0] or y.shape[1] != expected:
        raise ValueError(f"the upsampler turned a {batch.shape} batch into {y.shape}; expected "
                         f"({probes.shape[0]}, {expected}, C) for factor={factor} "
                         "(channels_last).")
    return y.mean(axis=2)


def _welch(y, factor, fs_out, m=None):
    """Welch power spectrum (``scaling="spectrum"``, Hann, 50% overlap, no detrending) with
    segments of ``factor * m`` samples, so that every ``k * fs_out / factor`` is bin ``k * m``."""
    try:
        from scipy import signal as sps
    except ImportError:
        raise ImportError('measuring artifacts needs scipy: pip install "upsample1d[analysis]" '
                          "(or pip install scipy).") from None

    if m is None:
        m = min(256, len(y) // (4 * factor))
        m -= m % 2
    if m < 8:
        raise ValueError(f"the probe is too short for the analysis: {len(y)} output samples; "
                         f"give at least {32 * factor} (raise `seconds`).")
    freqs, power = sps.welch(y, fs=fs_out, window="hann", nperseg=factor * m,
                             noverlap=factor * m // 2, detrend=False, scaling="spectrum")
    return freqs, power, m


def _lines(power, factor, m, guard=4, width=32):
    """Power of each line ``k * fs_out / factor`` (k = 1 .. factor // 2, the one-sided
    spectrum) and the median of its neighbours ``guard .. guard + width`` bins away."""
    lines, floors = [], []
    for k in range(1, factor // 2 + 1):
        b = k * m
        near = np.r_[b - guard - width:b - guard + 1, b + guard:b + guard + width + 1]
        near = near[(near >= 1) & (near < len(power))]
        lines.append(power[b])
        floors.append(np.median(power[near]))
    return np.asarray(lines), np.maximum(np.asarray(floors), _TINY)


def _band(spectrum, lo, hi):
    n = len(spectrum)
    return spectrum[int(np.ceil(lo * (n - 1))):int(np.floor(hi * (n - 1))) + 1]


def measure(upsampler, sample_rate=16000, signal="noise", seconds=1.0, seed=0, factor=None,
            channels=None, sine_hz=None, trim=None):
    """Run probe signals through ``upsampler`` and measure its artifacts.

    ``upsampler``: a Keras layer (built or not), an op taking ``(x, factor)`` (e.g.
    :func:`upsample1d.ops.upsample_linear_1d`), or a callable on a channels_last ``(B, T, C)``
    array. ``factor`` is read from its ``.factor`` or ``.block_size`` attribute unless given.
    ``channels``: its input channels ``C_in``, read from a built layer's kernel (or the
    layer's functional input), else 1. The mono probe is tiled to all ``C_in`` input channels
    and the **mean output channel** is analysed. ``seconds * sample_rate`` input samples per
    probe; all probes run as one batch: the analysis ``signal`` (``"noise"``, ``"ones"``,
    ``"sine"`` or an array; see :func:`make_signal`), white noise and a sine.

    Definitions (``fs_in = sample_rate``, ``fs_out = factor * fs_in``, output trimmed by
    ``trim`` samples at each end, default ``64 * factor``, against edge effects):

    - ``tonal_db`` (analysis signal): Welch power spectrum of the output (Hann segments of
      ``256 * factor`` samples, 50 % overlap, so bins are ``fs_in / 256`` wide and every line
      sits on a bin); for each line ``k * fs_out / factor`` (``k = 1 .. factor - 1``, folded to
      the one-sided spectrum: ``k <= factor / 2``; these are also the replicas of DC, at
      multiples of ``fs_in``), its bin's power over the local floor. The floor is the median
      of the bins 4 to 36 bins away on either side, but never below the output's typical
      in-band level, the median bin between 0 and ``fs_in / 2``: an upsampler that
      suppresses images far below its pass band (windowed sinc) is not charged with lines
      weaker than the signal's own floor. ``tonal_db`` is
      the largest, in dB; ``line_db`` holds each. About 0 dB or less when there is no line; a
      notch (nearest interpolation nulls exactly these frequencies) reads negative. Lines
      need something at
      DC in the upsampler's input: with zero-mean noise a polyphase filter bank only shapes
      the noise, so use ``signal="ones"`` (a constant with dither, Pons et al.'s Fig. 5 probe)
      to see a layer's tones, and ``"noise"`` to see if a bias or ReLU upstream puts DC in.
    - ``tone_level_db`` (analysis signal): the power of the strongest of those lines in the
      same spectrum, in dB re 1 (a sinusoid of amplitude A reads ``A**2 / 2``, one at the
      output Nyquist ``A**2``). With ``signal="ones"`` this is what
      :func:`predicted_tone_level_db` computes from the weights.
    - ``filtering_db`` (white noise): with ``X``, ``Y`` the DFTs of the Hann-windowed input and
      output (``T`` and ``factor * T`` samples, the same span, so bin ``m`` is the same
      frequency in both), the power gain of a band is
      ``sum |Y[m]|**2 / (factor**2 * sum |X[m]|**2)`` over its bins;
      ``filtering_db = 10 log10(gain(10-50 %) / gain(75-100 %))`` of the input Nyquist
      ``fs_in / 2``: how much the top of the band is attenuated against the low band. Nearest
      interpolation (a ``|sinc|`` response) gives about 2.4 dB, linear (``sinc**2``) about
      5.2 dB, the windowed sinc under 1 dB.
    - ``droop_db`` (white noise): with the same gains in 32 bands of ``fs_in / 64``, the largest
      attenuation of a band lying below ``0.9 * fs_in / 2`` against the 10-50 % band.
    - ``replica_db`` (sine of amplitude 0.5 at ``sine_hz``, default ``fs_in / 16``, on a bin):
      in the Hann-windowed DFT of the output, the energy of its images at
      ``k * fs_in +- sine_hz`` (``k = 1 .. factor - 1``, below ``fs_out / 2``), each summed over
      +-2 bins, against the energy of the sine itself (+-2 bins), in dB. Ideal interpolation
      gives -inf (floored at -300), zero-stuffing 0 dB per image.

    The report also holds the analysis output, its Welch spectrum and the response
    ``|H(f)|**2`` over the input band (from the noise probe), for plots.
    """
    factor = _factor_of(upsampler, factor)
    sample_rate = int(sample_rate)
    if sample_rate < 1:
        raise ValueError(f"`sample_rate` must be positive, got {sample_rate}.")
    if isinstance(signal, str):
        length = int(round(seconds * sample_rate))
        name = signal
    else:
        length = len(make_signal(signal, 1))
        name = "array"
    analysis = make_signal(signal, length, sample_rate, seed, sine_hz)
    length = len(analysis)
    if length < 64:
        raise ValueError(f"the probe is too short: {length} input samples; give at least 64.")
    noise = make_signal("noise", length, sample_rate, seed + 1)
    sine = make_signal("sine", length, sample_rate, seed, sine_hz)
    if channels is None:
        channels = _input_channels(upsampler)
    function = _as_function(upsampler, factor)
    out = _run(function, np.stack([analysis, noise, sine]), int(channels), factor)
    fs_out = factor * sample_rate
    n_out = factor * length
    nyquist_bin = length // 2

    # Tones on the analysis signal.
    trim = 64 * factor if trim is None else int(trim)
    trim = min(trim, n_out // 4)
    y = out[0, trim:n_out - trim]
    freqs, power, m = _welch(y, factor, fs_out)
    lines, floors = _lines(power, factor, m)
    # An upsampler that removes images well has a floor there far below its in-band level:
    # lines under the output's typical in-band level are not counted as tones.
    floors = np.maximum(floors, np.median(power[1:m // 2 + 1]))
    line_db = _db(lines) - _db(floors)
    tone_hz = np.arange(1, factor // 2 + 1) * float(sample_rate)

    # Response over the input band, from the noise probe.
    x_spec = np.abs(np.fft.rfft(noise * np.hanning(length))) ** 2
    y_spec = np.abs(np.fft.rfft(out[1] * np.hanning(n_out))) ** 2
    x_spec, y_spec = x_spec[:nyquist_bin + 1], y_spec[:nyquist_bin + 1] / factor**2

    def gain(lo, hi):
        return np.sum(_band(y_spec, lo, hi)) / max(np.sum(_band(x_spec, lo, hi)), _TINY)

    low = gain(*LOW_BAND)
    filtering_db = float(_db(low) - _db(gain(*TOP_BAND)))
    edges = np.linspace(0.0, 1.0, 33)
    band_gains = np.array([gain(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    below = edges[1:] <= DROOP_EDGE + 1e-9
    droop_db = float(np.max(_db(low) - _db(band_gains[below])))
    response_hz = (edges[:-1] + edges[1:]) / 2 * sample_rate / 2

    # Replicas of the sine.
    s_spec = np.abs(np.fft.rfft(out[2] * np.hanning(n_out))) ** 2
    m0 = _sine_bin(length, sample_rate, sine_hz)

    def line_energy(b):
        return np.sum(s_spec[max(b - 2, 0):b + 3])

    images = [k * length + sign * m0 for k in range(1, factor) for sign in (-1, 1)]
    images = [b for b in images if 0 < b < len(s_spec) - 2]
    replica_db = float(_db(sum(line_energy(b) for b in images)) - _db(line_energy(m0)))

    return ArtifactReport(
        factor=factor, sample_rate=sample_rate, output_rate=fs_out, signal=name,
        input_channels=int(channels), tonal_db=float(np.max(line_db)),
        tone_level_db=float(_db(np.max(lines))), filtering_db=filtering_db, droop_db=droop_db,
        replica_db=replica_db, tone_hz=tone_hz, line_db=line_db, freqs=freqs,
        spectrum_db=_db(power), response_hz=response_hz, response_db=_db(band_gains),
        output=out[0])


# --- closed form ----------------------------------------------------------------------------

def phase_gains(layer):
    """Per-phase DC gains of a polyphase upsampler, from its weights alone.

    For a constant input of 1 on every input channel, output sample ``t * factor + i`` of the
    mean output channel settles (away from the edges) to ``g[i]``: the sum of phase ``i``'s
    taps over time and input channels, averaged over output channels. Returns ``g``, shape
    ``(factor,)``. Phases with different DC gains turn any DC (or slowly varying) content into
    tones at multiples of ``fs_in`` (Pons et al. 2021); equal gains (ICNR, nearest) give none.

    Accepts a built :class:`SubpixelConv1D` (DCR or CRD), :class:`TransposedConvUpsample1D`
    (re-indexed with :func:`upsample1d.convert.transposed_to_subpixel_kernel`),
    :class:`InterpolationUpsample1D` (the interpolator's bank, then the output-rate conv folded
    modulo ``factor``) or an :class:`Upsample1D` wrapping one. Biases are left out.
    """
    from keras import ops

    from upsample1d.convert import transposed_to_subpixel_kernel
    from upsample1d.layers import (
        InterpolationUpsample1D,
        SubpixelConv1D,
        TransposedConvUpsample1D,
    )
    from upsample1d.ops.interpolate import linear_bank, sinc_bank

    layer = _inner(layer)
    if not isinstance(layer, (SubpixelConv1D, TransposedConvUpsample1D,
                              InterpolationUpsample1D)):
        raise TypeError(f"phase_gains knows SubpixelConv1D, TransposedConvUpsample1D, "
                        f"InterpolationUpsample1D and Upsample1D, got {type(layer).__name__}.")
    if not getattr(layer, "built", False) or getattr(layer, "kernel", None) is None:
        raise ValueError("phase_gains needs a built layer (call it once or build it).")
    r = layer.factor
    kernel = np.asarray(ops.convert_to_numpy(getattr(layer.kernel, "value", layer.kernel)),
                        np.float64)
    if isinstance(layer, (SubpixelConv1D, TransposedConvUpsample1D)):
        mode = "DCR"
        if isinstance(layer, TransposedConvUpsample1D):
            kernel = np.asarray(ops.convert_to_numpy(
                transposed_to_subpixel_kernel(ops.convert_to_tensor(kernel), r, "DCR")))
        else:
            mode = layer.mode
        sums = kernel.sum(axis=(0, 1))  # (factor * C,)
        per_phase = sums.reshape(r, -1) if mode == "DCR" else sums.reshape(-1, r).T
        return per_phase.mean(axis=1)
    # InterpolationUpsample1D: the interpolator's phase gains, then the output-rate conv.
    if layer.method == "nearest":
        p = np.ones(r)
    elif layer.method == "linear":
        p = linear_bank(r).sum(axis=0)
    else:
        p = sinc_bank(r)[0].sum(axis=0)
    taps = kernel.sum(axis=1).mean(axis=-1)  # (K,): tiled input, mean output channel
    left = (len(taps) - 1) // 2  # padding="same"
    return np.array([sum(taps[j] * p[(n + j - left) % r] for j in range(len(taps)))
                     for n in range(r)])


def tone_powers(gains):
    """Power of the lines at ``k * fs_in`` (``k = 1 .. factor // 2``) of the periodic output
    ``g[0], g[1], ..., g[factor - 1], g[0], ...`` that a constant input of 1 produces:
    ``2 |G_k|**2 / factor**2`` with ``G = DFT(g)``, or ``|G_k|**2 / factor**2`` at the output
    Nyquist (``k = factor / 2``). These are the powers :func:`measure` reads from the peak bins
    (``scaling="spectrum"``)."""
    g = np.asarray(gains, np.float64)
    r = len(g)
    spectrum = np.abs(np.fft.fft(g)) ** 2 / r**2
    return np.array([spectrum[k] * (1 if 2 * k == r else 2) for k in range(1, r // 2 + 1)])


def predicted_tone_level_db(layer_or_gains):
    """The strongest tone, in dB re 1, that a constant input of 1 produces: closed form of
    ``measure(layer, signal="ones").tone_level_db`` (-300 dB for equal gains)."""
    gains = layer_or_gains
    if not isinstance(gains, (np.ndarray, list, tuple)):
        gains = phase_gains(gains)
    powers = tone_powers(gains)
    return float(_db(np.max(powers))) if len(powers) else -300.0


# --- plots ----------------------------------------------------------------------------------

def plot_spectrograms(panels, path=None, ncols=None, dynamic_range_db=90.0, title=None):
    """Spectrogram panels, one per upsampler, like Fig. 1 of Pons et al. (2021).

    ``panels``: a mapping ``title -> ArtifactReport`` (or a list of ``(title, report)``), laid
    out row by row in ``ncols`` columns (default: up to 4). Each panel shows the analysed
    output's spectrogram (Hann, ``64 * factor`` samples, in dB on one colour scale for all
    panels, ``dynamic_range_db`` deep below the highest peak) with dotted lines at multiples
    of ``fs_in``, where tones and replicas of DC sit.
    Saves to ``path`` if given; returns the matplotlib Figure. Needs matplotlib
    (``pip install "upsample1d[plot]"``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError('plot_spectrograms needs matplotlib: pip install "upsample1d[plot]" '
                          "(or pip install matplotlib).") from None
    from scipy import signal as sps

    items = list(panels.items()) if hasattr(panels, "items") else list(panels)
    if not items:
        raise ValueError("plot_spectrograms needs at least one panel.")
    ncols = min(len(items), 4) if ncols is None else max(1, int(ncols))
    nrows = -(-len(items) // ncols)
    fig = Figure(figsize=(3.6 * ncols, 2.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(items):]:
        ax.set_visible(False)
    grams = []
    for _, report in items:
        nperseg = min(64 * report.factor, len(report.output))
        f, t, s = sps.spectrogram(report.output, fs=report.output_rate, window="hann",
                                  nperseg=nperseg, noverlap=nperseg // 2, detrend=False)
        grams.append((f, t, _db(s)))
    top = max(float(np.max(s_db)) for _, _, s_db in grams)  # one colour scale for all panels
    for ax, (name, report), (f, t, s_db) in zip(axes.flat, items, grams, strict=False):
        mesh = ax.pcolormesh(t, f / 1000, s_db, vmin=top - dynamic_range_db, vmax=top,
                             shading="auto", cmap="magma", rasterized=True)
        for k in range(1, report.factor // 2 + 1):
            ax.axhline(k * report.sample_rate / 1000, color="w", lw=0.6, ls=":", alpha=0.7)
        ax.set_title(f"{name}\ntonal {report.tonal_db:.1f} dB", fontsize=8)
        ax.set_xlabel("time (s)", fontsize=7)
        ax.set_ylabel("kHz", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.colorbar(mesh, ax=axes, shrink=min(0.6, 2.0 / nrows), label="dB", aspect=15)
    if title:
        fig.suptitle(title, fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig
