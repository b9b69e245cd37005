"""Streaming a whole recording chunk by chunk, as a real-time system would: what the
``upsample1d stream`` command runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from upsample1d import _validation as check

REFERENCES = ("autoencoder", "demucs")


def reference_model(name, channels, seed=0):
    """A reference model that streams, with random weights (``seed``), for ``channels``
    channels of audio at any length: ``"autoencoder"`` (:func:`upsample1d.models.
    autoencoder`) or ``"demucs"`` (:func:`upsample1d.models.demucs_like` with unidirectional
    LSTMs)."""
    from upsample1d.models import autoencoder, demucs_like

    name = check.choice(name, "reference", REFERENCES)
    keras.utils.set_random_seed(seed)
    if name == "autoencoder":
        return autoencoder(length=None, channels=channels)
    return demucs_like(length=None, in_channels=channels, lstm="unidirectional")


def load_model(path):
    """A saved ``.keras`` model (the package's layers are registered since Keras was
    imported: see :mod:`upsample1d`)."""
    return keras.saving.load_model(path)


@dataclass
class StreamRun:
    """The output of :func:`stream_audio` and what it took: ``output`` ``(T_out, C)``;
    ``seconds`` per chunk (``step``; the last entry is ``flush``); ``padded``: zeros added
    to make the last chunk a multiple of the hop (their output is cut off)."""

    output: np.ndarray
    seconds: list = field(default_factory=list)
    padded: int = 0


def stream_audio(stream, audio, chunk, step=None, on_chunk=None):
    """``audio`` ``(T, C)`` (NumPy, float32, channels last whatever the model's layout) run
    through ``stream`` in chunks of ``chunk`` samples, batch 1, then flushed. The last chunk
    is the remainder, padded with zeros to a multiple of ``stream.hop``, and the output is cut
    to ``floor(T * rate)`` samples (``rate`` = ``stream.output_rate``): it equals the offline
    ``model(x_padded)[:floor(T * rate)]``, with ``x_padded`` the input followed by those zeros
    (which a model that looks ahead reads near the end, as it would offline). ``step``
    (default ``stream.step``; e.g. ``stream.compiled_step()``); ``on_chunk(done, total,
    seconds)`` after each chunk."""
    chunk = check.chunk_length(chunk, stream.hop)
    step = step or stream.step
    audio = np.asarray(audio, np.float32)
    length = audio.shape[0]
    padded = -length % stream.hop
    audio = np.concatenate([audio, np.zeros((padded, audio.shape[1]), np.float32)])
    first = stream.data_format == "channels_first"
    state, parts, seconds = stream.initial_state(1), [], []
    starts = range(0, audio.shape[0], chunk)
    for index, start in enumerate(starts):
        x = audio[None, start:start + chunk]
        began = time.perf_counter()
        y, state = step(keras.ops.convert_to_tensor(x.transpose(0, 2, 1) if first else x),
                        state)
        parts.append(keras.ops.convert_to_numpy(y))  # waits for the result
        seconds.append(time.perf_counter() - began)
        if on_chunk is not None:
            on_chunk(index + 1, len(starts), seconds[-1])
    began = time.perf_counter()
    parts.append(keras.ops.convert_to_numpy(stream.flush(state)))
    seconds.append(time.perf_counter() - began)
    output = np.concatenate(parts, axis=2 if first else 1)[0]
    output = output.T if first else output
    rate = stream.output_rate
    return StreamRun(output[:int(length * rate)], seconds, padded)
