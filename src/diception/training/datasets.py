"""Training datasets, chosen by ``data.kind`` in the config.

Any map-style dataset works if ``dataset[i]`` is a training sample (a mapping or object with ``image``,
``target``, ``prompt``, ``points``; see :mod:`diception.training.batching`). Optional attributes:

* ``prompt_of(i)``: the prompt without rendering the sample (``data.task_weights`` needs every index's task);
* ``prompts``: every prompt it can produce (fills a from-scratch model's prompt cache without reading it all);
* ``mixes_tasks = True``: the dataset draws the task of each item itself and takes ``data.task_weights``.

Kinds:

* ``synthetic``: :class:`SyntheticTrainingDataset`, the procedural world of :mod:`diception.data.synthetic`
  (``data.options`` are ``SyntheticTaskDataset`` arguments; ``size`` defaults to ``data.resolution``, ``split``
  to ``train``, or ``validation`` for the validation set);
* ``scene_captions``: the synthetic world's scenes with their captions, for text-to-image pretraining
  (:class:`~diception.data.synthetic.captions.SceneCaptionDataset`; with ``objective.generative``);
* ``manifest``: :class:`ManifestTrainingDataset`, a published-style JSON/JSONL manifest whose ground truth is
  turned into target pictures by each sample's task (``data.options``: ``path``, ``data_root``, ...);
* ``pairs``: :class:`PairsTrainingDataset`, example pairs of a task taught from examples (``data.options``:
  ``path``, a pairs folder or manifest, see :mod:`diception.data.pairs`, and ``task``, its registered name);
* ``python``: ``data.factory = "package.module:function"``, called with ``data.options``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from torch.utils.data import Dataset

from .. import tasks
from ..data.manifest import read_manifest
from ..errors import DiceptionInputError
from ..tasks.task import load_picture
from .config import DataConfig


class TrainingDataset(Protocol):
    """What the trainer reads (``prompt_of`` and ``prompts`` are optional)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


def build_dataset(config: DataConfig, validation: bool = False) -> TrainingDataset:
    """The dataset ``config.kind`` names, built with ``config.options`` (plus ``validation_options``)."""
    options: dict[str, Any] = dict(config.options)
    if validation:
        options.update(config.validation_options)
    if config.kind == "synthetic":
        options.setdefault("split", "validation" if validation else "train")
        return SyntheticTrainingDataset(config.resolution, config.task_weights, **options)
    if config.kind == "scene_captions":
        from ..data.synthetic.captions import SceneCaptionDataset

        options.setdefault("split", "validation" if validation else "train")
        options.setdefault("size", config.resolution)
        return SceneCaptionDataset(**options)
    if config.kind == "manifest":
        return ManifestTrainingDataset(**options)
    if config.kind == "pairs":
        return PairsTrainingDataset(**options)
    if config.kind == "python":
        return _factory(config.factory)(**options)
    raise DiceptionInputError(f"unknown data.kind {config.kind!r}; choose synthetic, manifest or python")


def _factory(spec: str | None) -> Any:
    module_name, sep, attr = (spec or "").partition(":")
    if not sep:
        raise DiceptionInputError(f"data.factory={spec!r} must look like 'package.module:function'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise DiceptionInputError(f"data.factory={spec!r} cannot be imported: {err}") from None


class SyntheticTrainingDataset(Dataset):
    """The synthetic world's ``SyntheticTaskDataset`` (it draws each item's task by ``task_weights`` itself).

    ``prompts`` lists the semantic prompts of the world's categories, which a from-scratch model must cache.
    """

    mixes_tasks = True

    def __init__(self, resolution: int, task_weights: Mapping[str, float] | None = None, **options: Any):
        try:
            package = importlib.import_module("diception.data.synthetic")
            klass = getattr(package, "SyntheticTaskDataset", None)
            if klass is None:
                klass = importlib.import_module("diception.data.synthetic.samples").SyntheticTaskDataset
        except (ImportError, AttributeError) as err:
            raise DiceptionInputError(
                f"data.kind=synthetic needs diception.data.synthetic.SyntheticTaskDataset ({err}); "
                "use data.kind=manifest or python"
            ) from None
        options.setdefault("size", resolution)
        if task_weights:
            options.setdefault("tasks", [t for t, w in task_weights.items() if w > 0])
            options.setdefault("task_weights", {t: w for t, w in task_weights.items() if w > 0})
        self.inner = klass(**options)
        categories = getattr(package, "CATEGORIES", ())
        self.prompts = [s.full_prompt(c) for s in tasks.TASKS.values() if s.needs_category for c in categories]

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> Any:
        return self.inner[index]


class ManifestTrainingDataset(Dataset):
    """Samples of a DICEPTION manifest (:func:`diception.data.read_manifest`) as training samples.

    Args:
        path: the manifest (JSON list or JSON Lines).
        data_root: folder the manifest's paths are relative to (default: the manifest's folder).
        kwargs: further :func:`~diception.data.iter_manifest` arguments (``depth_scale``, ...).
    """

    def __init__(self, path: str, data_root: str | None = None, **kwargs: Any):
        self.samples, errors = read_manifest(path, data_root, **kwargs)
        if not self.samples:
            raise DiceptionInputError(f"manifest {path} yields no usable samples ({'; '.join(errors[:3])})")
        self.errors = errors

    def __len__(self) -> int:
        return len(self.samples)

    def prompt_of(self, index: int) -> str:
        return self.samples[index].prompt

    @property
    def prompts(self) -> list[str]:
        return list(dict.fromkeys(s.prompt for s in self.samples))

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        sample = self.samples[index]
        return {
            "image": load_picture(sample.image_path),
            "target": tasks.get(sample.task).target_picture(sample),
            "prompt": sample.prompt,
            "points": sample.points,
        }


class PairsTrainingDataset(Dataset):
    """Example pairs (:func:`diception.data.pairs.read_pairs`) of the registered task ``task``."""

    def __init__(self, path: str, task: str):
        from ..data.pairs import read_pairs

        self.pairs = read_pairs(path)
        self.task = tasks.get(task)

    def __len__(self) -> int:
        return len(self.pairs)

    def prompt_of(self, index: int) -> str:
        return self.task.prompt

    @property
    def prompts(self) -> list[str]:
        return [self.task.prompt]

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        pair = self.pairs[index]
        return {"image": load_picture(pair.image), "target": load_picture(pair.target), "prompt": self.task.prompt,
                "points": ()}  # fmt: skip
