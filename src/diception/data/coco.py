"""COCO instances and person-keypoints files -> entity, semantic and pose samples.

Masks come from each annotation's ``segmentation`` (polygons, uncompressed RLE or compressed RLE) through
pycocotools (:mod:`.rle`). Crowd handling: annotations with ``iscrowd=1`` mark a region holding many
objects at once (COCO's ignore regions). They never become instances or people; their union goes into the
sample's ``ignore_mask`` so that metrics can skip those pixels, exactly as COCOeval ignores detections there.

Overlapping instances are painted largest first, so a small object on top of a large one stays visible;
an instance completely hidden by smaller ones drops out of ``instances``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import tasks
from ..errors import DiceptionInputError
from ..tasks.pose import keypoints_array
from .annotation_files import read_json
from .rle import decode_segmentation
from .sample import Sample


def load_coco(annotations: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A COCO dict from a JSON file (or the dict itself), checked for ``images``/``annotations``/``categories``
    and the fields the readers use (see :func:`check_coco`)."""
    if isinstance(annotations, Mapping):
        data: Any = dict(annotations)
    else:
        data = read_json(annotations)
    where = _where(annotations)
    if not isinstance(data, dict):
        raise DiceptionInputError(f"{where}: not a COCO annotation file (a JSON object with images, annotations "
                                  "and categories)")  # fmt: skip
    missing = [k for k in ("images", "annotations", "categories") if k not in data]
    if missing:
        raise DiceptionInputError(f"{where}: not a COCO annotation file, missing {', '.join(missing)}")
    check_coco(data, where)
    return data


def check_coco(data: Mapping[str, Any], where: str) -> None:
    """One line naming ``where`` and the record for a COCO dict the readers cannot use: ``images``,
    ``annotations`` and ``categories`` lists of objects; each image with an ``id`` (whole number or text),
    ``file_name`` and whole-number ``height`` and ``width`` >= 1; each category with a whole-number ``id``
    and a ``name``; each annotation with an ``image_id`` and a whole-number ``category_id``."""
    for key in ("images", "annotations", "categories"):
        if not isinstance(data[key], list) or not all(isinstance(r, dict) for r in data[key]):
            raise DiceptionInputError(f"{where}: '{key}' must be a list of JSON objects")
    for k, img in enumerate(data["images"]):
        bad = [f for f, ok in (("id", _is_id(img.get("id"))), ("file_name", isinstance(img.get("file_name"), str)),
                               ("height", _is_size(img.get("height"))), ("width", _is_size(img.get("width"))))
               if not ok]  # fmt: skip
        if bad:
            raise DiceptionInputError(f"{where}: image {k} has no valid {', '.join(bad)} (id: a whole number or "
                                      "text; height, width: whole numbers >= 1)")  # fmt: skip
    for k, cat in enumerate(data["categories"]):
        if not _is_whole(cat.get("id")) or not isinstance(cat.get("name"), str):
            raise DiceptionInputError(f"{where}: category {k} needs a whole-number 'id' and a text 'name'")
    for k, ann in enumerate(data["annotations"]):
        if not _is_id(ann.get("image_id")) or not _is_whole(ann.get("category_id")):
            raise DiceptionInputError(f"{where}: annotation {k} (id {ann.get('id')!r:.20}) needs an 'image_id' and "
                                      "a whole-number 'category_id'")  # fmt: skip


def _where(annotations: str | Path | Mapping[str, Any]) -> str:
    return "COCO dict" if isinstance(annotations, Mapping) else str(annotations)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: Any) -> bool:
    return _is_whole(value) or isinstance(value, str)


def _is_size(value: Any) -> bool:
    return _is_whole(value) and value >= 1


