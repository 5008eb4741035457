"""The pictures a learned autoencoder is fitted on: synthetic scene pictures and every task's target pictures.

A DICEPTION training example encodes two pictures, the input scene and the task's target, so the autoencoder
has to keep both: photographic texture and the targets' flat colours, hard mask edges, instance colours and
4-pixel keypoint discs. Each picture of a batch is a scene's own picture (share ``image_fraction``) or one task's
target, drawn by the task itself (``Task.draw_example``: the segmented object, the semantic category and the
instance colours are its random choices), so the fit sees exactly the picture language the model speaks.

Batches are a function of ``(seed, step)`` alone, so a resumed fit sees the stream it would have seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..data.synthetic import SyntheticScene, make_sample
from ..errors import DiceptionInputError
from ..tasks import registry

IMAGE_KIND = "image"  # the scene's own picture; every other kind is a task name


def scene_picture(scene: SyntheticScene, kind: str, rng: np.random.Generator) -> np.ndarray:
    """``(H, W, 3)`` float32 in [0, 1]: the scene's picture (``kind == "image"``) or task ``kind``'s target."""
    if kind == IMAGE_KIND:
        return scene.image_float()
    return make_sample(scene, kind, rng).target


class AutoencoderPictures:
    """Deterministic batches of scene and target pictures for fitting an autoencoder.

    Args:
        scenes: the scenes to draw from (a scene bank, :func:`diception.data.synthetic.bank.scene_bank`).
        tasks: registry task names whose targets are drawn, equally often; default all.
        image_fraction: share of scene pictures in a batch, in [0, 1].
        batch_size: pictures per batch.
        crop_size: a random ``crop_size`` square of each picture (a fully convolutional autoencoder learns the
            same filters from crops, 4x cheaper at half the side); ``None`` keeps whole pictures.
        seed: seeds the draws.
    """

    def __init__(self, scenes: Sequence[SyntheticScene], tasks: Sequence[str] | None = None,
                 image_fraction: float = 0.5, batch_size: int = 16, crop_size: int | None = None,
                 seed: int = 0) -> None:  # fmt: skip
        if not scenes:
            raise DiceptionInputError("no scenes to draw autoencoder pictures from; give at least one")
        if not 0.0 <= image_fraction <= 1.0:
            raise DiceptionInputError(f"image_fraction must lie in [0, 1], got {image_fraction}")
        if batch_size < 1:
            raise DiceptionInputError(f"batch_size must be at least 1, got {batch_size}")
        size = min(scenes[0].image.shape[:2])
        if crop_size is not None and not 1 <= crop_size <= size:
            raise DiceptionInputError(f"crop_size must lie in [1, {size}] (the scene side), got {crop_size}")
        names = [registry.get(t).name for t in (tasks if tasks is not None else registry.task_names())]
        if not names and image_fraction < 1.0:
            raise DiceptionInputError("tasks is empty; name a task or set image_fraction to 1")
        self.scenes, self.batch_size, self.crop_size, self.seed = scenes, batch_size, crop_size, seed
        self.kinds = (IMAGE_KIND, *names)
        share = (1.0 - image_fraction) / len(names) if names else 0.0
        self.probabilities = np.array([image_fraction, *[share] * len(names)])

    def pictures(self, rng: np.random.Generator, count: int, crop: bool = True) -> tuple[torch.Tensor, list[str]]:
        """``count`` pictures ``(count, 3, h, w)`` drawn with ``rng``, and the kind of each."""
        out, kinds = [], []
        for _ in range(count):
            scene = self.scenes[int(rng.integers(len(self.scenes)))]
            kind = self.kinds[int(rng.choice(len(self.kinds), p=self.probabilities))]
            picture = scene_picture(scene, kind, rng)
            if crop and self.crop_size is not None:
                top = int(rng.integers(picture.shape[0] - self.crop_size + 1))
                left = int(rng.integers(picture.shape[1] - self.crop_size + 1))
                picture = picture[top : top + self.crop_size, left : left + self.crop_size]
            out.append(torch.from_numpy(np.ascontiguousarray(picture, dtype=np.float32)).permute(2, 0, 1))
            kinds.append(kind)
        return torch.stack(out), kinds

    def batch(self, step: int) -> tuple[torch.Tensor, list[str]]:
        """Training batch ``step``: ``(batch_size, 3, h, w)`` pictures in [0, 1] and their kinds."""
        return self.pictures(np.random.default_rng([self.seed, 0, step]), self.batch_size)

    def calibration_batch(self, count: int = 64) -> torch.Tensor:
        """``count`` whole pictures, drawn apart from every training batch, to calibrate the latents on."""
        return self.pictures(np.random.default_rng([self.seed, 1, 0]), count, crop=False)[0]
