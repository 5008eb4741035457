r"""Fit a small AutoencoderKL on synthetic scene and target pictures (resumable), for a DICEPTION from scratch.

    python scripts/fit_autoencoder.py --output-dir runs/vae --downscale-factor 4 --latent-channels 8 \
        --steps 2000 [--max-seconds 180] [--threads 1]

Run the same command again to go on from the last checkpoint (a larger ``--steps`` extends the fit). The fitted
VAE lands in ``<output-dir>/vae``; train on it with ``--set model.vae_path=<output-dir>/vae`` and the
transformer's ``in_channels``/``out_channels`` set to ``--latent-channels``. Score it against the pixel-shuffle
autoencoder with ``python benchmarks/autoencoder_reconstruction.py --learned <output-dir>/vae``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from diception.training.autoencoder_run import AutoencoderRunConfig

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for option in dataclasses.fields(AutoencoderRunConfig):
        text = f"{option.metadata['help']} (default {option.default!r})"
        parser.add_argument("--" + option.name.replace("_", "-"), dest=option.name, type=type(option.default),
                            default=option.default, help=text)  # fmt: skip
    parser.add_argument("--max-seconds", type=float, help="stop (with a checkpoint) after this many seconds")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    args = vars(parser.parse_args(argv))
    max_seconds, threads = args.pop("max_seconds"), args.pop("threads")

    import torch

    from diception.training.autoencoder_run import fit_autoencoder_run

    if threads:
        torch.set_num_threads(threads)
    folder = fit_autoencoder_run(AutoencoderRunConfig(**args), max_seconds=max_seconds)
    print(f"vae: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