def paint_instances(masks: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` int32 map with mask ``i`` painted as id ``i + 1``, largest first (small ones stay on top)."""
    out = np.zeros(shape, dtype=np.int32)
    for i in sorted(range(len(masks)), key=lambda k: -int(masks[k].sum())):
        out[masks[i]] = i + 1
    return out


class _CocoIndex:
    """Images with their annotations, masks decoded on demand."""

    def __init__(self, annotations: str | Path | Mapping[str, Any], image_dir: str | Path) -> None:
        self.data = load_coco(annotations)
        self.where = _where(annotations)
        self.image_dir = Path(image_dir)
        self.names = {c["id"]: c["name"] for c in self.data["categories"]}
        self.by_image: dict[Any, list[dict[str, Any]]] = {}
        for ann in self.data["annotations"]:
            self.by_image.setdefault(ann["image_id"], []).append(ann)

    def images(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
        """``(image, non-crowd annotations, crowd annotations)`` per image, in file order."""
        for img in self.data["images"]:
            anns = self.by_image.get(img["id"], [])
            yield img, [a for a in anns if not a.get("iscrowd", 0)], [a for a in anns if a.get("iscrowd", 0)]

    def image_path(self, img: Mapping[str, Any]) -> Path:
        return self.image_dir / img["file_name"]

    def mask(self, img: Mapping[str, Any], ann: Mapping[str, Any]) -> np.ndarray:
        what = f"{self.where}: annotation {ann.get('id')!r:.20} of image {img['id']!r:.20}"
        if "segmentation" not in ann:
            raise DiceptionInputError(f"{what} has no 'segmentation'")
        try:
            return decode_segmentation(ann["segmentation"], img["height"], img["width"])
        except DiceptionInputError as err:
            raise DiceptionInputError(f"{what}: {err}") from None

    def union(self, img: Mapping[str, Any], anns: Sequence[Mapping[str, Any]]) -> np.ndarray:
        out = np.zeros((img["height"], img["width"]), dtype=bool)
        for ann in anns:
            out |= self.mask(img, ann)
        return out

    def instance_sample(
        self, img: Mapping[str, Any], anns: Sequence[Mapping[str, Any]], crowd: Sequence[Mapping[str, Any]],
        task: tasks.Task, category: str | None = None,
    ) -> Sample:  # fmt: skip
        imap = paint_instances([self.mask(img, a) for a in anns], (img["height"], img["width"]))
        present = set(np.unique(imap).tolist()) - {0}
        names = {i + 1: self.names.get(a["category_id"], str(a["category_id"])) for i, a in enumerate(anns)}
        return Sample(
            image_path=self.image_path(img), task=task.name, prompt=task.full_prompt(category),
            sample_id=str(img["id"]), instances=imap,
            instance_categories={k: v for k, v in names.items() if k in present},
            category=category, ignore_mask=self.union(img, crowd),
        )  # fmt: skip


def iter_coco_entity(
    annotations: str | Path | Mapping[str, Any], image_dir: str | Path, skip_empty: bool = True
) -> Iterator[Sample]:
    """One ``entity`` sample per image: every non-crowd instance in one id map, categories kept by name.

    Args:
        annotations: a COCO instances JSON (``instances_val2017.json``) or its dict.
        image_dir: folder holding the images' ``file_name``.
        skip_empty: leave out images without any non-crowd instance.
    """
    index = _CocoIndex(annotations, image_dir)
    for img, anns, crowd in index.images():
        if anns or not skip_empty:
            yield index.instance_sample(img, anns, crowd, tasks.ENTITY)


def iter_coco_semantic(
    annotations: str | Path | Mapping[str, Any],
    image_dir: str | Path,
    categories: Sequence[str] | None = None,
) -> Iterator[Sample]:
    """One ``semantic`` sample per (image, category present): the instances of that category only.

    The prompt is the semantic prompt with the category's name; ``categories`` restricts the names read
    (default all).
    ``ignore_mask`` holds that category's crowd regions.
    """
    index = _CocoIndex(annotations, image_dir)
    wanted = None if categories is None else set(categories)
    if wanted is not None and (unknown := wanted - set(index.names.values())):
        raise DiceptionInputError(f"categories {sorted(unknown)} are not in the annotation file's categories")
    for img, anns, crowd in index.images():
        for cid in sorted({a["category_id"] for a in anns}):
            name = index.names.get(cid, str(cid))
            if wanted is not None and name not in wanted:
                continue
            yield index.instance_sample(
                img, [a for a in anns if a["category_id"] == cid], [a for a in crowd if a["category_id"] == cid],
                tasks.SEMANTIC, category=name,
            )  # fmt: skip


def iter_coco_pose(
    annotations: str | Path | Mapping[str, Any],
    image_dir: str | Path,
    min_keypoints: int = 1,
    skip_empty: bool = True,
) -> Iterator[Sample]:
    """One ``pose`` sample per image: a ``(17, 3)`` float32 ``(x, y, v)`` array per non-crowd person.

    Args:
        annotations: a COCO person-keypoints JSON (``person_keypoints_val2017.json``) or its dict.
        image_dir: folder holding the images' ``file_name``.
        min_keypoints: people with fewer labelled keypoints (``v > 0``) are left out (COCOeval ignores
            people with none).
        skip_empty: leave out images with no person left.
    """
    index = _CocoIndex(annotations, image_dir)
    for img, anns, crowd in index.images():
        people = []
        for ann in anns:
            if "keypoints" not in ann:
                continue
            kp = keypoints_array(ann["keypoints"], f"{index.where}: annotation {ann.get('id')!r:.20} of image "
                                 f"{img['id']!r:.20}")  # fmt: skip
            if int((kp[:, 2] > 0).sum()) >= min_keypoints:
                people.append(kp)
        if people or not skip_empty:
            yield Sample(
                image_path=index.image_path(img), task=tasks.POSE.name, prompt=tasks.POSE.full_prompt(),
                sample_id=str(img["id"]),
                keypoints=people, ignore_mask=index.union(img, [a for a in crowd if "segmentation" in a]),
            )  # fmt: skip


# task -> the reader of a COCO annotation file for it (instances files serve entity and semantic, person
# keypoints files serve pose)
COCO_READERS = {tasks.ENTITY.name: iter_coco_entity, tasks.SEMANTIC.name: iter_coco_semantic,
                tasks.POSE.name: iter_coco_pose}  # fmt: skip
