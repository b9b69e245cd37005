"""The ``upsample1d`` command (also ``python -m upsample1d``)."""

from __future__ import annotations

import argparse
import os
import sys


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _autoencoder(args):
    import keras
    import numpy as np

    from upsample1d.audio import synthetic_audio
    from upsample1d.models import autoencoder

    keras.utils.set_random_seed(args.seed)
    model = autoencoder("subpixel", length=args.length, factor=args.factor)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    audio = synthetic_audio(args.batch * args.steps, args.length, seed=args.seed)
    print(f"seed auto-encoder on backend={keras.backend.backend()}: input {model.input_shape}, "
          f"{model.count_params()} parameters, {args.steps} steps of batch {args.batch}",
          flush=True)
    history = model.fit(audio, audio, batch_size=args.batch, epochs=1, verbose=0,
                        callbacks=[_PrintLoss()], shuffle=False)
    losses = history.history["loss"]
    recon = model.predict(audio[: args.batch], verbose=0)
    snr = 10 * np.log10(np.sum(audio[: args.batch] ** 2) / np.sum((recon - audio[: args.batch])
                                                                  ** 2))
    print(f"final loss {losses[-1]:.6f}; reconstruction SNR {snr:.2f} dB", flush=True)
    return 0


class _PrintLoss:
    """Created lazily so importing the CLI does not import Keras."""

    def __new__(cls):
        import keras

        class PrintLoss(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                print(f"step {batch + 1}: loss {logs['loss']:.6f}", flush=True)

        return PrintLoss()


def build_parser():
    parser = argparse.ArgumentParser(prog="upsample1d", description=__doc__)
    parser.add_argument("--backend", choices=("jax", "tensorflow", "torch"),
                        help="Keras backend (default: KERAS_BACKEND or Keras' own default)")
    sub = parser.add_subparsers(dest="command", required=True)
    ae = sub.add_parser("autoencoder", help="train the seed article's auto-encoder a few steps "
                        "on synthetic audio and print the loss")
    ae.add_argument("--steps", type=_positive_int, default=8)
    ae.add_argument("--batch", type=_positive_int, default=4)
    ae.add_argument("--length", type=_positive_int, default=16384)
    ae.add_argument("--factor", type=_positive_int, default=4)
    ae.add_argument("--seed", type=int, default=0)
    ae.set_defaults(run=_autoencoder)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.backend:
        import keras

        if keras.backend.backend() != args.backend:
            # Keras fixed its backend when this package was imported: start again on the
            # requested one.
            os.environ["KERAS_BACKEND"] = args.backend
            os.execv(sys.executable, [sys.executable, "-m", "upsample1d", *argv])
    try:
        return args.run(args)
    except ValueError as error:
        print(f"upsample1d: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
