"""One point type (normalised (x, y)), every conversion into it, one validation, and the model's slot layout."""

from __future__ import annotations

import math

import pytest
import torch

from diception.errors import DiceptionInputError
from diception.tasks.points import (
    MAX_POINTS,
    Point,
    check_points,
    parse_published_points,
    point_slots,
    points_from_pixels,
    points_from_published,
    to_pixels,
    to_published,
)


def test_published_yx_text_becomes_normalised_xy_and_back_to_pixels():
    points = parse_published_points("0.25,0.75; 0.5,0")
    assert points == (Point(x=0.75, y=0.25), Point(x=0.0, y=0.5))
    assert to_pixels(points[:1], (40, 80)) == [(60.0, 10.0)]  # x = 0.75 * 80, y = 0.25 * 40
    assert to_published(points) == [[0.25, 0.75], [0.5, 0.0]]
    assert points_from_published([[0.25, 0.75]]) == points[:1]


def test_pixels_are_divided_by_the_image_size():
    assert points_from_pixels([(20, 10)], (40, 80)) == (Point(0.25, 0.25),)
    assert points_from_pixels(None, (40, 80)) == ()
    assert points_from_pixels([(80, 40)], (40, 80)) == (Point(1.0, 1.0),)  # the far edge is on the image


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: points_from_pixels([(81, 10)], (48, 80)), "outside the 80x48 image"),
        (lambda: points_from_pixels([(1, 2, 3)], (48, 80)), "pixel pair"),
        (lambda: points_from_published([[0.5, 2.0]]), r"outside \[0, 1\]"),
        (lambda: points_from_published([[0.5, "a"]]), "two numbers"),
        (lambda: points_from_published("0.5,0.5"), "list of"),
        (lambda: check_points([(0.5, math.nan)]), "not finite"),
        (lambda: check_points([(0.5, math.inf)]), "not finite"),
        (lambda: check_points([(-0.1, 0.5)]), "outside the image"),
        (lambda: check_points([(True, 0.5)]), "two numbers"),
        (lambda: check_points([(0.5, 0.5)] * (MAX_POINTS + 1)), "at most 5"),
        (lambda: parse_published_points("0.5;0.2,0.1"), "malformed"),
        (lambda: parse_published_points(" ; "), "holds no points"),
    ],
)
def test_every_bad_point_gets_one_clear_error(call, message):
    with pytest.raises(DiceptionInputError, match=message):
        call()


def test_slots_hold_the_points_in_the_model_order_and_flag_the_empty_ones():
    coords, is_point = point_slots([[(0.1, 0.7), (0.5, 0.25)], []], point_order="xy")
    assert coords.shape == (2, MAX_POINTS, 2) and is_point.shape == (2, MAX_POINTS)
    torch.testing.assert_close(coords[0, :2], torch.tensor([[0.1, 0.7], [0.5, 0.25]]))
    assert is_point.tolist() == [[True, True, False, False, False], [False] * 5]
    assert not coords[0, 2:].any() and not coords[1].any()
    swapped, _ = point_slots([[(0.1, 0.7)]], point_order="yx")
    torch.testing.assert_close(swapped[0, 0], torch.tensor([0.7, 0.1]))
