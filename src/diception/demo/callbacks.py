"""What the web demo's events do, as plain functions of plain values (testable without a browser or gradio).

The page keeps one :class:`Clicks` per visitor: the picture they gave and the points clicked on it. The page
shows that picture with the points drawn on, so a click handler must tell "the picture with my markers" from "a
new picture": it compares the shown picture with a fingerprint of the last one it drew.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import tasks
from ..data.image_files import max_pixels
from ..errors import DiceptionInputError
from ..tasks.points import MAX_POINTS
from ..tasks.prediction_files import Prediction, to_uint8, write_files
from ..tasks.task import SIDE_BY_SIDE
from .views import View, draw_points, view

MAX_STEPS, MAX_GUIDANCE = 1000, 100.0  # far above any useful setting; the page's sliders stop at 50 and 7
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a 64-bit number
MAX_RESOLUTION = 16384  # the model's positional table refuses far less; this only catches absurd numbers
QUALITY, FAST = "quality (28 steps, guidance 2)", "fast (1 step)"
PRESETS = {QUALITY: (28, 2.0), FAST: (1, 1.0)}


@dataclass
class DemoModel:
    """The loaded pipeline and the line the page shows about it."""

    pipe: object
    description: str

    @property
    def categories(self) -> list[str]:
        """The categories whose semantic prompt is cached (any category works when text encoders are loaded)."""
        head = tasks.get("semantic").prompt + " "
        return sorted(p[len(head) :] for p in self.pipe.prompt_cache.prompts if p.startswith(head))

    @property
    def can_encode(self) -> bool:
        return bool(self.pipe.has_text_encoders)


@dataclass
class Clicks:
    """One visitor's picture (as given, without markers) and the pixel ``(x, y)`` points clicked on it."""

    original: np.ndarray | None = None
    points: list[tuple[int, int]] = field(default_factory=list)
    shown_key: str = ""  # fingerprint of the picture the page shows now (the original with the markers)


def fingerprint(image: np.ndarray | None) -> str:
    if image is None:
        return ""
    array = np.ascontiguousarray(image)
    return hashlib.blake2b(array.tobytes() + str(array.shape).encode(), digest_size=16).hexdigest()


def current(clicks: Clicks | None, shown: np.ndarray | None) -> Clicks:
    """The visitor's state for the picture the page shows: the same one (markers and all), or a new one."""
    if shown is None:
        return Clicks()
    if clicks is not None and clicks.original is not None and fingerprint(shown) == clicks.shown_key:
        return clicks
    shown = as_rgb(shown)
    return Clicks(shown, [], fingerprint(shown))


def _redrawn(clicks: Clicks, message: str) -> tuple[Clicks, np.ndarray | None, str, str]:
    if clicks.original is None:
        return clicks, None, "", message
    shown = draw_points(clicks.original, clicks.points) if clicks.points else clicks.original
    clicks.shown_key = fingerprint(shown)
    return clicks, shown, points_text(clicks.points), message


def add_point(clicks: Clicks | None, shown: np.ndarray | None, x: float, y: float
              ) -> tuple[Clicks, np.ndarray | None, str, str]:  # fmt: skip
    """A click at pixel ``(x, y)``: the state, the picture to show (with markers), the points text, a message."""
    clicks = current(clicks, shown)
    if clicks.original is None:
        return _redrawn(clicks, "upload or choose a picture first")
    if len(clicks.points) >= MAX_POINTS:
        return _redrawn(clicks, f"at most {MAX_POINTS} points: the model has {MAX_POINTS} point slots; undo or "
                                "clear one first")  # fmt: skip
    clicks.points.append((int(round(x)), int(round(y))))
    return _redrawn(clicks, f"{len(clicks.points)} of {MAX_POINTS} points")


def undo_point(clicks: Clicks | None, shown: np.ndarray | None) -> tuple[Clicks, np.ndarray | None, str, str]:
    clicks = current(clicks, shown)
    if clicks.points:
        clicks.points.pop()
    return _redrawn(clicks, f"{len(clicks.points)} of {MAX_POINTS} points")


def clear_points(clicks: Clicks | None, shown: np.ndarray | None) -> tuple[Clicks, np.ndarray | None, str, str]:
    clicks = current(clicks, shown)
    clicks.points.clear()
    return _redrawn(clicks, "points cleared")


def points_text(points: list[tuple[int, int]]) -> str:
    """``"x,y; x,y"`` in pixels: what the points box shows and what an API caller may send."""
    return "; ".join(f"{x},{y}" for x, y in points)


