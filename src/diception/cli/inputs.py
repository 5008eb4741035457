"""What the commands read from the user: image paths (files or folders) and point prompts.

Points on the command line and in manifests use the published scripts' convention: normalised ``(y, x)`` pairs
in [0, 1] (y = row / height, x = column / width). The pipeline takes pixel ``(x, y)`` pairs (SAM's convention);
:func:`to_pixel_xy` converts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import DiceptionInputError
from ..tasks.registry import MAX_POINTS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")

PointsYX = tuple[tuple[float, float], ...]  # normalised (y, x) pairs


def expand_images(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """Files as given; folders replaced by their image files (sorted, not recursive).

    Paths that do not exist are kept: the run reports them as failed images.
    """
    images: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise DiceptionInputError(
                    f"folder '{path}' holds no images ({', '.join(IMAGE_SUFFIXES)}); pass image files or a folder "
                    "of images"
                )
            images += found
        else:
            images.append(path)
    return images


def check_points(points: Sequence[Sequence[float]], where: str = "points") -> PointsYX:
    """Validate normalised ``(y, x)`` pairs: at most :data:`MAX_POINTS`, each coordinate in [0, 1]."""
    if len(points) > MAX_POINTS:
        raise DiceptionInputError(f"{where}: {len(points)} points given; the model takes at most {MAX_POINTS}")
    checked = []
    for point in points:
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise DiceptionInputError(f"{where}: point {point!r} must be a pair [y, x]")
        try:
            y, x = float(point[0]), float(point[1])
        except (TypeError, ValueError):
            raise DiceptionInputError(f"{where}: point {point!r} must hold two numbers [y, x]") from None
        if not (0.0 <= y <= 1.0 and 0.0 <= x <= 1.0) or math.isnan(x) or math.isnan(y):
            raise DiceptionInputError(
                f"{where}: point (y={y:g}, x={x:g}) lies outside [0, 1]; points are normalised (y, x): "
                "row / height, column / width"
            )
        checked.append((y, x))
    return tuple(checked)


def parse_points(text: str) -> PointsYX:
    """``"y1,x1;y2,x2"`` (normalised, the published ``--points`` form) -> validated ``(y, x)`` pairs."""
    pairs = []
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        parts = [p.strip() for p in chunk.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            pairs.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise DiceptionInputError(
                f"--points '{text}' is malformed at '{chunk}'; write normalised y,x pairs separated by ';', "
                'e.g. --points "0.5,0.25;0.6,0.3"'
            ) from None
    if not pairs:
        raise DiceptionInputError(f"--points '{text}' holds no points; e.g. --points \"0.5,0.25\"")
    return check_points(pairs, "--points")


def to_pixel_xy(points: PointsYX, size: tuple[int, int]) -> list[tuple[float, float]] | None:
    """Normalised ``(y, x)`` pairs -> pixel ``(x, y)`` pairs of an image of ``size = (H, W)``; None if empty."""
    if not points:
        return None
    height, width = size
    return [(x * width, y * height) for y, x in points]
