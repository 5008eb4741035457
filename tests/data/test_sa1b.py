import json

import numpy as np
import pytest

from diception.data.sa1b import iter_sa1b
from diception.errors import DiceptionInputError

from .data_files import write_json, write_sa1b


def test_one_sample_per_mask_with_point_coords(tmp_path):
    path, masks = write_sa1b(tmp_path)
    samples = list(iter_sa1b(path))
    assert [s.sample_id for s in samples] == ["sa_1#45", "sa_1#46"]
    for s, m in zip(samples, masks):
        assert s.task == "segmentation" and s.prompt == "[[image2segmentation]]"
        assert s.image_path == tmp_path / "sa_1.jpg"
        np.testing.assert_array_equal(s.mask, m)
        ((x, y),) = s.points  # normalised by the image size
        assert m[int(y * 6), int(x * 8)]
    assert samples[1].points == ((3 / 8, 2 / 6),)  # point_coords (3, 2) on the 8 x 6 image


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(DiceptionInputError, match="not an SA-1B file"):
        list(iter_sa1b(write_json(tmp_path / "x.json", [1, 2])))
    path, _ = write_sa1b(tmp_path)
    data = json.loads(path.read_text())
    data["annotations"][0]["segmentation"]["size"] = [5, 8]
    write_json(path, data)
    with pytest.raises(DiceptionInputError, match="annotation 0 mask size"):
        list(iter_sa1b(path))
    with pytest.raises(DiceptionInputError, match="does not exist"):
        list(iter_sa1b(tmp_path / "missing.json"))
