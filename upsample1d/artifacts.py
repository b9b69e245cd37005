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
import numbers

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
    """The DFT bin of ``length`` samples nearest ``sine_hz`` and clear of DC and Nyquist;
    ValueError unless ``0 < sine_hz < sample_rate / 2``."""
    if sine_hz is None:
        sine_hz = sample_rate / 16
    elif isinstance(sine_hz, bool) or not isinstance(sine_hz, (int, float, np.number)) or \
            not np.isfinite(sine_hz):
        raise TypeError(f"`sine_hz` must be a finite number of Hz, got sine_hz={sine_hz!r}.")
    if not 0 < sine_hz < sample_rate / 2:
        raise ValueError(f"`sine_hz` must lie between DC and the Nyquist frequency "
                         f"({sample_rate / 2:g} Hz), got sine_hz={sine_hz!r}.")
    return int(np.clip(round(sine_hz * length / sample_rate), 1, length // 2 - 1))


def check_analysis(signal, name="the analysis signal"):
    """Refuse an analysis signal that every level measured on it would misread: NaN or
    infinite samples (every level NaN), or silence (no floor to read lines against: a line
    over an empty spectrum read +260 dB)."""
    bad = int(np.count_nonzero(~np.isfinite(signal)))
    if bad:
        raise ValueError(f"{name} has {bad} NaN or infinite samples in the {len(signal)} "
                         "analysed; the analysis needs finite audio")
    if not np.any(signal):
        raise ValueError(f"{name} is silent (all {len(signal)} samples are 0): no level can "
                         "be read against its spectrum; give audio with content")


def _input_channels(upsampler):
    """``C_in`` of a built layer of this package (from its phase kernels), of a layer used in
    a functional model, else 1."""
    if getattr(upsampler, "data_format", "channels_last") != "channels_last":
        raise ValueError("measure() feeds channels_last (B, T, C) batches; this layer is "
                         "channels_first: wrap it in a callable that transposes.")
    if getattr(upsampler, "built", False) and hasattr(upsampler, "phase_kernels"):
        return int(upsampler.phase_kernels().shape[2])
    try:
        channels = upsampler.input.shape[-1]  # a layer used in a functional model
        return int(channels) if channels else 1
    except (AttributeError, ValueError, TypeError, IndexError):
        return 1


def _as_function(upsampler, factor):
    """A callable on a channels_last batch: the ops of :data:`upsample1d.ops.UPSAMPLING_OPS`
    get ``factor``; layers and other callables are called as they are."""
    from upsample1d.ops import UPSAMPLING_OPS

    if upsampler in UPSAMPLING_OPS:
        if factor is None:
            raise ValueError(f"{upsampler.__name__} takes the factor as an argument: pass "
                             "factor= to measure().")
        return lambda x: upsampler(x, factor)
    if not callable(upsampler):
        raise TypeError(f"`upsampler` must be a Keras layer or a callable, got "
                        f"{type(upsampler).__name__}.")
    return upsampler


def _run(function, probes, channels, factor):
    """Feed ``(B, T)`` mono probes as ``(B, T, channels)``; return the mean output channel
    and the factor, read off the output length (it must match ``factor`` when given)."""
    from keras import ops

    batch = np.repeat(probes[:, :, None], channels, axis=2).astype(np.float32)
    y = function(ops.convert_to_tensor(batch))
    y = np.asarray(ops.convert_to_numpy(y), np.float64)
    length = probes.shape[1]
    measured, rest = divmod(y.shape[1], length) if y.ndim == 3 else (0, 1)
    if y.ndim != 3 or y.shape[0] != probes.shape[0] or rest or \
            (factor is not None and measured != factor):
        expected = f"({probes.shape[0]}, {length} * factor, C)" if factor is None else \
            f"({probes.shape[0]}, {length * factor}, C) for factor={factor}"
        raise ValueError(f"the upsampler turned a {batch.shape} batch into {y.shape}; expected "
                         f"{expected} (channels_last).")
    if measured < 2:
        raise ValueError(f"measure() needs an upsampler with factor >= 2 (this one has factor "
                         f"{measured}): with factor 1 there are no images or tones to measure.")
    return y.mean(axis=2), measured


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

    ``upsampler``: a Keras layer (built or not) or any callable on a channels_last
    ``(B, T, C)`` array; the fixed ops of :data:`upsample1d.ops.UPSAMPLING_OPS` (e.g.
    :func:`upsample1d.ops.upsample_linear_1d`) are called as ``op(x, factor)`` and need
    ``factor``. Otherwise the factor is read off the output length (``T * factor``), and a
    ``factor`` given must match it; it must be at least 2.
    ``channels``: its input channels ``C_in``, from a built layer's
    :meth:`~upsample1d.layers.SubpixelConv1D.phase_kernels` (or the layer's functional
    input), else 1. The mono probe is tiled to all ``C_in`` input channels
    and the **mean output channel** is analysed. ``seconds * sample_rate`` input samples per
    probe; all probes run as one batch: the analysis ``signal`` (``"noise"``, ``"ones"``,
    ``"sine"`` or an array; see :func:`make_signal`), white noise and a sine.

    Definitions (``fs_in = sample_rate``, ``fs_out = factor * fs_in``, output trimmed by
    ``trim`` samples at each end against edge effects: an int >= 0 that leaves at least half
    of the output, default ``64 * factor`` or an eighth of the output if that is less):

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
      ``fs_in / 2``: how much the top of the band is attenuated against the low band: a few
      dB for nearest interpolation (a ``|sinc|`` response), more for linear (``sinc**2``),
      little for the windowed sinc (the README's compare table has the figures).
    - ``droop_db`` (white noise): with the same gains in 32 bands of ``fs_in / 64``, the largest
      attenuation of a band lying below ``0.9 * fs_in / 2`` against the 10-50 % band.
    - ``replica_db`` (sine of amplitude 0.5 at ``sine_hz``, default ``fs_in / 16``, on a bin):
      in the Hann-windowed DFT of the output, the energy of its images at
      ``k * fs_in +- sine_hz`` (``k = 1 .. factor - 1``, folded into ``0 .. fs_out / 2``, each
      distinct bin once: :func:`image_bins`), each summed over +-2 bins, against the energy of
      the sine itself (+-2 bins), in dB. Ideal interpolation gives -inf (floored at -300),
      zero-stuffing 0 dB per image.

    The report also holds the analysis output, its Welch spectrum and the response
    ``|H(f)|**2`` over the input band (from the noise probe), for plots.
    """
    from upsample1d import _validation as check

    sample_rate = check.positive_int(sample_rate, "sample_rate")
    if isinstance(signal, str):
        length = int(round(check.positive_number(seconds, "seconds") * sample_rate))
        name = signal
    else:
        length = len(make_signal(signal, 1))
        name = "array"
    analysis = make_signal(signal, length, sample_rate, seed, sine_hz)
    length = len(analysis)
    if name == "array":
        check_analysis(analysis)
    if length < 64:
        raise ValueError(f"the probe is too short: {length} input samples; give at least 64.")
    if factor is not None:
        factor = check.positive_int(factor, "factor")
    if trim is not None:
        trim = check.non_negative_int(trim, "trim")
    noise = make_signal("noise", length, sample_rate, seed + 1)
    sine = make_signal("sine", length, sample_rate, seed, sine_hz)
    channels = _input_channels(upsampler) if channels is None else check.positive_int(
        channels, "channels")
    function = _as_function(upsampler, factor)
    out, factor = _run(function, np.stack([analysis, noise, sine]), channels, factor)
    trim = min(64 * factor, len(out[0]) // 8) if trim is None else trim
    tones = _tones(out[0], factor, sample_rate, trim)
    response = _response(noise, out[1], factor, sample_rate)
    replica_db = _replicas(out[2], length, factor, _sine_bin(length, sample_rate, sine_hz))
    return ArtifactReport(
        factor=factor, sample_rate=sample_rate, output_rate=factor * sample_rate, signal=name,
        input_channels=channels, replica_db=replica_db, output=out[0], **tones, **response)


def _tones(y, factor, sample_rate, trim):
    """The lines at multiples of ``fs_in`` in the Welch spectrum of ``y`` (see
    :func:`measure`)."""
    if 2 * trim >= len(y) // 2:
        raise ValueError(f"`trim` ({trim}) leaves less than half of the {len(y)} output "
                         f"samples; give at most {len(y) // 4 - 1}.")
    freqs, power, m = _welch(y[trim:len(y) - trim], factor, factor * sample_rate)
    lines, floors = _lines(power, factor, m)
    # An upsampler that removes images well has a floor there far below its in-band level:
    # lines under the output's typical in-band level are not counted as tones.
    floors = np.maximum(floors, np.median(power[1:m // 2 + 1]))
    line_db = _db(lines) - _db(floors)
    return {"tonal_db": float(np.max(line_db)), "tone_level_db": float(_db(np.max(lines))),
            "tone_hz": np.arange(1, factor // 2 + 1) * float(sample_rate), "line_db": line_db,
            "freqs": freqs, "spectrum_db": _db(power)}


def _response(noise, y, factor, sample_rate):
    """Filtering and droop from white noise in and out (see :func:`measure`)."""
    length = len(noise)
    nyquist_bin = length // 2
    x_spec = np.abs(np.fft.rfft(noise * np.hanning(length))) ** 2
    y_spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    x_spec, y_spec = x_spec[:nyquist_bin + 1], y_spec[:nyquist_bin + 1] / factor**2

    def gain(lo, hi):
        return np.sum(_band(y_spec, lo, hi)) / max(np.sum(_band(x_spec, lo, hi)), _TINY)

    low = gain(*LOW_BAND)
    edges = np.linspace(0.0, 1.0, 33)
    band_gains = np.array([gain(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    below = edges[1:] <= DROOP_EDGE + 1e-9
    return {"filtering_db": float(_db(low) - _db(gain(*TOP_BAND))),
            "droop_db": float(np.max(_db(low) - _db(band_gains[below]))),
            "response_hz": (edges[:-1] + edges[1:]) / 2 * sample_rate / 2,
            "response_db": _db(band_gains)}


def image_bins(length, factor, sine_bin):
    """DFT bins (of ``factor * length`` output samples, one-sided) of the images of a sine on
    bin ``sine_bin`` of ``length`` input samples: ``k * length +- sine_bin`` for
    ``k = 1 .. factor - 1``, folded into ``0 .. factor * length / 2``, each once."""
    n_out = factor * length
    bins = set()
    for k in range(1, factor):
        for sign in (-1, 1):
            b = (k * length + sign * sine_bin) % n_out
            bins.add(min(b, n_out - b))
    return sorted(bins)


def _replicas(y, length, factor, sine_bin):
    """Energy of a sine's images against the sine, in dB (see :func:`measure`)."""
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2

    def line_energy(b):
        return np.sum(spectrum[max(b - 2, 0):b + 3])

    images = image_bins(length, factor, sine_bin)
    return float(_db(sum(line_energy(b) for b in images)) - _db(line_energy(sine_bin)))


# --- closed form ----------------------------------------------------------------------------

def _phase_view(layer, name):
    if not hasattr(layer, "phase_kernels"):
        raise TypeError(f"{name} needs a layer with a polyphase view (phase_kernels(): "
                        f"SubpixelConv1D, TransposedConvUpsample1D, InterpolationUpsample1D, "
                        f"Upsample1D), got {type(layer).__name__}.")
    if not layer.built:
        raise ValueError(f"{name} needs a built layer (call it once or build it).")
    return layer


def phase_gains(layer):
    """Per-phase DC gains of a polyphase upsampler, from its weights alone.

    For a constant input of 1 on every input channel, output sample ``t * factor + i`` of the
    mean output channel settles (away from the edges) to ``g[i] + phase_offsets(layer)[i]``,
    where ``g[i]`` is the sum of phase ``i``'s taps over time and input channels, averaged
    over output channels. Returns ``g``, shape ``(factor,)``. Phases with different DC gains
    turn any DC (or slowly varying) content into tones at multiples of ``fs_in`` (Pons et al.
    2021); equal gains (ICNR, nearest) give none.

    ``layer``: any built layer with a polyphase view
    (:meth:`~upsample1d.layers.SubpixelConv1D.phase_kernels`): ``SubpixelConv1D``,
    ``TransposedConvUpsample1D``, ``InterpolationUpsample1D`` (either implementation) or an
    ``Upsample1D`` wrapping one.
    """
    kernels = _phase_view(layer, "phase_gains").phase_kernels()
    return kernels.sum(axis=(1, 2)).mean(axis=1)


def phase_offsets(layer):
    """Per-phase bias of the mean output channel, shape ``(factor,)`` (zeros without bias):
    what a layer adds to every output of phase ``i`` whatever the input. A bias that differs
    between phases is a tone by itself."""
    return _phase_view(layer, "phase_offsets").phase_biases().mean(axis=1)


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
    ``measure(layer, signal="ones").tone_level_db`` (-300 dB for equal levels).

    ``layer_or_gains``: a layer (its per-phase output levels for that input are
    ``phase_gains(layer) + phase_offsets(layer)``, biases included) or those levels as an
    array."""
    gains = layer_or_gains
    if not isinstance(gains, (np.ndarray, list, tuple)):
        gains = phase_gains(gains) + phase_offsets(gains)
    powers = tone_powers(gains)
    return float(_db(np.max(powers))) if len(powers) else -300.0


# --- plots ----------------------------------------------------------------------------------

def plot_spectrograms(panels, path=None, ncols=None, dynamic_range_db=90.0, title=None,
                      label=None):
    """Spectrogram panels, one per upsampler, like Fig. 1 of Pons et al. (2021).

    ``panels``: a mapping ``title -> ArtifactReport`` (or a list of ``(title, report)``), laid
    out row by row in ``ncols`` columns (default: up to 4). Each panel shows the analysed
    output's spectrogram (Hann, ``64 * factor`` samples, in dB on one colour scale for all
    panels, ``dynamic_range_db`` deep below the highest peak) with dotted lines at multiples
    of ``fs_in``, where tones and replicas of DC sit. Under each panel's title is
    ``label(report)`` if ``label`` (a function) is given, else the report's ``tonal_db`` and
    the probe it comes from: ``tonal (ones probe) X dB``, or ``tonal (array probe) X dB`` for
    an analysis signal given as an array.
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
        text = label(report) if label is not None else \
            f"tonal ({report.signal} probe) {report.tonal_db:.1f} dB"
        ax.set_title(f"{name}\n{text}", fontsize=8)
        ax.set_xlabel("time (s)", fontsize=7)
        ax.set_ylabel("kHz", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.colorbar(mesh, ax=axes, shrink=min(0.6, 2.0 / nrows), label="dB", aspect=15)
    if title:
        fig.suptitle(title, fontsize=9)
    if path is not None:
        fig.savefig(path, dpi=90)
    return fig


# --- aliasing of nonlinearities -------------------------------------------------------------

ALIASING_TONES = (0.04, 0.09, 0.17, 0.26, 0.34, 0.43)  # x sample_rate, moved to odd bins
ALIASING_WINDOW = 8192
ALIASING_GUARD = 512


@dataclasses.dataclass
class AliasingReport:
    """What :func:`measure_aliasing` found; levels in dB re the output's power.

    Per probe tone (``tones_hz``, on odd bins of the ``window``-sample analysis): ``aliasing_db``
    (power at the non-harmonic bins) and ``error_db`` (difference from the ideal band-limited
    output). ``mean_aliasing_db`` / ``mean_error_db``: the power means over the tones, in dB.
    ``spectrum_db``: the one-sided power spectrum of each tone's output, ``(tones, window//2+1)``.
    """

    sample_rate: int
    window: int
    amplitude: float
    oversample: int
    tones_hz: np.ndarray
    aliasing_db: np.ndarray
    error_db: np.ndarray
    mean_aliasing_db: float
    mean_error_db: float
    spectrum_db: np.ndarray = dataclasses.field(repr=False)

    def summary(self):
        """The scalars and per-tone levels, as a JSON-friendly dict."""
        return {"sample_rate": self.sample_rate, "window": self.window,
                "amplitude": self.amplitude, "oversample": self.oversample,
                "tones_hz": [round(float(f), 3) for f in self.tones_hz],
                "aliasing_db": [round(float(v), 2) for v in self.aliasing_db],
                "error_db": [round(float(v), 2) for v in self.error_db],
                "mean_aliasing_db": round(float(self.mean_aliasing_db), 2),
                "mean_error_db": round(float(self.mean_error_db), 2)}


def _nonlinearity(activation, channels):
    """``(f, g, channels)``: ``f`` the activation at the input rate and ``g`` its pointwise
    nonlinearity, both on channels_last ``(B, T, C)`` tensors."""
    from keras import ops

    from upsample1d.layers.activations import AliasFreeActivation1D, _activation

    def last(fn, data_format):
        if data_format != "channels_first":
            return fn
        return lambda x: ops.transpose(fn(ops.transpose(x, (0, 2, 1))), (0, 2, 1))

    if isinstance(activation, str):  # the layer's rule: letter case, snakes, refusals
        _, activation = _activation(activation)
    if isinstance(activation, AliasFreeActivation1D):
        if activation.up != activation.down:
            raise ValueError(f"measure_aliasing needs an activation that keeps the rate, got "
                             f"up={activation.up}, down={activation.down}.")
        inner = activation.activation
        channels = _weight_channels(inner, channels)
        layer = activation
        if not layer.built:
            shape = (None, None, channels) if layer.data_format == "channels_last" else \
                (None, channels, None)
            layer.build(shape)
        g = last(layer._activate, "channels_first")
        return last(layer, layer.data_format), g, channels
    if not callable(activation):
        raise TypeError(f"`activation` must be a name, a layer or a callable, got "
                        f"{type(activation).__name__}.")
    channels = _weight_channels(activation, channels)
    f = last(activation, getattr(activation, "data_format", "channels_last"))
    return f, f, channels


def _weight_channels(layer, channels):
    """``channels`` if given, else the size of a built Snake1D's ``alpha``, else 1."""
    if channels is not None:
        return channels
    alpha = getattr(layer, "alpha", None)
    return int(alpha.shape[0]) if getattr(layer, "built", False) and alpha is not None else 1


def _tone_bins(tones, window):
    """Each tone ``f / fs`` as the nearest odd bin of ``window`` (coprime with a power of 2)."""
    bins = []
    for tone in tones:
        b = int(round(tone * window))
        b = b + 1 if b % 2 == 0 else b
        bins.append(min(max(b, 1), window // 2 - 1))
    return np.asarray(bins)


def _apply(fn, probes, channels):
    """``fn`` on ``(B, T)`` float32 probes tiled to ``channels``; the mean output channel."""
    from keras import ops

    batch = np.repeat(probes[:, :, None], channels, axis=2).astype(np.float32)
    y = np.asarray(ops.convert_to_numpy(fn(ops.convert_to_tensor(batch))), np.float64)
    if y.shape[:2] != probes.shape:
        raise ValueError(f"the activation turned a {batch.shape} batch into {y.shape}; it "
                         "must keep the shape (channels_last).")
    return y.mean(axis=2)


def _ideal(g, bins, window, amplitude, oversample, channels):
    """The band-limited output of ``g``: each tone sampled ``oversample`` times faster, ``g``
    applied there, then every bin above the input Nyquist removed (FFT) and decimated."""
    m = np.arange(window * oversample)
    high = amplitude * np.sin(2 * np.pi * np.outer(bins, m) / (window * oversample))
    spectrum = np.fft.rfft(_apply(g, high, channels), axis=1)[:, :window // 2 + 1]
    return np.fft.irfft(spectrum, n=window, axis=1) / oversample


def _aliasing_levels(y, bins, window):
    """Per tone: the power at non-harmonic bins over the total (dB), and the spectra."""
    spectrum = np.abs(np.fft.rfft(y, axis=1)) ** 2
    spectrum[:, 1:window // 2] *= 2  # one-sided: Parseval over the whole circle
    levels = []
    for row, b in zip(spectrum, bins, strict=True):
        harmonic = np.zeros(len(row), bool)
        harmonic[np.arange(0, window // 2 + 1, b)] = True
        levels.append(_db(row[~harmonic].sum() / max(row.sum(), _TINY)))
    total = np.maximum(spectrum.sum(axis=1, keepdims=True), _TINY)
    return np.asarray(levels), _db(spectrum / total)


def measure_aliasing(activation, sample_rate=16000, tones=ALIASING_TONES, amplitude=1.0,
                     window=ALIASING_WINDOW, oversample=64, channels=None):
    """How much of an activation's output is aliasing: energy its nonlinearity folds back
    below the input Nyquist, measured with pure tones.

    ``activation``: a Keras activation name, ``"snake"`` / ``"snakebeta"`` (a
    :class:`~upsample1d.layers.Snake1D` with ``alpha = 1``), a callable or layer on
    channels_last ``(B, T, C)`` tensors that keeps the shape, or an
    :class:`~upsample1d.layers.AliasFreeActivation1D` (``up == down``; any data format). The
    mono probe is tiled to ``channels`` (default: a built Snake's channel count, else 1) and
    the mean output channel is analysed.

    Probes: for each ``f`` in ``tones`` (fractions of ``sample_rate``), the tone
    ``x[n] = amplitude * sin(2 pi b n / N)`` with ``N = window`` and ``b`` the odd bin nearest
    ``f * N`` (so ``b`` and ``N = 2^k`` are coprime), ``N + 2 * 512`` samples long. The
    analysis takes the middle ``N`` output samples (one exact period: no window, no leakage,
    edge transients outside). A pointwise nonlinearity ``g`` of a tone at bin ``b`` makes
    harmonics at ``k b``; those above ``N / 2`` fold to ``+-k b mod N``, which (``b``, ``N``
    coprime) never lands on a harmonic bin ``m b`` for ``k + m < N``. Hence, with ``P`` the
    one-sided power spectrum of the analysed output:

    - ``aliasing_db = 10 log10(sum P[non-harmonic bins] / sum P[all bins])``: folded
      harmonics, plus any image an imperfect up/down filter lets through (and float32
      rounding, about -130 dB);
    - ``error_db = 10 log10(sum (y - y_ideal)^2 / sum y_ideal^2)``, with ``y_ideal`` the ideal
      alias-free output: ``g`` applied to the tone sampled ``oversample`` times faster (exact:
      the tone is analytic), then every bin above ``sample_rate / 2`` removed (FFT) and
      decimated. It adds to the aliasing the in-band attenuation of a real low-pass (the
      harmonics near Nyquist that an alias-free layer's filters damp), and includes the
      reference's own aliasing (harmonics beyond ``oversample * sample_rate / 2``).

    ``mean_aliasing_db`` and ``mean_error_db`` average the ratios (powers) over the tones.

    Example:
    >>> from upsample1d.artifacts import measure_aliasing
    >>> report = measure_aliasing("relu", tones=(0.3,), window=1024, oversample=8)
    >>> bool(report.aliasing_db[0] > -40)      # a rectifier folds much of its output
    True
    """
    from upsample1d import _validation as check

    sample_rate = check.positive_int(sample_rate, "sample_rate")
    window = check.positive_int(window, "window")
    if window < 64 or window & (window - 1):
        raise ValueError(f"`window` must be a power of 2 >= 64, got window={window!r}.")
    oversample = check.positive_int(oversample, "oversample")
    amplitude = check.positive_number(amplitude, "amplitude")
    if channels is not None:
        channels = check.positive_int(channels, "channels")
    if isinstance(tones, numbers.Real):  # one tone
        tones = (tones,)
    tones = [check.positive_number(t, "tones") for t in tones]
    if not tones or max(tones) >= 0.5:
        raise ValueError(f"`tones` must be fractions of sample_rate in (0, 0.5), got "
                         f"tones={tuple(tones)!r}.")
    bins = _tone_bins(tones, window)
    f, g, channels = _nonlinearity(activation, channels)
    n = np.arange(window + 2 * ALIASING_GUARD) - ALIASING_GUARD
    y = _apply(f, amplitude * np.sin(2 * np.pi * np.outer(bins, n) / window), channels)
    y = y[:, ALIASING_GUARD:ALIASING_GUARD + window]
    ideal = _ideal(g, bins, window, amplitude, oversample, channels)
    levels, spectrum_db = _aliasing_levels(y, bins, window)
    error = np.sum((y - ideal) ** 2, axis=1) / np.maximum(np.sum(ideal ** 2, axis=1), _TINY)
    return AliasingReport(
        sample_rate=sample_rate, window=window, amplitude=amplitude, oversample=oversample,
        tones_hz=bins * sample_rate / window, aliasing_db=levels, error_db=_db(error),
        mean_aliasing_db=float(_db(np.mean(10 ** (levels / 10)))),
        mean_error_db=float(_db(np.mean(error))), spectrum_db=spectrum_db)


# Versions compared by aliasing_table / plot_aliasing: label -> AliasFreeActivation1D options
# (None: the plain activation at the input rate).
ALIASING_VERSIONS = {
    "plain": None,
    "alias-free (BigVGAN: alias_free_torch, 2x, 12 taps)": {},
    "alias-free (sinc_bank, 2x, 40 taps)": {"filter": "sinc_bank", "up_kernel_size": 40,
                                            "down_kernel_size": 40},
}


def _version(activation, options):
    from upsample1d.layers.activations import AliasFreeActivation1D

    return activation if options is None else AliasFreeActivation1D(activation, **options)


def aliasing_table(activations=("snake", "leaky_relu", "tanh"), versions=None, **options):
    """:func:`measure_aliasing` of each activation, plain and alias-free: a list of rows.

    ``versions``: ``{label: AliasFreeActivation1D options, or None for the plain activation}``
    (default :data:`ALIASING_VERSIONS`); ``options`` go to :func:`measure_aliasing`. Each row
    is ``{"activation", "version", **report.summary()}``; :func:`format_aliasing_table`
    renders them as markdown (what a command line prints).

    Example:
    >>> from upsample1d.artifacts import aliasing_table
    >>> rows = aliasing_table(["tanh"], window=1024, oversample=8)
    >>> [row["version"].split(" ")[0] for row in rows]
    ['plain', 'alias-free', 'alias-free']
    """
    versions = ALIASING_VERSIONS if versions is None else versions
    rows = []
    for activation in activations:
        for label, layer_options in versions.items():
            report = measure_aliasing(_version(activation, layer_options), **options)
            rows.append({"activation": str(activation), "version": label,
                         **report.summary()})
    return rows


def format_aliasing_table(rows):
    """Rows of :func:`aliasing_table` as a markdown table (levels in dB)."""
    tones = ", ".join(f"{f:.0f}" for f in rows[0]["tones_hz"]) if rows else ""
    lines = [f"| activation | version | aliasing (mean) | error vs ideal (mean) | aliasing "
             f"per tone ({tones} Hz) |", "| :-- | :-- | --: | --: | :-- |"]
    for row in rows:
        per_tone = " / ".join(f"{v:.0f}" for v in row["aliasing_db"])
        lines.append(f"| {row['activation']} | {row['version']} | "
                     f"{row['mean_aliasing_db']:.1f} | {row['mean_error_db']:.1f} | "
                     f"{per_tone} |")
    return "\n".join(lines)


def plot_aliasing(activations=("snake", "leaky_relu", "tanh"), path=None, versions=None,
                  sample_rate=16000, seconds=2.0, amplitude=1.0, dynamic_range_db=80.0):
    """Spectrograms of each activation's output for a sine sweep, one row per activation,
    one column per version (default :data:`ALIASING_VERSIONS`: plain, then alias-free).

    The probe sweeps linearly from 0 to ``sample_rate / 2`` in ``seconds``, amplitude
    ``amplitude``. Harmonics that rise through the input Nyquist fold back and fall: the
    descending lines are aliasing; the rising ones are the harmonics that belong in the band.
    Each panel's title gives the ``mean_aliasing_db`` of :func:`measure_aliasing` (tones at
    the defaults). Each panel in dB re its own peak, ``dynamic_range_db`` deep. Saves to
    ``path`` if given (``upsample1d.artifacts.plot_aliasing(path="docs/aliasing.png")`` makes
    the figure of the documentation); returns the matplotlib Figure. Needs matplotlib and
    scipy.
    """
    from matplotlib.figure import Figure
    from scipy import signal as sps

    versions = ALIASING_VERSIONS if versions is None else versions
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    sweep = amplitude * sps.chirp(t, 0.0, t[-1], sample_rate / 2)
    fig = Figure(figsize=(3.4 * len(versions), 2.5 * len(activations)), layout="constrained")
    axes = fig.subplots(len(activations), len(versions), squeeze=False)
    for row, activation in zip(axes, activations, strict=True):
        for ax, (label, options) in zip(row, versions.items(), strict=True):
            layer = _version(activation, options)
            f, _, channels = _nonlinearity(layer, None)
            y = _apply(f, sweep[None], channels)[0]
            freqs, times, power = sps.spectrogram(y, fs=sample_rate, nperseg=512,
                                                  noverlap=384, window="hann")
            level = measure_aliasing(layer, sample_rate=sample_rate).mean_aliasing_db
            mesh = ax.pcolormesh(times, freqs / 1000, _db(power) - _db(power.max()),
                                 vmin=-dynamic_range_db, vmax=0, shading="auto",
                                 cmap="magma", rasterized=True)
            ax.set_title(f"{activation}, {label}\naliasing {level:.1f} dB", fontsize=7)
            ax.set_xlabel("time (s)", fontsize=7)
            ax.set_ylabel("kHz", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.colorbar(mesh, ax=axes, shrink=0.6, label="dB re peak", aspect=25)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


# --- resamplers: passband, aliasing and imaging on a stepped sweep ----------------------------

RESAMPLER_TONES = 240  # tones of the stepped sweep over the input band
RESAMPLER_WINDOW = 1 << 14  # output samples analysed per tone
RESAMPLER_BETA = 38.0  # Kaiser window of the analysis: sidelobes below -300 dB
RESAMPLER_GUARD = 24  # bins either side of a tone that count as the tone itself


@dataclasses.dataclass
class ResamplerReport:
    """What :func:`measure_resampler` found. Levels in dB relative to the input tone.

    - ``tones_hz``: the stepped sweep, ``RESAMPLER_TONES`` tones over ``(0, fs_in / 2)``;
    - ``gain_db``: per tone, the output level at the tone's own frequency (``-inf`` where it
      lies above the output Nyquist and must go);
    - ``spur_db``: per tone, the strongest output component anywhere else (aliases of tones
      above the output Nyquist, images of the input band, rounding): what should not be there;
    - ``aliasing_db``: the worst ``spur_db`` of the sweep (lower is better);
    - ``passband_ripple_db``: the peak-to-peak ``gain_db`` over the tones up to
      ``passband * min(fs_in, fs_out) / 2``;
    - ``cutoff_hz``: the lowest tone whose gain is below -3 dB (the filter's -3 dB point, to
      the sweep's resolution), None if none is.
    """

    orig_rate: float
    new_rate: float
    passband: float
    tones_hz: np.ndarray
    gain_db: np.ndarray
    spur_db: np.ndarray

    @property
    def aliasing_db(self):
        return float(np.max(self.spur_db))

    @property
    def passband_ripple_db(self):
        edge = self.passband * min(self.orig_rate, self.new_rate) / 2
        inside = self.gain_db[self.tones_hz <= edge]
        return float(np.ptp(inside)) if inside.size else float("nan")

    @property
    def cutoff_hz(self):
        below = self.tones_hz[self.gain_db < -3.0]
        return float(below[0]) if below.size else None

    def summary(self):
        return {"orig_rate": self.orig_rate, "new_rate": self.new_rate,
                "aliasing_db": round(self.aliasing_db, 2),
                "passband_ripple_db": round(self.passband_ripple_db, 5),
                "cutoff_hz": self.cutoff_hz, "passband": self.passband}


def measure_resampler(resample, orig_rate, new_rate, tones=RESAMPLER_TONES, passband=0.9,
                      window=RESAMPLER_WINDOW):
    """Feed a stepped sine sweep through any resampler and measure what it keeps and adds.

    ``resample`` maps a float64 NumPy array ``(N, T)`` (``N`` tones at ``orig_rate``) to
    ``(N, T')`` at ``new_rate``: one of this package's ops (``lambda x: resample_1d(x[..., None],
    new_rate, orig_rate)[..., 0]``) or another library's, called row by row. Each tone is a
    unit sine at ``orig_rate``; of its output, ``window`` samples from the middle (away from the
    edges) are Kaiser-windowed (beta 38) and Fourier transformed. The tone's own bins (its
    frequency, if below the output Nyquist, +-``RESAMPLER_GUARD`` bins) give ``gain_db``; the
    strongest bin anywhere else gives ``spur_db``. Frequencies sit on odd analysis bins, so no
    alias lands exactly on a tone; tones that land (aliased) within ``RESAMPLER_GUARD`` bins
    of DC or the output Nyquist (whose lobe folds onto itself) and, upsampling, tones whose
    image (mirrored about the input Nyquist) would peak among their own bins are left out.
    Returns a :class:`ResamplerReport`.

    Example:
    >>> from scipy.signal import resample_poly
    >>> from upsample1d.artifacts import measure_resampler
    >>> report = measure_resampler(lambda x: resample_poly(x, 2, 1, axis=-1), 8000, 16000,
    ...                            tones=16, window=4096)
    >>> bool(report.aliasing_db > -20)   # its cutoff at Nyquist: a tone there keeps its image
    True
    >>> bool(report.spur_db[report.tones_hz < 3200].max() < -40)  # lower tones: images gone
    True
    """
    from upsample1d import _validation as check

    orig_rate = check.positive_number(orig_rate, "orig_rate")
    new_rate = check.positive_number(new_rate, "new_rate")
    tones = check.positive_int(tones, "tones")
    window = check.positive_int(window, "window")
    passband = check.positive_number(passband, "passband")
    if passband > 1:
        raise ValueError(f"`passband` must be in (0, 1] (a fraction of the lower Nyquist), got "
                         f"passband={passband!r}.")
    if window < 4 * (RESAMPLER_GUARD + 1):
        raise ValueError(f"`window` must be at least {4 * (RESAMPLER_GUARD + 1)} output samples "
                         f"(a tone's {2 * RESAMPLER_GUARD + 1} bins between DC and the output "
                         f"Nyquist), got window={window}.")
    top = int(window * orig_rate / new_rate / 2) - 2  # the input Nyquist, in analysis bins
    if top < 4 * RESAMPLER_GUARD:
        raise ValueError(
            f"`window` ({window} output samples) is too short for {orig_rate:g} -> "
            f"{new_rate:g} Hz: the input band spans {max(top, 0)} analysis bins, and each tone "
            f"needs {2 * RESAMPLER_GUARD + 1}; use window >= "
            f"{int(np.ceil((4 * RESAMPLER_GUARD + 2) * 2 * new_rate / orig_rate))}.")
    margin = window // 2
    out_length = window + 2 * margin
    in_length = int(np.ceil(out_length * orig_rate / new_rate)) + 1
    # odd bins of the analysis, clear of DC, below the input Nyquist
    bins = np.unique(np.linspace(2 * RESAMPLER_GUARD, top, tones).astype(int) | 1)
    # not measurable: a tone whose lobe lands (aliased) across DC or the output Nyquist folds
    # onto itself; upsampling, one whose image (mirrored about the input Nyquist) peaks
    # among its own bins would count as the tone
    landed = np.abs((bins + window // 2) % window - window // 2)
    keep = (landed > RESAMPLER_GUARD) & (np.abs(landed - window // 2) > RESAMPLER_GUARD)
    if new_rate > orig_rate:
        keep &= 2 * np.abs(bins - window * orig_rate / new_rate / 2) > RESAMPLER_GUARD
    bins = bins[keep]
    freqs = bins * new_rate / window
    t = np.arange(in_length) / orig_rate
    x = np.sin(2 * np.pi * freqs[:, None] * t[None, :])
    y = np.asarray(resample(x), np.float64)
    if y.ndim != 2 or y.shape[0] != len(freqs) or y.shape[1] < margin + window:
        raise ValueError(f"`resample` must map ({len(freqs)}, {in_length}) to "
                         f"({len(freqs)}, >= {margin + window}) samples, got {y.shape}")
    taper = np.kaiser(window, RESAMPLER_BETA)
    spectra = np.abs(np.fft.rfft(y[:, margin:margin + window] * taper, axis=1)) ** 2
    reference = (taper.sum() / 2) ** 2  # the peak bin power of a unit sine
    gain, spur = np.full(len(freqs), -np.inf), np.empty(len(freqs))
    lobe = _lobe(taper)
    for row, (b, power) in enumerate(zip(bins, spectra, strict=True)):
        own = np.zeros(power.shape, bool)
        if b < window // 2:  # below the output Nyquist: the tone stays (its lobe may fold)
            own[b - RESAMPLER_GUARD:b + RESAMPLER_GUARD + 1] = True
            gain[row] = _db(power[own].sum() / lobe / reference)
        spur[row] = _db(power[~own].max() / reference)
    return ResamplerReport(orig_rate, new_rate, passband, freqs, gain, spur)


def _lobe(taper):
    """The sum over the main lobe of a unit bin-centred sine's power spectrum, relative to
    its peak bin: what the tone's own bins add up to."""
    n = len(taper)
    middle = n // 4  # as far from DC as from Nyquist: the lobe neither folds nor runs out
    probe = np.abs(np.fft.rfft(np.sin(2 * np.pi * middle * np.arange(n) / n) * taper)) ** 2
    return probe[middle - RESAMPLER_GUARD:middle + RESAMPLER_GUARD + 1].sum() / probe[middle]
