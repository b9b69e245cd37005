"""Synthetic audio for demos, tests and training: generated in code, nothing downloaded."""

from __future__ import annotations

import numpy as np

from upsample1d import _validation as check


def synthetic_audio(batch, length, sample_rate=16000, seed=0, noise=0.01):
    """Harmonic tones (random fundamentals 80-800 Hz, 2-6 decaying harmonics below the
    Nyquist, random amplitude envelope) plus white noise of standard deviation ``noise``,
    as float32 ``(batch, length, 1)`` in [-1, 1].

    Example:
    >>> from upsample1d.audio import synthetic_audio
    >>> x = synthetic_audio(2, 16000)
    >>> x.shape, str(x.dtype), bool(abs(x).max() <= 1)
    ((2, 16000, 1), 'float32', True)
    """
    batch = check.positive_int(batch, "batch")
    length = check.positive_int(length, "length")
    sample_rate = check.positive_number(sample_rate, "sample_rate")
    noise = check.non_negative_number(noise, "noise")
    rng = np.random.default_rng(seed)
    t = np.arange(length) / sample_rate
    out = np.zeros((batch, length), np.float64)
    for b in range(batch):
        f0 = rng.uniform(80, 800)
        for k in range(1, rng.integers(2, 7) + 1):
            if f0 * k < sample_rate / 2:
                out[b] += rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t
                                                            + rng.uniform(0, 2 * np.pi))
        envelope = np.interp(t, np.linspace(0, t[-1], 5), rng.uniform(0.3, 1.0, 5))
        out[b] *= envelope
    out += noise * rng.standard_normal(out.shape)
    out /= max(1.0, np.abs(out).max())
    return out[..., None].astype(np.float32)
