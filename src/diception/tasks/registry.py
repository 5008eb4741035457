"""DICEPTION's six tasks: the single source of truth for names, prompts and how outputs are read.

A task is selected by a text prompt (``[[image2depth]]``, ...). The pipeline, the command line and the tests
look tasks up here and never branch on a task's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import DiceptionInputError
from . import depth, instances, normals, point_seg, pose

MAX_POINTS = 5  # the model always receives exactly this many point slots

# The 80 COCO "thing" categories, spelled as the semantic prompt expects them.
COCO_CATEGORIES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


@dataclass(frozen=True)
class TaskSpec:
    """One perception task.

    Attributes:
        name: short name used by the API and CLI (``"depth"``).
        prompt: the text prompt the model was trained with (``"[[image2depth]]"``).
        description: one line for help texts.
        output: what the model's RGB picture encodes, for the docs.
        prediction_kind: what :attr:`decode` returns; the CLI picks its file writers from it:
            ``"depth"`` (``(H, W)`` float32 disparity, near = 1), ``"normal"`` (``(H, W, 3)`` unit vectors),
            ``"mask"`` (:class:`~.point_seg.MaskPrediction`), ``"instances"`` (list of
            :class:`~.instances.Instance`) or ``"keypoints"`` (list of :class:`~.pose.PersonPose`).
        decode: RGB output ``(H, W, 3)`` in [0, 1] -> structured prediction.
        encode: ground truth (and task-specific keywords) -> the ``(H, W, 3)`` float32 target picture in
            [0, 1] the model is trained to produce.
        needs_category: the prompt takes a category (``[[image2semantic]] person``).
        accepts_points: the task reads point prompts.
        fast_preset_ok: one step without guidance gives near-full quality (paper, Sec. 4).
    """

    name: str
    prompt: str
    description: str
    output: str
    prediction_kind: str
    decode: Callable[[np.ndarray], object] = field(repr=False)
    encode: Callable[..., np.ndarray] = field(repr=False)
    needs_category: bool = False
    accepts_points: bool = False
    fast_preset_ok: bool = False

    def full_prompt(self, category: str | None = None) -> str:
        """The exact prompt string for this task (with the category appended for semantic segmentation)."""
        if self.needs_category:
            if not category:
                raise DiceptionInputError(
                    f"task '{self.name}' needs a category, e.g. category='person' (CLI: --category person)"
                )
            return f"{self.prompt} {category.strip()}"
        if category:
            raise DiceptionInputError(f"task '{self.name}' takes no category; drop category='{category}'")
        return self.prompt


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            name="depth",
            prompt="[[image2depth]]",
            description="monocular depth (relative disparity, near = bright)",
            output="normalised disparity, grey (3 equal channels)",
            prediction_kind="depth",
            decode=depth.decode,
            encode=depth.encode,
            fast_preset_ok=True,
        ),
        TaskSpec(
            name="normal",
            prompt="[[image2normal]]",
            description="surface normals (unit vectors)",
            output="normal vector n mapped to (n + 1) / 2",
            prediction_kind="normal",
            decode=normals.decode,
            encode=normals.encode,
            fast_preset_ok=True,
        ),
        TaskSpec(
            name="pose",
            prompt="[[image2pose]]",
            description="human pose (skeleton drawing, keypoints in pure red)",
            output="COCO skeletons on black, keypoints as red discs",
            prediction_kind="keypoints",
            decode=pose.decode,
            encode=pose.encode,
        ),
        TaskSpec(
            name="segmentation",
            prompt="[[image2segmentation]]",
            description="point-prompted segmentation (1-5 points on one object)",
            output="white mask on black",
            prediction_kind="mask",
            decode=point_seg.decode,
            encode=point_seg.encode,
            accepts_points=True,
        ),
        TaskSpec(
            name="semantic",
            prompt="[[image2semantic]]",
            description="instances of one category, e.g. person",
            output="each instance of the category in a random colour on black",
            prediction_kind="instances",
            decode=instances.decode,
            encode=instances.encode,
            needs_category=True,
        ),
        TaskSpec(
            name="entity",
            prompt="[[image2entity]]",
            description="entity segmentation (every object, class-agnostic)",
            output="each entity in a random colour on black",
            prediction_kind="instances",
            decode=instances.decode,
            encode=instances.encode,
        ),
    )
}

_BY_PROMPT = {spec.prompt: spec for spec in TASKS.values()}


def task_names() -> list[str]:
    """All task names, in registry order."""
    return list(TASKS)


def get(name: str) -> TaskSpec:
    """The task called ``name``; a clear error listing the valid names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise DiceptionInputError(f"unknown task '{name}'; choose one of: {', '.join(TASKS)}") from None


