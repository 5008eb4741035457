"""What the page shows per prediction kind: maps for depth and normals, overlays that tint exactly the mask, boxes
around instances, skeletons over the picture, markers where the points are."""

from __future__ import annotations

import numpy as np

from diception.data.rle import encode_mask
from diception.demo import views
from diception.tasks.instances import Instance
from diception.tasks.point_seg import MaskPrediction
from diception.tasks.pose import PersonPose

H, W = 40, 60


def grey(level: int = 100) -> np.ndarray:
    return np.full((H, W, 3), level, np.uint8)


def box_mask(y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_depth_and_normals_are_maps_with_a_slider():
    disparity = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    shown = views.view("depth", grey(), disparity, np.zeros((H, W, 3)))
    assert shown.picture.shape == (H, W, 3) and shown.slider is not None and "near is blue" in shown.caption
    assert not np.array_equal(shown.picture[:, 0], shown.picture[:, -1])  # near and far differ in colour
    normals = np.zeros((H, W, 3), np.float32)
    normals[..., 2] = 1.0  # facing the camera: lilac (0.5, 0.5, 1)
    shown = views.view("normal", grey(), normals, np.zeros((H, W, 3)))
    assert tuple(shown.picture[0, 0]) == (128, 128, 255)


def test_a_grey_map_is_shown_as_it_is_with_a_slider():
    values = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
    shown = views.view("grey", grey(), values, np.zeros((H, W, 3)))
    assert shown.picture[0, -1].tolist() == [255, 255, 255] and shown.slider is not None
    assert shown.caption == "grey map, values 0.00 to 1.00"


def test_a_mask_tints_its_pixels_only_and_reports_area_and_score():
    mask = box_mask(10, 10, 20, 30)
    shown = views.view("mask", grey(), MaskPrediction(mask, 0.75, encode_mask(mask)), np.zeros((H, W, 3)))
    assert np.array_equal(shown.picture[~mask], grey()[~mask]) and not np.array_equal(shown.picture[mask],
                                                                                         grey()[mask])  # fmt: skip
    assert shown.caption == "mask: 200 px (8.3 % of the image), score 0.75"


def test_instances_are_tinted_boxed_and_counted():
    found = []
    for k, (y0, x0) in enumerate(((2, 2), (20, 30))):
        mask = box_mask(y0, x0, y0 + 10, x0 + 12)
        found.append(Instance(mask, encode_mask(mask), int(mask.sum()), (x0, y0, 12, 10), 0.9, (1.0, 0.0, k / 1)))
    shown = views.view("instances", grey(), found, np.zeros((H, W, 3)))
    assert shown.caption == "2 instances"
    assert shown.picture[6, 8, 0] > 150 and np.array_equal(shown.picture[35, 5], grey()[35, 5])


def test_people_are_drawn_over_the_picture():
    keypoints = np.zeros((17, 4), np.float32)
    keypoints[5:7] = [[20, 15, 2, 1], [40, 15, 2, 1]]  # both shoulders: one limb
    shown = views.view("keypoints", grey(), [PersonPose(keypoints, 0.8)], np.zeros((H, W, 3)))
    assert shown.caption == "1 person, 2 keypoints"
    assert (shown.picture != grey()).any(axis=-1).sum() > 20  # skeleton pixels
    assert np.array_equal(shown.picture[38, 2], grey()[38, 2])  # the picture elsewhere


def test_other_tasks_show_the_models_picture_and_points_are_marked():
    picture = np.full((H, W, 3), 0.5, np.float32)
    assert views.view("rgb", grey(), picture, picture).picture[0, 0].tolist() == [128, 128, 128]
    marked = views.draw_points(grey(), [(10, 10), (50, 30)])
    assert tuple(marked[10, 10]) == views.POINT_COLOUR and tuple(marked[30, 50]) == views.POINT_COLOUR
