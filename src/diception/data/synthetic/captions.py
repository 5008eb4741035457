"""Captions of synthetic scenes, for text-to-image pretraining (the generative prior before perception).

SD3 learnt to draw from captions before DICEPTION taught it to perceive. The synthetic world has no text, but
each scene's own parameters say what it shows, so a caption is made of one word per category in view::

    box:2:left ball:1:right person:1:middle

``<category>:<count>:<where>``: how many instances of the category the picture shows and which third of the
picture (left, middle, right) holds the centre of its largest one. Words come in :data:`CATEGORIES` order. A
model without a text encoder embeds each word on its own (``model.prompt_embedding: words``), so captions it has
never seen are still made of words it knows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ... import tasks
from .bank import scene_bank
from .render import SyntheticScene, render_scene
from .samples import split_seeds
from .scene import CATEGORIES

THIRDS = ("left", "middle", "right")


def scene_caption(scene: SyntheticScene) -> str:
    """The caption of ``scene``: ``<category>:<count>:<where>`` for each category it shows."""
    ids = scene.instance_ids
    width = ids.shape[1]
    columns = np.broadcast_to(np.arange(width), ids.shape)
    words = []
    for category in CATEGORIES:
        instances = [i for i, c in scene.instance_categories.items() if c == category]
        if not instances:
            continue
        areas = [(int((ids == i).sum()), i) for i in instances]
        largest = max(areas)[1]
        centre = float(columns[ids == largest].mean()) / width
        words.append(f"{category}:{len(instances)}:{THIRDS[min(int(centre * 3), 2)]}")
    return " ".join(words)


class CaptionedScene(NamedTuple):
    """One text-to-image example: the scene picture is both what is drawn and (unused) the input image."""

    image: np.ndarray  # (H, W, 3) float32 in [0, 1]
    target: np.ndarray  # the same picture: what the generator learns to draw
    prompt: str  # the scene's caption
    points: tuple = ()
    task: str = "text2image"


class SceneCaptionDataset:
    """The scenes of a synthetic split as (caption, picture) pairs; ``data.kind: scene_captions``.

    Args:
        split, size, num_scenes, scene_cache: as :class:`~.samples.SyntheticTaskDataset` (the same scenes, so
            a bank rendered for perception training is reused).
        draws_per_scene: items per scene, as there; item ``i`` is scene ``i % num_scenes`` (a scene has one
            caption and one picture, so its items differ only in what training draws for them per step).
    """

    task = "text2image"
    mixes_tasks = True  # no task weighting: every scene is equally likely

    def __init__(self, split: str = "train", size: int = 128, num_scenes: int = 2000,
                 scene_cache: str | None = None, draws_per_scene: int = 1) -> None:  # fmt: skip
        self.seeds = split_seeds(split, num_scenes)
        self.draws_per_scene = max(int(draws_per_scene), 1)
        self.size = int(size)
        self.scenes = scene_bank(scene_cache, self.seeds, self.size) if scene_cache else None
        self._captions: list[str] | None = None

    def __len__(self) -> int:
        return len(self.seeds) * self.draws_per_scene

    def scene(self, index: int) -> SyntheticScene:
        return self.scenes[index] if self.scenes is not None else render_scene(self.seeds[index], self.size)

    @property
    def captions(self) -> list[str]:
        """Every scene's caption, in index order (read once from the scenes)."""
        if self._captions is None:
            self._captions = [scene_caption(self.scene(i)) for i in range(len(self.seeds))]
        return self._captions

    def prompt_of(self, index: int) -> str:
        return self.captions[index % len(self.seeds)]

    @property
    def prompts(self) -> list[str]:
        """The captions, then the category prompts of the world (so a model pretrained on captions caches every
        prompt its perception fine-tuning will use)."""
        categorised = [s.full_prompt(c) for s in tasks.TASKS.values() if s.needs_category for c in CATEGORIES]
        return list(dict.fromkeys([*self.captions, *categorised]))

    def __getitem__(self, index: int) -> CaptionedScene:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} scenes")
        index %= len(self.seeds)
        picture = self.scene(index).image_float()
        return CaptionedScene(picture, picture, self.prompt_of(index))

    def __iter__(self) -> Iterator[CaptionedScene]:
        for index in range(len(self)):
            yield self[index]
