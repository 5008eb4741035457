"""What the web demo shows for a prediction: a picture a person wants to look at, and one line about it.

The view follows the task's ``prediction_kind`` (what its decoder returns), so a registered task gets a view
too: depth as a colour map, normals as RGB, a mask or instances laid over the input with their boxes, people
as skeletons drawn over it, and anything else as the model's own picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ..tasks import depth, pose
from ..tasks.prediction_files import to_uint8

MASK_COLOUR = np.array([30, 144, 255], np.float32)  # a blue that reads on most photos
OVERLAY_ALPHA = 0.55
POINT_COLOUR, POINT_OUTLINE = (50, 220, 90), (255, 255, 255)


@dataclass
class View:
    """``picture``: ``(H, W, 3)`` uint8 at the input's size; ``caption``: one line; ``slider``: an
    ``(input, picture)`` pair for a before/after slider, where the view is a map of the whole image."""

    picture: np.ndarray
    caption: str
    slider: tuple[np.ndarray, np.ndarray] | None = None


def view(kind: str, image: np.ndarray, prediction, picture: np.ndarray) -> View:
    """The view of one prediction of a task whose decoder returns ``kind``; ``image`` is the input (uint8),
    ``picture`` the model's output in [0, 1]."""
    image = np.asarray(image, dtype=np.uint8)
    if kind == "depth":
        shown = to_uint8(depth.depth_colormap(np.asarray(prediction)))
        return View(shown, "relative depth (Spectral colour map of disparity: near is blue, far is red)",
                    (image, shown))  # fmt: skip
    if kind == "grey":
        values = np.asarray(prediction, np.float32)
        shown = to_uint8(np.repeat(values[..., None], 3, axis=-1))
        return View(shown, f"grey map, values {values.min():.2f} to {values.max():.2f}", (image, shown))
    if kind == "normal":
        shown = to_uint8((np.asarray(prediction, np.float32) + 1.0) / 2.0)
        return View(shown, "surface normals as RGB (x right, y up, z toward the camera)", (image, shown))
    if kind == "mask":
        mask = np.asarray(prediction, dtype=bool)
        caption = f"mask: {int(mask.sum())} px ({100.0 * mask.mean():.1f} % of the image), score {prediction.score:.2f}"
        return View(overlay(image, [mask], [MASK_COLOUR]), caption)
    if kind == "instances":
        found = list(prediction)
        shown = overlay(image, [inst.mask for inst in found], [np.asarray(inst.colour) * 255 for inst in found])
        shown = draw_boxes(shown, [inst.bbox for inst in found], [inst.colour for inst in found])
        return View(shown, f"{len(found)} instance{'s' if len(found) != 1 else ''}")
    if kind == "keypoints":
        people = list(prediction)
        skeletons = pose.encode([p.keypoints[:, :3] for p in people], image.shape[:2])
        drawn = skeletons.max(axis=-1) > 0.05
        shown = image.copy()
        shown[drawn] = to_uint8(skeletons)[drawn]
        found = sum(int((p.keypoints[:, 2] > 0).sum()) for p in people)
        return View(shown, f"{len(people)} {'person' if len(people) == 1 else 'people'}, {found} keypoints")
    return View(to_uint8(picture), "the model's picture")


def overlay(image: np.ndarray, masks: Sequence[np.ndarray], colours: Sequence[np.ndarray]) -> np.ndarray:
    """``image`` with each mask tinted by its colour (0-255 RGB) and outlined in it."""
    out = image.astype(np.float32)
    for mask, colour in zip(masks, colours):
        mask = np.asarray(mask, dtype=bool)
        out[mask] = (1 - OVERLAY_ALPHA) * out[mask] + OVERLAY_ALPHA * np.asarray(colour, np.float32)
        out[_outline(mask)] = colour
    return out.round().clip(0, 255).astype(np.uint8)


def _outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a 4-neighbour outside it."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def draw_boxes(image: np.ndarray, boxes: Sequence[Sequence[float]], colours: Sequence[Sequence[float]]) -> np.ndarray:
    """COCO ``(x, y, w, h)`` boxes drawn on ``image`` (colours in [0, 1])."""
    canvas = Image.fromarray(image)
    pen = ImageDraw.Draw(canvas)
    width = max(1, round(min(image.shape[:2]) / 200))
    for (x, y, w, h), colour in zip(boxes, colours):
        pen.rectangle([x, y, x + w, y + h], outline=tuple(int(c * 255) for c in colour), width=width)
    return np.asarray(canvas)


def draw_points(image: np.ndarray, points: Sequence[tuple[float, float]]) -> np.ndarray:
    """``image`` with each pixel ``(x, y)`` point drawn as a numbered marker."""
    canvas = Image.fromarray(np.asarray(image, dtype=np.uint8))
    pen = ImageDraw.Draw(canvas)
    radius = max(4, round(min(canvas.size) / 60))
    for k, (x, y) in enumerate(points, start=1):
        pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=POINT_COLOUR, outline=POINT_OUTLINE,
                    width=max(1, radius // 3))  # fmt: skip
        pen.text((x + radius + 2, y - radius - 2), str(k), fill=POINT_OUTLINE)
    return np.asarray(canvas)