def _quoted(value, limit: int = 40) -> str:
    """``value`` as one short line for a message, whatever a caller sent."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_points_text(text: str | None) -> list[tuple[float, float]]:
    """``"x,y; x,y"`` pixel points (``;`` between points); empty text, no points."""
    points = []
    for part in (text or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        pieces = part.split(",")
        try:
            x, y = (float(v) for v in pieces)
        except ValueError:
            raise DiceptionInputError(f"points: {_quoted(part.strip())} is not 'x,y' in pixels, e.g. '120,80; "
                                      "140,95'") from None  # fmt: skip
        points.append((x, y))
    return points


def check_size(width: int, height: int) -> None:
    """Refuse a picture of more pixels than ``diception predict`` reads (:func:`~..data.image_files.max_pixels`,
    ``DICEPTION_MAX_PIXELS``): the page checks an upload's header with this before it is decoded."""
    limit = max_pixels()
    if width * height > limit:
        raise DiceptionInputError(f"the picture is {width} x {height} = {width * height / 1e6:.3g} MP; the demo "
                                  f"takes at most {limit / 1e6:.3g} MP, so downscale it first")  # fmt: skip


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An uploaded picture as ``(H, W, 3)`` uint8: grey and RGBA converted, floats read as [0, 1] (NaN as 0),
    16-bit as 0-65535, booleans as black and white."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise DiceptionInputError(f"the picture has shape {image.shape}; upload an RGB image")
    if image.dtype.kind not in "biuf":
        raise DiceptionInputError(f"the picture holds {image.dtype} values; upload an image file (PNG, JPEG, ...)")
    if image.dtype == np.bool_:
        image = image * np.uint8(255)
    elif image.dtype == np.uint16:
        image = image // 257  # 65535 -> 255
    elif image.dtype.kind == "f":
        image = (np.clip(np.nan_to_num(image, nan=0.0), 0, 1) * 255).round()
    image = np.clip(image, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[..., :3])


def _number(value, name: str, low: int | float, high: int | float, whole: bool = False) -> int | float:
    """``value`` as a number in ``[low, high]`` (an exact ``int`` if ``whole``), or one clear error."""
    number = value
    if not isinstance(value, (int, np.integer)):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
    if not low <= number <= high or (whole and number != int(number)):
        raise DiceptionInputError(f"{name} is {_quoted(value)}; give {'a whole' if whole else 'a'} number from "
                                  f"{low} to {high}")  # fmt: skip
    return int(number) if whole else float(number)


@dataclass
class DemoResult:
    """One answer: what to look at, the model's own picture, the files to download."""

    view: View
    picture: np.ndarray
    files: list[Path]


def run(model: DemoModel, image: np.ndarray | None, task: str, category: str | None, points: list,
        steps: int, guidance: float, seed: int, resolution: int | None,
        out_dir: Path | None = None, step_callback: Callable[[int], None] | None = None) -> DemoResult:  # fmt: skip
    """Predict ``task`` on ``image`` with the page's settings and write the downloadable files (the writers of
    ``diception predict``) into a fresh folder under ``out_dir``."""
    import torch

    if image is None:
        raise DiceptionInputError("upload or choose a picture first")
    image = as_rgb(image)
    check_size(image.shape[1], image.shape[0])
    steps = _number(steps, "steps", 1, MAX_STEPS, whole=True)
    guidance = _number(guidance, "guidance", 0, MAX_GUIDANCE)
    seed = _number(seed, "seed", 0, MAX_SEED, whole=True)
    if resolution is None or resolution == "":
        resolution = None  # the model's default; 0 keeps the input's size
    else:
        resolution = _number(resolution, "processing resolution", 0, MAX_RESOLUTION, whole=True)
    spec = tasks.get(task)
    if spec.accepts_points and not points:
        raise DiceptionInputError("click on the object to segment (1 to 5 points) first")
    callback = None
    if step_callback is not None:

        def callback(pipe, step, timestep, kwargs):
            step_callback(step + 1)
            return {}

    out = model.pipe(image, spec, category=category if spec.needs_category else None,
                     points=[list(p) for p in points] if spec.accepts_points else None,
                     num_inference_steps=steps, guidance_scale=guidance,
                     processing_resolution=resolution,
                     generator=torch.Generator("cpu").manual_seed(seed),
                     callback_on_step_end=callback)  # fmt: skip
    picture = np.asarray(out.images[0], dtype=np.float32)
    value = out.prediction[0]
    folder = Path(tempfile.mkdtemp(prefix="diception-demo-", dir=out_dir))
    outputs = [name for name in spec.output_names() if name != SIDE_BY_SIDE]  # the view shows that one
    files = spec.output_files(folder / f"prediction_{spec.name}", outputs=outputs)
    write_files(Prediction(image, picture, value, spec, image_id="prediction"), files)
    return DemoResult(view(spec.prediction_kind, image, value, picture), to_uint8(picture), [f.path for f in files])
