"""The task registry: every task by name and by prompt; registering a new one is one call.

The six DICEPTION tasks are registered at import. A user-defined task (a subclass of :class:`~.task.Task`,
e.g. a few-shot adapter's) is registered with :func:`register`; from then on the pipeline, the command line,
the data readers, evaluation and training all serve it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DiceptionInputError
from .depth import DepthTask
from .instances import EntityTask, SemanticTask
from .normals import NormalTask
from .point_seg import SegmentationTask
from .points import Point, check_points
from .pose import PoseTask
from .task import Task

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

TASKS: dict[str, Task] = {}
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def register(task: Task, replace: bool = False) -> Task:
    """Add ``task`` to the registry (``replace=True`` swaps out a task of the same name); returns it.

    A name is lower case (letters, digits, ``_``, ``-``); a prompt is unique and one word (a category, when the
    task takes one, follows it after a space).
    """
    if not isinstance(task, Task):
        raise TypeError(f"register() takes a Task, got {type(task).__name__}")
    if not _NAME.match(task.name or ""):
        raise DiceptionInputError(f"task name {task.name!r} must be lower case letters, digits, '_' or '-'")
    if not task.prompt or any(c.isspace() for c in task.prompt):
        raise DiceptionInputError(f"task '{task.name}': prompt {task.prompt!r} must be one word, e.g. [[image2x]]")
    if task.name in TASKS and not replace:
        raise DiceptionInputError(f"a task named '{task.name}' is registered already; pass replace=True to swap it")
    clash = [t.name for t in TASKS.values() if t.prompt == task.prompt and t.name != task.name]
    if clash:
        raise DiceptionInputError(f"prompt '{task.prompt}' belongs to task '{clash[0]}' already")
    TASKS[task.name] = task
    return task


def unregister(name: str) -> Task:
    """Remove the task called ``name`` from the registry; returns it."""
    return TASKS.pop(get(name).name)


DEPTH = register(DepthTask())
NORMAL = register(NormalTask())
POSE = register(PoseTask())
SEGMENTATION = register(SegmentationTask())
SEMANTIC = register(SemanticTask())
ENTITY = register(EntityTask())


def task_names() -> list[str]:
    """All task names, in registry order."""
    return list(TASKS)


def get(task: str | Task) -> Task:
    """The task called ``task`` (a task object is returned as is); a clear error listing the names otherwise."""
    if isinstance(task, Task):
        return task
    try:
        return TASKS[task]
    except (KeyError, TypeError):
        raise DiceptionInputError(f"unknown task '{task}'; choose one of: {', '.join(TASKS)}") from None


def cached_prompt_set() -> list[str]:
    """The prompts a saved model carries embeddings for: the empty prompt (CFG), each task's prompt, and for
    a task that takes a category the prompt with each of the 80 COCO categories."""
    prompts = [""]
    for task in TASKS.values():
        if task.needs_category:
            prompts += [task.full_prompt(c) for c in COCO_CATEGORIES]
        else:
            prompts.append(task.prompt)
    return prompts


def task_from_prompt(prompt: str) -> tuple[Task, str | None]:
    """The task a prompt names and the category that follows its tag (``None`` if none)."""
    text = prompt.strip()
    for task in TASKS.values():
        if text == task.prompt or text.startswith(task.prompt + " "):
            return task, (text[len(task.prompt) :].strip() or None)
    raise DiceptionInputError(
        f"prompt '{prompt}' names no known task; it must start with one of: "
        + ", ".join(t.prompt for t in TASKS.values())
    )


@dataclass(frozen=True)
class TaskRequest:
    """What one image is asked: the task, the exact prompt text, and its points (normalised ``(x, y)``)."""

    task: Task
    prompt: str
    points: tuple[Point, ...] = ()


def resolve_request(
    task: str | Task | None = None,
    prompt: str | None = None,
    category: str | None = None,
    points: Sequence[Sequence[float]] | None = None,
) -> TaskRequest:
    """Turn the user's (task | prompt, category, normalised points) into a validated :class:`TaskRequest`."""
    if task is None and prompt is None:
        raise DiceptionInputError(f"no task given; pass task= one of: {', '.join(TASKS)} (or a raw prompt=)")
    if prompt is not None:
        found, prompt_category = task_from_prompt(prompt)
        if task is not None and get(task).name != found.name:
            raise DiceptionInputError(f"task '{get(task).name}' and prompt '{prompt}' disagree; pass only one of them")
        if prompt_category and category and prompt_category != category:
            raise DiceptionInputError(f"prompt '{prompt}' already names category '{prompt_category}'")
        spec, category = found, category or prompt_category
    else:
        spec = get(task)
    text = spec.full_prompt(category)
    checked = check_points(points, "points")
    if checked and not spec.accepts_points:
        raise DiceptionInputError(
            f"task '{spec.name}' takes no points; points are for: "
            + ", ".join(t.name for t in TASKS.values() if t.accepts_points)
        )
    return TaskRequest(task=spec, prompt=text, points=checked)
