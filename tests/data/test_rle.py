import base64

import numpy as np
import pytest

from diception.data.rle import decode_published_rle, decode_segmentation, encode_mask
from diception.errors import DiceptionInputError

from .data_files import box, compressed_rle, uncompressed_rle


def test_three_encodings_decode_to_the_same_mask():
    m = box(6, 8, 1, 2, 4, 7)
    np.testing.assert_array_equal(decode_segmentation(compressed_rle(m), 6, 8), m)
    np.testing.assert_array_equal(decode_segmentation(uncompressed_rle(m), 6, 8), m)
    # polygon around pixels 2..6 x 1..3 (pycocotools covers the polygon's interior pixels)
    poly = [[2, 1, 7, 1, 7, 4, 2, 4]]
    np.testing.assert_array_equal(decode_segmentation(poly, 6, 8), m)
    assert encode_mask(m)["counts"] == compressed_rle(m)["counts"]


def test_published_rle_base64_counts():
    m = box(6, 8, 0, 0, 2, 2)
    rle = compressed_rle(m)
    wrapped = {"size": rle["size"], "counts": base64.b64encode(rle["counts"].encode()).decode()}
    np.testing.assert_array_equal(decode_published_rle(wrapped, "base64"), m)
    np.testing.assert_array_equal(decode_published_rle(rle), m)  # auto: plain COCO characters


def test_bad_segmentations():
    with pytest.raises(DiceptionInputError, match="polygon list or an RLE dict"):
        decode_segmentation({"counts": "abc"}, 4, 4)
    with pytest.raises(DiceptionInputError, match="neither compressed COCO RLE nor base64"):
        decode_published_rle({"size": [4, 4], "counts": "@@"}, "base64")
