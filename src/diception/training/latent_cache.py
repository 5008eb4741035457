"""Latents of a banked synthetic training set, encoded once, so training does not run the VAE encoder each step.

A learned VAE's encoder costs about as much per picture as a step of the tiny transformer, and every training
example encodes two pictures. With a scene bank the pictures are fixed: item ``i`` of a
:class:`~diception.data.synthetic.SyntheticTaskDataset` is scene ``i % num_scenes`` with the task draw of
``(seed, epoch, scene, draw)``, so its target picture is too. This encodes each scene's picture and each item's
target picture once with the pipeline's own ``encode_condition`` (shifted and scaled posterior means, exactly what
the trainer feeds the model) and keeps them in one ``.npz`` of plain arrays beside the bank::

    image    (num_scenes, C, h, w) float32   scene s's picture
    target   (num_items, C, h, w) float32    item i's target picture
    prompts  (num_items,) str                item i's prompt, to check the draws have not changed

A :class:`~diception.data.synthetic.captions.SceneCaptionDataset` (text-to-image pretraining) stores ``image``
and ``prompts`` only: each of its items is a scene whose picture is its own target.

The file name is a digest of the bank, the draws (seed, epoch, draws per scene, tasks and weights) and the
autoencoder (config and weights), so another VAE, a recalibrated one or other draws never reuse it. The points and
the prompt dropout are drawn per training step and are not part of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..atomic_files import write_atomically
from ..data.synthetic import SyntheticTaskDataset
from ..data.synthetic.bank import bank_file
from ..errors import DiceptionInputError

CACHE_VERSION = 1  # bump when what is stored changes


def autoencoder_fingerprint(vae: torch.nn.Module) -> str:
    """16 hex digits of ``sha256`` over the autoencoder's class, config (without its load path) and weights."""
    digest = hashlib.sha256(type(vae).__name__.encode())
    config = {k: v for k, v in dict(vae.config).items() if k != "_name_or_path"}
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(vae.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _is_captions(dataset) -> bool:
    return getattr(dataset, "task", None) == "text2image"  # a SceneCaptionDataset: its pictures are its targets


def latent_cache_file(cache_dir: str | os.PathLike, dataset: SyntheticTaskDataset, fingerprint: str) -> Path:
    """Where the latents of ``dataset``'s items under the autoencoder ``fingerprint`` live in ``cache_dir``."""
    bank = bank_file(cache_dir, dataset.seeds, dataset.size)
    if _is_captions(dataset):
        draws = [CACHE_VERSION, bank.name, "captions", fingerprint]
    else:
        draws = [CACHE_VERSION, bank.name, dataset.seed, dataset.epoch, dataset.draws_per_scene, list(dataset.tasks),
                 [round(float(p), 12) for p in dataset.task_probabilities], fingerprint]  # fmt: skip
    key = hashlib.sha256(json.dumps(draws).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{bank.stem}-latents-{key}.npz"


@torch.no_grad()
def encode_dataset(dataset: SyntheticTaskDataset, encode: Callable[[torch.Tensor], torch.Tensor],
                   batch_size: int = 64) -> dict[str, np.ndarray]:  # fmt: skip
    """The arrays of the module doc: ``encode`` maps ``(B, 3, H, W)`` pictures in [0, 1] to latents. Pictures are
    drawn and encoded ``batch_size`` at a time, so memory holds latents, not the dataset's pixels."""
    prompts: list[str] = []

    def encoded(count: int, picture: Callable[[int], np.ndarray]) -> np.ndarray:
        chunks = []
        for start in range(0, count, batch_size):
            batch = np.stack([picture(i) for i in range(start, min(start + batch_size, count))])
            chunks.append(encode(torch.from_numpy(batch).permute(0, 3, 1, 2)).float().cpu().numpy())
        return np.concatenate(chunks)

    def target(index: int) -> np.ndarray:
        item = dataset[index]
        prompts.append(item.prompt)
        return np.asarray(item.target, dtype=np.float32)

    images = encoded(len(dataset.seeds), lambda index: dataset[index].image)  # draw 0 of each scene: its picture
    if _is_captions(dataset):  # each item is one scene, drawn as itself: no targets of their own
        return {"image": images, "prompts": np.array(dataset.captions)}
    return {"image": images, "target": encoded(len(dataset), target), "prompts": np.array(prompts)}


def dataset_latents(dataset: SyntheticTaskDataset, pipe, cache_dir: str | os.PathLike,
                    batch_size: int = 64) -> dict[str, np.ndarray]:  # fmt: skip
    """The latents of ``dataset`` under ``pipe``'s autoencoder: read from ``cache_dir``, else encoded with
    ``pipe.encode_condition`` and written there (atomically)."""
    path = latent_cache_file(cache_dir, dataset, autoencoder_fingerprint(pipe.vae))
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                latents = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise DiceptionInputError(f"latent cache {path} cannot be read ({err}); delete it to encode "
                                      "again") from None  # fmt: skip
        latents.setdefault("target", latents.get("image"))
        items = len(dataset.seeds) if _is_captions(dataset) else len(dataset)
        if any(name not in latents for name in ("image", "prompts")) or len(latents["target"]) != items \
                or len(latents["image"]) != len(dataset.seeds):  # fmt: skip
            raise DiceptionInputError(f"latent cache {path} does not hold the {len(dataset)} items of this dataset; "
                                      "delete it to encode again")  # fmt: skip
        return latents
    latents = encode_dataset(dataset, pipe.encode_condition, batch_size)
    write_atomically(path, lambda stream: np.savez(stream, **latents))
    latents.setdefault("target", latents["image"])
    return latents
