"""Training samples from synthetic scenes: seed splits, one task's target picture, and a dataset of them.

Splits are disjoint seed ranges (:data:`SPLIT_BASES`): ``train`` uses seeds from 0, ``validation`` from
10,000,000 and ``test`` from 20,000,000, each at most :data:`SPLIT_SPAN` seeds long, so no scene is in two
splits. Each task draws its own example from a scene's ground truth (``Task.draw_example``), so the synthetic
data speaks exactly the picture language the model is trained and decoded with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ...errors import DiceptionInputError
from ...tasks import registry
from ...tasks.task import TaskExample
from ..sample import Sample
from .bank import scene_bank
from .render import SyntheticScene, render_scene

SPLIT_BASES = {"train": 0, "validation": 10_000_000, "test": 20_000_000}  # first seed of each split
SPLIT_SPAN = 10_000_000  # seeds per split


def split_seeds(split: str, count: int, start: int = 0) -> range:
    """Seeds ``start .. start + count - 1`` of ``split`` (``"train"``, ``"validation"`` or ``"test"``)."""
    if split not in SPLIT_BASES:
        raise DiceptionInputError(f"unknown split '{split}'; choose one of: {', '.join(SPLIT_BASES)}")
    if count < 0 or start < 0 or start + count > SPLIT_SPAN:
        raise DiceptionInputError(
            f"start={start}, count={count} leaves the split's {SPLIT_SPAN} seeds; need 0 <= start, 0 <= count "
            f"and start + count <= {SPLIT_SPAN}"
        )
    base = SPLIT_BASES[split]
    return range(base + start, base + start + count)


class TrainingSample(NamedTuple):
    """A dataset item: input ``image`` ``(H, W, 3)`` float32 in [0, 1] and its :class:`TaskExample` parts."""

    image: np.ndarray
    target: np.ndarray
    prompt: str
    points: tuple[tuple[float, float], ...]
    task: str


def scene_sample(scene: SyntheticScene) -> Sample:
    """All of a scene's ground truth as one :class:`~diception.data.Sample` (no task yet), for the tasks to draw
    their examples from."""
    return Sample(
        image=scene.image, sample_id=str(scene.seed), depth=scene.depth, normals=scene.normals,
        valid_mask=scene.valid, instances=scene.instance_ids, instance_categories=dict(scene.instance_categories),
        keypoints=list(scene.keypoints.values()), person_ids=tuple(scene.keypoints),
    )  # fmt: skip


def make_sample(scene: SyntheticScene, task: str, rng: np.random.Generator) -> TaskExample:
    """The target picture, prompt and points of ``task`` (a registry name) for ``scene``.

    Random choices (which object to segment and where its 1-5 points go, which present category a semantic
    prompt names, the instance colours) come from ``rng``.
    """
    return registry.get(task).draw_example(scene_sample(scene), rng)


def _task_weights(tasks: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None) -> np.ndarray:
    if weights is None:
        w = np.ones(len(tasks))
    elif isinstance(weights, Mapping):
        unknown = set(weights) - set(tasks)
        if unknown:
            raise DiceptionInputError(f"task_weights names tasks not in tasks: {', '.join(sorted(unknown))}")
        w = np.array([float(weights.get(t, 0.0)) for t in tasks])
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(tasks),):
            raise DiceptionInputError(f"task_weights has {w.size} entries for {len(tasks)} tasks; give one per task")
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise DiceptionInputError(f"task_weights must be non-negative with a positive sum, got {w.tolist()}")
    return w / w.sum()


class SyntheticTaskDataset:
    """Synthetic training samples: item ``i`` is scene ``i % num_scenes`` of ``split`` with one task.

    A map-style dataset (``len`` and indexing; a ``torch.utils.data.DataLoader`` takes it as is, with a collate
    function for the variable-length points) that can also be iterated. Scene ``i`` is always the same picture;
    the task, the segmented object, its points and the instance colours are drawn from ``(seed, epoch, scene,
    draw)``, so :meth:`set_epoch` gives fresh task choices on the same scenes.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (:data:`SPLIT_BASES`).
        size: picture side in pixels (64-128 intended).
        tasks: registry task names to draw from; default all six.
        task_weights: relative frequency per task (a mapping by name, or one number per task); default equal.
        seed: seeds the task draws.
        num_scenes: scenes in the dataset, at most :data:`SPLIT_SPAN`; default all of the split.
        draws_per_scene: items per scene; item ``i`` shows scene ``i % num_scenes``, and each of a scene's items
            draws its own task and random choices (more training examples from fewer rendered scenes).
        scene_cache: a folder to keep the scenes in (:mod:`.bank`): rendered once, on all cores, then read
            from disk. Default: render each item on the fly.
    """

    def __init__(
        self,
        split: str = "train",
        size: int = 128,
        tasks: Sequence[str] | None = None,
        task_weights: Mapping[str, float] | Sequence[float] | None = None,
        seed: int = 0,
        num_scenes: int = SPLIT_SPAN,
        draws_per_scene: int = 1,
        scene_cache: str | None = None,
    ) -> None:
        self.seeds = split_seeds(split, num_scenes)
        if int(draws_per_scene) < 1:
            raise DiceptionInputError(f"draws_per_scene must be at least 1, got {draws_per_scene}")
        self.draws_per_scene = int(draws_per_scene)
        self.scenes = scene_bank(scene_cache, self.seeds, int(size)) if scene_cache else None
        self.split, self.size, self.seed, self.epoch = split, int(size), int(seed), 0
        self.tasks = tuple(registry.get(t).name for t in (tasks if tasks is not None else registry.task_names()))
        if not self.tasks:
            raise DiceptionInputError("tasks is empty; name at least one of: " + ", ".join(registry.task_names()))
        self.task_probabilities = _task_weights(self.tasks, task_weights)

    def set_epoch(self, epoch: int) -> None:
        """Draw tasks anew for ``epoch`` (the scenes stay the same)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.seeds) * self.draws_per_scene

    def __getitem__(self, index: int) -> TrainingSample:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        draw, scene_index = divmod(index % len(self), len(self.seeds))
        scene_seed = self.seeds[scene_index]
        scene = self.scenes[scene_index] if self.scenes is not None else render_scene(scene_seed, self.size)
        words = [self.seed, self.epoch, scene_seed] + ([draw] if draw else [])  # draw 0: as before banks existed
        rng = np.random.default_rng(words)
        task = self.tasks[int(rng.choice(len(self.tasks), p=self.task_probabilities))]
        example = make_sample(scene, task, rng)
        return TrainingSample(scene.image_float(), example.target, example.prompt, example.points, task)

    def __iter__(self) -> Iterator[TrainingSample]:
        for index in range(len(self)):
            yield self[index]
