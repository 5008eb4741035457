"""From any dataset of training samples to DICEPTION training batches.

A training sample (see :class:`~diception.training.datasets.TrainingDataset`) is a mapping, or an object with
attributes, holding ``image`` (H, W, 3) float in [0, 1], ``target`` (H, W, 3) float in [0, 1] (the task's target
picture, see ``Task.target_picture``), ``prompt`` (the exact task prompt) and ``points`` (normalised ``(x, y)``,
x = column / width; only read for tasks that accept points, see ``Task.training_points``).

All randomness here (which sample, which points, prompt dropout) comes from a seed per ``(seed, rank, micro-step,
slot)``, so a run resumed at step k draws exactly what an uninterrupted run draws, and no state is saved for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, Sampler

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.points import check_points, point_slots
from .generative_prior import GENERATION_TASK

logger = logging.getLogger(__name__)

SampleKey = tuple[int, tuple[int, ...]]  # (dataset index, seed words)


def sample_field(sample: object, name: str, default: object = None) -> object:
    """``sample[name]`` for a mapping, else ``getattr(sample, name)``."""
    if isinstance(sample, Mapping):
        return sample.get(name, default)
    return getattr(sample, name, default)


def sample_prompts(dataset: Dataset) -> list[str]:
    """The prompt of every index: ``dataset.prompt_of(i)`` when the dataset offers it (cheap), else read."""
    prompt_of = getattr(dataset, "prompt_of", None)
    if callable(prompt_of):
        return [str(prompt_of(i)) for i in range(len(dataset))]
    if len(dataset) > 5000:
        logger.warning("reading all %d samples to learn their prompts; give the dataset a prompt_of(i)", len(dataset))
    return [str(sample_field(dataset[i], "prompt")) for i in range(len(dataset))]


def step_seed(seed: int, rank: int, micro_step: int, salt: int = 0) -> int:
    """A 63-bit seed for one ``(seed, rank, micro-step)``; independent across ranks and steps."""
    return int(np.random.SeedSequence([seed, rank, micro_step, salt]).generate_state(2, np.uint64)[0] >> 1)


class TaskMixtureSampler(Sampler[SampleKey]):
    """An endless stream of ``(index, seed words)``: each draw picks a task by weight, then one of its samples.

    Args:
        prompts: the prompt of each dataset index (gives its task); ``None`` draws indices uniformly (for a
            dataset that mixes tasks itself, such as the synthetic world).
        task_weights: task name -> weight; ``{}`` weighs the tasks present equally, else unnamed tasks get 0.
        batch_size: samples per micro-batch (the seed words carry the micro-step and the slot).
        seed, rank: the run's seed and this process's rank.
        start_micro_step: first micro-step to draw (``step * gradient_accumulation_steps`` on resume).
        size: the dataset's length (needed when ``prompts`` is None).
    """

    def __init__(self, prompts: Sequence[str] | None, task_weights: Mapping[str, float], batch_size: int,
                 seed: int = 0, rank: int = 0, start_micro_step: int = 0, size: int | None = None):  # fmt: skip
        super().__init__()
        self.batch_size, self.seed, self.rank, self.start = batch_size, seed, rank, start_micro_step
        if prompts is None:
            if not size:
                raise DiceptionInputError("the dataset is empty")
            self.tasks, self.indices, self.probabilities = ["any"], [np.arange(size)], np.ones(1)
            return
        by_task: dict[str, list[int]] = {}
        for i, prompt in enumerate(prompts):
            by_task.setdefault(tasks.resolve_request(prompt=prompt).task.name, []).append(i)
        unknown = sorted(set(task_weights) - set(tasks.TASKS))
        if unknown:
            raise DiceptionInputError(f"data.task_weights names unknown task(s) {unknown}; tasks: {list(tasks.TASKS)}")
        missing = [t for t, w in task_weights.items() if w > 0 and t not in by_task]
        if missing:
            logger.warning("tasks %s have weight but no samples in the dataset; they are skipped", missing)
        weights = {t: (task_weights.get(t, 0.0) if task_weights else 1.0) for t in by_task}
        if sum(weights.values()) <= 0:
            raise DiceptionInputError(
                f"no samples to draw: the dataset holds tasks {sorted(by_task)} but data.task_weights gives them no "
                "weight"
            )
        self.tasks = [t for t in by_task if weights[t] > 0]
        self.indices = [np.asarray(by_task[t]) for t in self.tasks]
        total = sum(weights[t] for t in self.tasks)
        self.probabilities = np.asarray([weights[t] / total for t in self.tasks])

    def __iter__(self) -> Iterator[SampleKey]:
        micro = self.start
        while True:
            rng = np.random.default_rng(step_seed(self.seed, self.rank, micro, salt=1))
            for slot in range(self.batch_size):
                k = rng.choice(len(self.tasks), p=self.probabilities)
                yield int(rng.choice(self.indices[k])), (self.seed, self.rank, micro, slot)
            micro += 1


@dataclass(frozen=True)
class ExampleOptions:
    """How samples become training examples."""

    resolution: int  # square side in pixels
    prompt_dropout: float = 0.0  # probability of the unconditional example ("" prompt, zero point tokens)
    min_points: int = 1  # point tasks: fewest points kept
    max_points: int = 5  # point tasks: most points kept
    generative: bool = False  # text-to-image pretraining: the prompt is a caption, not a task prompt


class TrainingExamples(Dataset):
    """A dataset's samples as training examples; indexed by the :class:`TaskMixtureSampler`'s keys."""

    def __init__(self, dataset: Dataset, options: ExampleOptions):
        self.dataset = dataset
        self.options = options

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: SampleKey | int) -> dict:
        index, words = key if isinstance(key, tuple) else (int(key), (int(key),))  # plain index: fixed draws
        return make_example(self.dataset[index], self.options, np.random.default_rng(list(words)), index)


def _picture(value: object, name: str, size: int, mode: str) -> torch.Tensor:
    array = np.asarray(value)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise DiceptionInputError(f"sample field '{name}' must be an (H, W, 3) picture, got shape {array.shape}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)[None]
    if tensor.shape[-2:] != (size, size):
        tensor = F.interpolate(
            tensor, size=(size, size), mode=mode, **({"antialias": True} if mode == "bilinear" else {})
        )
    return tensor[0].clamp(0, 1)  # (3, size, size)


def make_example(sample: object, options: ExampleOptions, rng: np.random.Generator, index: int = -1) -> dict:
    """One training example: resized pictures, the prompt (or "" when dropped) and the points."""
    prompt = sample_field(sample, "prompt")
    if not isinstance(prompt, str):
        raise DiceptionInputError(f"sample {index} has no 'prompt' string (got {prompt!r})")
    if options.generative:  # a caption and the picture to draw; no task, no points
        keep = not (rng.random() < options.prompt_dropout)
        target = _picture(sample_field(sample, "target"), "target", options.resolution, "bilinear")
        return {"image": target, "target": target, "prompt": prompt if keep else "", "task": GENERATION_TASK,
                "points": [], "keep_points": False, "index": index}  # fmt: skip
    spec = tasks.resolve_request(prompt=prompt).task
    target_array = np.asarray(sample_field(sample, "target"))
    given = check_points(sample_field(sample, "points") or (), f"sample {index} points")
    points = spec.training_points(given, target_array.astype(np.float32), rng, options.min_points, options.max_points)
    keep = not (rng.random() < options.prompt_dropout)
    return {
        "image": _picture(sample_field(sample, "image"), "image", options.resolution, "bilinear"),
        "target": _picture(target_array, "target", options.resolution, "nearest"),
        "prompt": prompt if keep else "",
        "task": spec.name,
        "points": points,
        "keep_points": keep,
        "index": index,
    }


def collate(examples: Sequence[dict], point_order: str = "xy") -> dict:
    """Stack examples into a batch: ``image``/``target`` ``(B, 3, R, R)``, ``coords`` ``(B, 5, 2)``, ``is_point``
    and ``keep_points`` ``(B, 5)``/``(B,)``, and the lists ``prompt``, ``task``, ``points``, ``index``."""
    coords, is_point = point_slots([e["points"] for e in examples], point_order)
    return {
        "image": torch.stack([e["image"] for e in examples]),
        "target": torch.stack([e["target"] for e in examples]),
        "coords": coords,
        "is_point": is_point,
        "keep_points": torch.tensor([e["keep_points"] for e in examples]),
        "prompt": [e["prompt"] for e in examples],
        "task": [e["task"] for e in examples],
        "points": [e["points"] for e in examples],
        "index": [e["index"] for e in examples],
    }


class Collator:
    """A picklable ``collate`` with a fixed point order (for DataLoader workers)."""

    def __init__(self, point_order: str = "xy"):
        self.point_order = point_order

    def __call__(self, examples: Sequence[dict]) -> dict:
        return collate(examples, self.point_order)