def cached_prompt_set() -> list[str]:
    """The prompts a saved model carries embeddings for: the empty prompt (CFG), the six task prompts and
    ``[[image2semantic]] <c>`` for the 80 COCO categories."""
    prompts = [""]
    for spec in TASKS.values():
        if spec.needs_category:
            prompts += [spec.full_prompt(c) for c in COCO_CATEGORIES]
        else:
            prompts.append(spec.prompt)
    return prompts


@dataclass(frozen=True)
class TaskRequest:
    """What one image is asked: the task, the exact prompt text, and its points.

    ``points`` are normalised ``(x, y)`` pairs in [0, 1] (x = column / width, y = row / height).
    """

    task: TaskSpec
    prompt: str
    points: tuple[tuple[float, float], ...] = ()


def _task_from_prompt(prompt: str) -> tuple[TaskSpec, str | None]:
    text = prompt.strip()
    for tag, spec in _BY_PROMPT.items():
        if text == tag or text.startswith(tag + " "):
            rest = text[len(tag) :].strip()
            return spec, (rest or None)
    raise DiceptionInputError(
        f"prompt '{prompt}' names no known task; it must start with one of: {', '.join(_BY_PROMPT)}"
    )


def resolve_request(
    task: str | None = None,
    prompt: str | None = None,
    category: str | None = None,
    points: Sequence[Sequence[float]] | None = None,
) -> TaskRequest:
    """Turn the user's (task | prompt, category, normalised points) into a validated :class:`TaskRequest`."""
    if task is None and prompt is None:
        raise DiceptionInputError(f"no task given; pass task= one of: {', '.join(TASKS)} (or a raw prompt=)")
    if prompt is not None:
        spec, prompt_category = _task_from_prompt(prompt)
        if task is not None and get(task).name != spec.name:
            raise DiceptionInputError(f"task '{task}' and prompt '{prompt}' disagree; pass only one of them")
        if prompt_category and category and prompt_category != category:
            raise DiceptionInputError(f"prompt '{prompt}' already names category '{prompt_category}'")
        category = category or prompt_category
    else:
        spec = get(task)
    text = spec.full_prompt(category)

    pts: tuple[tuple[float, float], ...] = ()
    if points is not None and len(points) > 0:
        if not spec.accepts_points:
            raise DiceptionInputError(
                f"task '{spec.name}' takes no points; points are for: "
                + ", ".join(s.name for s in TASKS.values() if s.accepts_points)
            )
        if len(points) > MAX_POINTS:
            raise DiceptionInputError(f"{len(points)} points given; the model takes at most {MAX_POINTS}")
        checked = []
        for p in points:
            if len(p) != 2:
                raise DiceptionInputError(f"point {tuple(p)} must have exactly two coordinates (x, y)")
            x, y = float(p[0]), float(p[1])
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or np.isnan(x) or np.isnan(y):
                raise DiceptionInputError(f"point ({x:g}, {y:g}) lies outside the image")
            checked.append((x, y))
        pts = tuple(checked)
    return TaskRequest(task=spec, prompt=text, points=pts)
