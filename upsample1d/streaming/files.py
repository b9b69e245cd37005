"""Streaming a whole recording chunk by chunk, as a real-time system would: what the
``upsample1d stream`` command runs."""

from __future__ import annotations

import random
import sys
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
    seed_weights(seed)
    if name == "autoencoder":
        return autoencoder(length=None, channels=channels)
    return demucs_like(length=None, in_channels=channels, lstm="unidirectional")


def seed_weights(seed):
    """Seed what the weights of a newly built Keras model are drawn from, as
    ``keras.utils.set_random_seed(seed)`` does, without importing TensorFlow where the backend
    is another one (``set_random_seed`` imports it to seed it, which takes seconds and logs):
    Python's ``random`` (an unseeded Keras initializer or ``SeedGenerator`` takes its seed
    from it), NumPy's and, on torch, torch's global generator. TensorFlow's is seeded only
    where it is already imported. Unlike ``set_random_seed`` it leaves Keras' global
    ``SeedGenerator`` (unseeded ``keras.random`` calls, which building a model does not
    make) as it is."""
    if "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeded as set_random_seed seeds it
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


def load_model(path):
    """A saved ``.keras`` model (the package's layers are registered since Keras was
    imported: see :mod:`upsample1d`)."""
    return keras.saving.load_model(path)


@dataclass
class StreamRun:
    """The output of :func:`stream_audio` and what it took: ``output`` ``(T_out, C)``;
    ``seconds`` per chunk (``step``; the last entry is ``flush``); ``padded``: zeros added
    to make the last chunk a multiple of the hop (their output is cut off); ``samples``: the
    input samples each chunk held, padding aside (the last entry, for ``flush``, is 0);
    ``steady``: per chunk, whether its chunk and state shapes had been seen before (the first
    call with new shapes compiles, a compiled step's and JAX's eager ops alike; the last
    entry, for ``flush``, is False)."""

    output: np.ndarray
    seconds: list = field(default_factory=list)
    padded: int = 0
    samples: list = field(default_factory=list)
    steady: list = field(default_factory=list)

    def median_chunk(self):
        """The index of the chunk (``flush`` aside) whose time per input sample is the median
        (the lower one for an even count) among the steady chunks, or among all where none is
        (a file shorter than the stream's warm-up): the chunk of the real-time factor, its
        time over the audio it held, which is right for a short last chunk or a single chunk
        shorter than the chunk length too."""
        chunks = range(len(self.seconds) - 1)
        steady = [i for i in chunks if i < len(self.steady) and self.steady[i]]
        chosen = steady or list(chunks)
        ratios = [self.seconds[i] / self.samples[i] for i in chosen]
        return chosen[int(np.argsort(ratios, kind="stable")[(len(ratios) - 1) // 2])]


def stream_audio(stream, audio, chunk, step=None, on_chunk=None):
    """``audio`` ``(T, C)`` (NumPy, channels last whatever the model's layout; cast to the
    stream's input dtype) run through ``stream`` in chunks of ``chunk`` samples, batch 1, then
    flushed. The last chunk is the remainder, padded with zeros to a multiple of
    ``stream.hop``, and the output (in the model's output dtype) is cut to ``floor(T * rate)``
    samples (``rate`` = ``stream.output_rate``): it equals the offline
    ``model(x_padded)[:floor(T * rate)]``, with ``x_padded`` the input followed by those zeros
    (which a model that looks ahead reads near the end, as it would offline). ``step``
    (default ``stream.step``; e.g. ``stream.compiled_step()``); ``on_chunk(done, total,
    seconds)`` after each chunk. ValueError for audio without samples."""
    chunk = check.chunk_length(chunk, stream.hop)
    step = step or stream.step
    # a sound file is read as float32, and a float64 model's stream refuses float32 chunks
    audio = np.asarray(audio, stream._input_dtype)
    length = audio.shape[0]
    if length == 0:
        raise ValueError("stream_audio needs at least one sample of audio, got none")
    padded = -length % stream.hop
    audio = np.concatenate([audio, np.zeros((padded, audio.shape[1]), audio.dtype)])
    first = stream.data_format == "channels_first"
    state, parts, seconds = stream.initial_state(1), [], []
    seen, steady = set(), []
    starts = range(0, audio.shape[0], chunk)
    for index, start in enumerate(starts):
        x = audio[None, start:start + chunk]
        shapes = (x.shape, tuple(sorted((k, tuple(v.shape)) for k, v in state.items())))
        steady.append(shapes in seen)
        seen.add(shapes)
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
    held = [min(chunk, length - start) for start in starts] + [0]
    return StreamRun(output[:int(length * rate)], seconds, padded, held, steady + [False])
