"""Point-segmentation codec: a mask comes back with IoU 1, a score and COCO RLE."""

from __future__ import annotations

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from diception.errors import DiceptionInputError
from diception.tasks import point_seg


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _mask(size: int = 128) -> np.ndarray:
    rows, cols = np.mgrid[:size, :size]
    mask = (rows - 60) ** 2 + (cols - 50) ** 2 < 30**2
    mask[90:120, 70:110] = True
    return mask


def test_encode_is_white_on_black():
    rgb = point_seg.encode(_mask())
    assert rgb.dtype == np.float32 and rgb.shape == (128, 128, 3)
    assert set(np.unique(rgb)) == {0.0, 1.0}


def test_round_trip_is_exact_with_full_score_and_rle():
    mask = _mask()
    pred = point_seg.decode(point_seg.encode(mask))
    assert isinstance(pred, point_seg.MaskPrediction)
    assert np.array_equal(pred.mask, mask) and pred.area == mask.sum()
    assert pred.score == 1.0
    assert isinstance(pred.rle["counts"], str) and pred.rle["size"] == [128, 128]
    assert np.array_equal(mask_utils.decode(pred.rle).astype(bool), mask)


def test_prediction_reads_as_its_mask():
    pred = point_seg.decode(point_seg.encode(_mask()))
    assert np.array_equal(np.asarray(pred), _mask())
    assert np.asarray(pred, dtype=np.uint8).max() == 1


def test_threshold_and_score_follow_brightness():
    rgb = np.full((4, 4, 3), 0.7, dtype=np.float32)
    assert point_seg.decode(rgb).score == pytest.approx(0.4)
    assert not point_seg.decode(rgb, threshold=0.8).mask.any()
    assert point_seg.decode(rgb, threshold=0.8).score == 0.0


def test_round_trip_survives_degradation(degrade):
    pred = point_seg.decode(degrade(point_seg.encode(_mask())))
    assert _iou(pred.mask, _mask()) >= 0.97
    assert pred.score > 0.7


def test_bad_arguments_raise():
    with pytest.raises(DiceptionInputError, match="threshold must lie in"):
        point_seg.decode(np.zeros((2, 2, 3)), threshold=1.0)
    with pytest.raises(DiceptionInputError, match=r"mask must be an \(H, W\) array"):
        point_seg.encode(np.zeros((2, 2, 3)))
