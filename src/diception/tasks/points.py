"""Point prompts: one type, one validation, and every conversion in one place.

A :class:`Point` is normalised ``(x, y)`` on the image: ``x`` = column / width, ``y`` = row / height, both in
[0, 1]. Every layer holds points in this form. They arrive in three others, converted here only:

* pixel ``(x, y)`` of the input image (the Python API, SAM's convention): :func:`points_from_pixels`;
* the published scripts' normalised ``y,x`` pairs (the command line's ``--points "y,x;y,x"`` and the manifests'
  ``"points": [[y, x], ...]``): :func:`parse_published_points`, :func:`points_from_published`;
* pixel ``(x, y)`` in annotation files (SA-1B ``point_coords``): :func:`points_from_pixels` with the file's size.

The model always receives :data:`MAX_POINTS` slots (:func:`point_slots`); which coordinate it reads first is
the model config's ``point_order`` (``"xy"``: as the published single-image script feeds it; ``"yx"``: as the
published batch collator does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..errors import DiceptionInputError

if TYPE_CHECKING:
    import torch

MAX_POINTS = 5  # the model always receives exactly this many point slots
POINT_ORDERS = ("xy", "yx")


class Point(NamedTuple):
    """A point prompt, normalised: ``x`` = column / width, ``y`` = row / height, both in [0, 1]."""

    x: float
    y: float


Points = tuple[Point, ...]


def _number(value: object) -> float:
    if isinstance(value, (bool, str, bytes)):
        raise TypeError
    return float(value)  # type: ignore[arg-type]


def _pair(point: object, where: str, form: str) -> tuple[float, float]:
    """Two finite numbers from a pair (list, tuple, array row or Point); ``form`` names the pair in messages."""
    if isinstance(point, (str, bytes)) or not hasattr(point, "__len__") or len(point) != 2:  # type: ignore[arg-type]
        raise DiceptionInputError(f"{where}: point {point!r} must be a {form}")
    try:
        a, b = _number(point[0]), _number(point[1])  # type: ignore[index]
    except (TypeError, ValueError):
        raise DiceptionInputError(f"{where}: point {point!r} must hold two numbers, a {form}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise DiceptionInputError(f"{where}: point {point!r} is not finite")
    return a, b


def _check_count(points: Sequence[object], where: str) -> None:
    """A list of at most :data:`MAX_POINTS` points (a number, a string or a mapping is none)."""
    if isinstance(points, (str, bytes, dict)) or not hasattr(points, "__len__"):
        raise DiceptionInputError(f"{where} must be a list of points, got {points!r}")
    if len(points) > MAX_POINTS:
        raise DiceptionInputError(f"{where}: {len(points)} points given; the model takes at most {MAX_POINTS}")


def check_points(points: Sequence[object] | None, where: str = "points") -> Points:
    """The one validation: at most :data:`MAX_POINTS` normalised ``(x, y)`` pairs, each coordinate in [0, 1]."""
    if points is None:
        return ()
    _check_count(points, where)
    checked = []
    for point in points:
        x, y = _pair(point, where, "pair (x, y)")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise DiceptionInputError(f"{where}: point (x={x:g}, y={y:g}) lies outside the image ([0, 1] normalised)")
        checked.append(Point(x, y))
    return tuple(checked)


def points_from_pixels(pixels: Sequence[object] | None, size: tuple[int, int], where: str = "points") -> Points:
    """Pixel ``(x, y)`` pairs on an image of ``size = (height, width)`` -> points (``x / width, y / height``)."""
    if pixels is None:
        return ()
    _check_count(pixels, where)
    height, width = size
    points = []
    for pixel in pixels:
        x, y = _pair(pixel, where, "pixel pair (x, y)")
        if not (0.0 <= x <= width and 0.0 <= y <= height):
            raise DiceptionInputError(
                f"{where}: point (x={x:g}, y={y:g}) lies outside the {width}x{height} image; points are pixel (x, y)"
            )
        points.append(Point(x / width, y / height))
    return tuple(points)


def points_from_published(pairs: Sequence[object] | None, where: str = "points") -> Points:
    """The published normalised ``[y, x]`` pairs (row / height, column / width) -> points."""
    if pairs is None:
        return ()
    if isinstance(pairs, (str, bytes, dict)) or not hasattr(pairs, "__len__"):
        raise DiceptionInputError(f"{where} must be a list of [y, x] pairs in [0, 1], got {pairs!r}")
    _check_count(pairs, where)
    points = []
    for pair in pairs:
        y, x = _pair(pair, where, "pair [y, x]")
        if not (0.0 <= y <= 1.0 and 0.0 <= x <= 1.0):
            raise DiceptionInputError(
                f"{where}: point (y={y:g}, x={x:g}) lies outside [0, 1]; points are normalised (y, x): "
                "row / height, column / width"
            )
        points.append(Point(x, y))
    return tuple(points)


def parse_published_points(text: str, where: str = "--points") -> Points:
    """``"y1,x1;y2,x2"`` (normalised, the published ``--points`` form) -> points."""
    pairs = []
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        parts = [p.strip() for p in chunk.split(",")]
        try:
            if len(parts) != 2:
                raise ValueError
            pairs.append((float(parts[0]), float(parts[1])))
        except ValueError:
            raise DiceptionInputError(
                f"{where} '{text}' is malformed at '{chunk}'; write normalised y,x pairs separated by ';', "
                'e.g. --points "0.5,0.25;0.6,0.3"'
            ) from None
    if not pairs:
        raise DiceptionInputError(f"{where} '{text}' holds no points; e.g. --points \"0.5,0.25\"")
    return points_from_published(pairs, where)


def to_published(points: Points) -> list[list[float]]:
    """Points as the published ``[[y, x], ...]`` (for manifests)."""
    return [[p.y, p.x] for p in points]


def to_pixels(points: Points, size: tuple[int, int]) -> list[tuple[float, float]]:
    """Points -> pixel ``(x, y)`` pairs of an image of ``size = (height, width)``."""
    height, width = size
    return [(p.x * width, p.y * height) for p in points]


def point_slots(points: Sequence[Sequence[object]], point_order: str = "xy") -> tuple[torch.Tensor, torch.Tensor]:
    """The model's point input for a batch: ``(B, 5, 2)`` coordinates and ``(B, 5)`` bool "is a point" flags.

    Unused slots hold zeros and ``False`` (the point encoder gives them the "empty slot" embedding). Each
    sample's points are normalised ``(x, y)``; ``point_order`` says which coordinate goes first.
    """
    import torch

    if point_order not in POINT_ORDERS:
        raise ValueError(f"point_order must be one of {POINT_ORDERS}, got {point_order!r}")
    coords = torch.zeros(len(points), MAX_POINTS, 2)
    is_point = torch.zeros(len(points), MAX_POINTS, dtype=torch.bool)
    for i, sample_points in enumerate(points):
        for j, (x, y) in enumerate(check_points(sample_points, f"sample {i}")):
            coords[i, j] = torch.tensor([x, y] if point_order == "xy" else [y, x])
            is_point[i, j] = True
    return coords, is_point
