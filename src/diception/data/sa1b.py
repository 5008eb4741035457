"""SA-1B (Segment Anything 1B) annotations: one JSON per image -> one point-segmentation sample per mask.

Each file holds ``{"image": {"image_id", "width", "height", "file_name"}, "annotations": [...]}`` where an
annotation carries a compressed-RLE ``segmentation`` (``{"size": [h, w], "counts": str}``), ``bbox``,
``area``, ``point_coords`` (``[[x, y]]``, the point SAM's data engine prompted with), ``id`` and more
(Kirillov et al., ICCV 2023). Note: SA-1B's ``bbox`` width and height are one less than pycocotools'
``toBbox`` of the same mask; masks, not boxes, are what these samples carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.points import points_from_pixels
from .annotation_files import read_json
from .rle import decode_rle, mask_shape
from .sample import Sample


def iter_sa1b(json_path: str | Path, image_path: str | Path | None = None) -> Iterator[Sample]:
    """Yield one ``segmentation`` sample per annotation of an SA-1B image JSON.

    Args:
        json_path: the per-image annotation file (``sa_<id>.json``).
        image_path: the image; by default ``image.file_name`` next to the JSON.

    Each sample has ``mask`` (H, W) bool, ``points`` (the annotation's ``point_coords``, normalised by the
    image size) and the id ``"<file stem>#<annotation id>"``.
    """
    json_path = Path(json_path)
    data = read_json(json_path)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise DiceptionInputError(f"{json_path}: not an SA-1B file (expected keys 'image' and 'annotations')")
    info = data.get("image", {})
    if not isinstance(info, dict):
        raise DiceptionInputError(f"{json_path}: 'image' must be an object with width, height and file_name")
    if image_path is None:
        if not isinstance(info.get("file_name"), str):
            raise DiceptionInputError(f"{json_path}: no image.file_name; pass image_path")
        image_path = json_path.parent / info["file_name"]
    size = None
    if "height" in info and "width" in info:
        size = list(mask_shape([info["height"], info["width"]], f"{json_path}: image height, width"))
    for k, ann in enumerate(data["annotations"]):
        segm = ann.get("segmentation") if isinstance(ann, dict) else None
        if not isinstance(segm, dict) or "counts" not in segm:
            raise DiceptionInputError(f"{json_path}: annotation {k} has no compressed-RLE 'segmentation'")
        if size is not None and segm.get("size") != size:
            raise DiceptionInputError(
                f"{json_path}: annotation {k} mask size {segm.get('size')!r:.40} differs from the image's {size}"
            )
        try:
            mask = decode_rle(segm)
        except DiceptionInputError as err:
            raise DiceptionInputError(f"{json_path}: annotation {k}: {err}") from None
        where = f"{json_path}: annotation {k} point_coords"
        coords = ann.get("point_coords") or ()
        coords = coords[: tasks.MAX_POINTS] if isinstance(coords, list) else coords  # not a list: an error below
        yield Sample(
            image_path=Path(image_path),
            task=tasks.SEGMENTATION.name,
            prompt=tasks.SEGMENTATION.full_prompt(),
            sample_id=f"{json_path.stem}#{ann.get('id', k)}",
            mask=mask,
            points=points_from_pixels(coords, mask.shape, where),
            target_path=json_path,
        )
