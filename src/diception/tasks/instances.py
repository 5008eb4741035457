"""Instance codec shared by entity and semantic segmentation: instance ids <-> distinct colours on black.

Encoding: every instance gets a random, seeded colour from the maximin palette (:mod:`.palette`), so any two
instances differ by at least 0.5 in RGB (for up to 16 instances) and none is near black.

Decoding does not assume our palette (a real model's colours drift), it finds the colours in the picture:

1. pixels whose brightest channel is below ``black_level`` are background;
2. the colours of the others are clustered: modes of a smoothed colour histogram seed a few k-means steps,
   pixels farther than ``assign_distance`` from every centre stay unassigned, centres closer than
   ``merge_distance`` are merged;
3. each colour cluster is split into connected pieces; pieces smaller than the minimum area, or fragmented
   (an opening keeps less than ``min_core_fraction`` of them), are dropped, and so are thin pieces whose
   colour is a blend of two neighbouring pieces' colours or of one and black (blurred seams and rims);
4. unassigned pixels within ``fill_radius`` of a piece join it when they are at least half as bright as its
   colour (the blurred rims of an instance);
5. pieces of one colour that now touch are merged, small holes are filled, and each piece is one instance,
   scored by how close its pixels' colours are to the cluster colour.

scipy is imported by the functions that use it, so loading the task registry (``diception --help``) stays quick.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pycocotools.mask as mask_utils

from ..atomic_files import write_atomically
from ..data.annotation_files import read_annotation_list
from ..data.rle import decode_rle, encode_mask
from ..errors import DiceptionInputError
from . import prediction_files as files
from .palette import nearest_colour, random_colours
from .task import GroundTruthOptions, Scorer, Task, TaskExample

if TYPE_CHECKING:
    from ..data.sample import Sample


@dataclass(frozen=True)
class InstanceDecodeParams:
    """Thresholds of :func:`decode`; colours and distances in RGB units of [0, 1]."""

    black_level: float = 0.15  # a pixel whose brightest channel is below this is background
    bin_size: float = 1 / 16  # width of the colour-histogram bins that seed the clustering
    kmeans_iterations: int = 4  # refinement steps of the cluster colours
    assign_distance: float = 0.2  # a pixel farther than this from every cluster colour stays unassigned
    merge_distance: float = 0.15  # cluster colours closer than this are one colour
    min_area: int = 16  # pieces with fewer pixels are dropped ...
    min_area_fraction: float = 0.0005  # ... and so are pieces smaller than this fraction of the picture
    min_core_fraction: float = 0.5  # a piece whose 3x3 opening keeps less than this share is a fragment
    blend_tolerance: float = 0.1  # a colour this close to a blend of two neighbours' colours (or black) ...
    max_blend_width: float = 3.0  # ... in a piece no thicker than twice this many pixels is a seam or rim
    fill_radius: float = 2.0  # unassigned pixels within this many pixels of a piece may join it
    max_hole_fraction: float = 0.1  # holes up to this share of an instance's area are filled
    split_components: bool = True  # one instance per connected piece (False: one per colour)


@dataclass
class Instance:
    """One decoded instance.

    Attributes:
        mask: ``(H, W)`` bool.
        rle: COCO RLE of the mask (``counts`` as ``str``).
        area: number of mask pixels.
        bbox: COCO ``(x, y, width, height)`` in pixels.
        score: confidence in [0, 1], the mean over the mask of ``1 - colour distance / assign_distance``.
        colour: the instance's RGB colour in the picture.
    """

    mask: np.ndarray = field(repr=False)
    rle: dict = field(repr=False)
    area: int
    bbox: tuple[float, float, float, float]
    score: float
    colour: tuple[float, float, float]


def encode(ids: np.ndarray, seed: int | None = 0, palette_size: int = 16) -> np.ndarray:
    """Target picture ``(H, W, 3)`` float32: each instance of ``ids`` in its own colour on black.

    Args:
        ids: ``(H, W)`` non-negative integer instance ids, 0 = background.
        seed: seeds the random choice of colours (``None``: fresh randomness).
        palette_size: colours are drawn from the first ``max(palette_size, n_instances)`` palette colours;
            smaller means farther apart, larger means more varied.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise DiceptionInputError(f"ids must be an (H, W) integer array, got {ids.dtype} {ids.shape}")
    if ids.size and ids.min() < 0:
        raise DiceptionInputError("ids must be non-negative (0 = background); map ignore labels to 0 first")
    labels, inverse = np.unique(ids, return_inverse=True)
    lut = np.zeros((len(labels), 3), dtype=np.float32)
    first = 1 if labels[0] == 0 else 0
    lut[first:] = random_colours(len(labels) - first, seed=seed, palette_size=palette_size)
    return lut[inverse.reshape(ids.shape)]


def _cluster_colours(colours: np.ndarray, min_count: int, p: InstanceDecodeParams) -> np.ndarray:
    """Cluster colours ``(N, 3)``: histogram modes refined by k-means; returns centres ``(K, 3)``."""
    from scipy import ndimage

    nb = int(np.ceil(1.0 / p.bin_size))
    q = np.clip((colours / p.bin_size).astype(np.int64), 0, nb - 1)
    flat = (q[:, 0] * nb + q[:, 1]) * nb + q[:, 2]
    hist = np.bincount(flat, minlength=nb**3).reshape(nb, nb, nb).astype(np.float64)
    box = np.ones((3, 3, 3))
    smooth = ndimage.correlate(hist, box, mode="constant")  # pixels in each bin and its 26 neighbours
    peaks = (smooth == ndimage.maximum_filter(smooth, size=3, mode="constant")) & (smooth >= min_count)
    sums = [
        ndimage.correlate(np.bincount(flat, weights=colours[:, c], minlength=nb**3).reshape(hist.shape), box,
                          mode="constant")
        for c in range(3)
    ]  # fmt: skip
    idx = np.nonzero(peaks)
    centres = np.stack([s[idx] for s in sums], axis=-1) / smooth[idx][:, None]
    for _ in range(p.kmeans_iterations):
        if len(centres) == 0:
            break
        nearest, dist = nearest_colour(colours, centres)
        ok = dist < p.assign_distance
        counts = np.bincount(nearest[ok], minlength=len(centres))
        means = (
            np.stack([np.bincount(nearest[ok], weights=colours[ok, c], minlength=len(centres)) for c in range(3)], -1)
            / np.maximum(counts, 1)[:, None]
        )
        keep = counts >= min_count
        centres, counts = means[keep], counts[keep]
        centres = _merge_close(centres, counts, p.merge_distance)
    return centres


def _merge_close(centres: np.ndarray, counts: np.ndarray, distance: float) -> np.ndarray:
    """Merge centres closer than ``distance`` into their count-weighted mean, largest clusters first."""
    merged: list[np.ndarray] = []
    weights: list[float] = []
    for i in np.argsort(-counts):
        for k, m in enumerate(merged):
            if np.linalg.norm(m - centres[i]) < distance:
                merged[k] = (m * weights[k] + centres[i] * counts[i]) / (weights[k] + counts[i])
                weights[k] += counts[i]
                break
        else:
            merged.append(centres[i].copy())
            weights.append(float(counts[i]))
    return np.array(merged).reshape(-1, 3)


def _pieces(clusters: np.ndarray, n_clusters: int, min_area: int, core_fraction: float) -> np.ndarray:
    """Label image of the connected pieces of each cluster, without tiny or fragmented ones (0 = none)."""
    from scipy import ndimage

    pieces = np.zeros(clusters.shape, dtype=np.int32)
    next_label = 1
    for k in range(n_clusters):
        lab, _ = ndimage.label(clusters == k)
        for j, sl in enumerate(ndimage.find_objects(lab), start=1):
            if sl is None:
                continue
            piece = lab[sl] == j
            area = int(piece.sum())
            if area < min_area:
                continue
            if core_fraction > 0 and ndimage.binary_opening(piece).sum() < core_fraction * area:
                continue
            pieces[sl][piece] = next_label
            next_label += 1
    return pieces


def _is_blend(colour: np.ndarray, neighbours: list[np.ndarray], tolerance: float) -> bool:
    """Whether ``colour`` lies within ``tolerance`` of a mix (10-90 %) of two of ``neighbours`` or of one and
    black."""
    ends = [np.zeros(3), *neighbours]
    for u, a in enumerate(ends):
        for b in ends[u + 1 :]:
            ab = a - b
            t = float((colour - b) @ ab / max(float(ab @ ab), 1e-12))
            if 0.1 <= t <= 0.9 and np.linalg.norm(colour - (b + t * ab)) < tolerance:
                return True
    return False


def _drop_blends(pieces: np.ndarray, colours: np.ndarray, p: InstanceDecodeParams) -> np.ndarray:
    """``pieces`` without the thin pieces whose colour (``colours[label]``) blends their neighbours'."""
    from scipy import ndimage

    out = pieces.copy()
    pad = 2
    for label, sl in enumerate(ndimage.find_objects(pieces), start=1):
        if sl is None:
            continue
        win = tuple(slice(max(s.start - pad, 0), s.stop + pad) for s in sl)
        piece = pieces[win] == label
        if ndimage.distance_transform_edt(np.pad(piece, 1)).max() > p.max_blend_width:
            continue
        around = pieces[win][ndimage.binary_dilation(piece, iterations=pad) & ~piece]
        neighbours = [colours[n] for n in np.unique(around) if n > 0]
        if _is_blend(colours[label], neighbours, p.blend_tolerance):
            out[win][piece] = 0
    return out


def decode(rgb: np.ndarray, params: InstanceDecodeParams | None = None) -> list[Instance]:
    """Instances found in a picture of coloured instances on black, largest first (see the module doc)."""
    from scipy import ndimage

    p = params or InstanceDecodeParams()
    rgb = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise DiceptionInputError(f"rgb must be an (H, W, 3) array, got shape {rgb.shape}")
    h, w, _ = rgb.shape
    min_area = max(p.min_area, int(np.ceil(p.min_area_fraction * h * w)))
    foreground = rgb.max(axis=-1) >= p.black_level
    colours = rgb[foreground]
    centres = _cluster_colours(colours, min_area, p) if len(colours) else np.zeros((0, 3))
    if len(centres) == 0:
        return []

    # 1. every foreground pixel to its nearest colour, if near enough
    nearest, dist = nearest_colour(colours, centres)
    clusters = np.full((h, w), -1, dtype=np.int32)
    clusters[foreground] = np.where(dist < p.assign_distance, nearest, -1)

    # 2. connected pieces, without tiny or fragmented ones; remember each piece's colour
    pieces = _pieces(clusters, len(centres), min_area, p.min_core_fraction)
    if not pieces.any():
        return []
    piece_cluster = np.zeros(pieces.max() + 1, dtype=np.int32)
    piece_cluster[pieces[pieces > 0]] = clusters[pieces > 0]
    pieces = _drop_blends(pieces, centres[piece_cluster], p)
    if not pieces.any():
        return []

    # 3. rims: unassigned pixels near a piece join it when at least half as bright as its colour
    dist, (iy, ix) = ndimage.distance_transform_edt(pieces == 0, return_indices=True)
    near = (pieces == 0) & (dist <= p.fill_radius) & foreground
    owner = pieces[iy[near], ix[near]]
    c = centres[piece_cluster[owner]]
    alpha = (rgb[near] * c).sum(-1) / np.maximum((c * c).sum(-1), 1e-6)
    ys, xs = np.nonzero(near)
    join = alpha >= 0.5
    grown = pieces.copy()
    grown[ys[join], xs[join]] = owner[join]

    # 4. one colour -> touching pieces merged; fill small holes; score
    colour_map = np.where(grown > 0, piece_cluster[grown], -1)
    taken = grown > 0
    consistency = np.zeros((h, w), dtype=np.float32)
    fg_d = np.linalg.norm(rgb[taken] - centres[colour_map[taken]], axis=-1)
    consistency[taken] = np.clip(1.0 - fg_d / p.assign_distance, 0.0, 1.0)
    masks: list[tuple[np.ndarray, int]] = []
    for k in range(len(centres)):
        same = colour_map == k
        if p.split_components:
            lab, n = ndimage.label(same)
            parts = [lab == j for j in range(1, n + 1)]
        else:
            parts = [same] if same.any() else []
        masks += [(m, k) for m in parts if m.sum() >= min_area]

    instances = []
    for mask, k in masks:
        area = int(mask.sum())
        holes, n_holes = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
        if n_holes:
            sizes = np.bincount(holes.ravel(), minlength=n_holes + 1)
            small = sizes <= p.max_hole_fraction * area
            small[0] = False
            mask = mask | (small[holes] & ~taken)
            taken |= mask
        score = float(consistency[mask].mean())
        rle = encode_mask(mask)
        bbox = tuple(float(v) for v in mask_utils.toBbox(rle))
        colour = tuple(float(v) for v in centres[k])
        instances.append(Instance(mask, rle, int(mask.sum()), bbox, score, colour))  # type: ignore[arg-type]
    instances.sort(key=lambda inst: -inst.area)
    return instances


def instance_annotations(ids: np.ndarray, categories: dict[int, str]) -> list[dict[str, Any]]:
    """One annotation per named instance of an id map: ``id``, ``category``, ``segmentation`` (RLE), ``area``
    and ``bbox`` (pixel-inclusive ``x, y, w, h``), in the order of ``categories``."""
    annotations = []
    for instance, category in categories.items():
        mask = ids == instance
        rows, cols = np.nonzero(mask)
        bbox = [int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1)]
        annotations.append(
            {"id": instance, "category": category, "segmentation": encode_mask(mask), "area": int(mask.sum()),
             "bbox": bbox}
        )  # fmt: skip
    return annotations


def _annotation_name(ann: dict[str, Any]) -> str | None:
    name = ann.get("prompt", ann.get("category"))
    return str(name).strip() if name is not None else None


class EntityTask(Task):
    """Entity segmentation: every object in a random colour; the prediction a list of :class:`Instance`.

    Files: ``_output.png`` (the picture) and ``_masks.json`` (COCO results, one entry per instance). Ground
    truth: ``Sample.instances`` (an id map), read from a ``.json`` list of annotations (``segmentation`` as
    polygon or RLE, optional ``prompt``/``category``). Scored by COCO mask AP, class-agnostic.
    """

    name = "entity"
    prompt = "[[image2entity]]"
    description = "entity segmentation (every object, class-agnostic)"
    output = "each entity in a random colour on black"
    prediction_kind = "instances"
    files = (("picture", "_output.png", files.write_rgb_png), ("json", "_masks.json", files.write_masks_json))

    def has_ground_truth(self, sample: Sample) -> bool:
        return sample.instances is not None or super().has_ground_truth(sample)

    def target_picture(self, sample: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
        """The instances in random palette colours, seeded from ``rng`` (colour seed 0 without it)."""
        if sample.instances is None:
            return super().target_picture(sample, rng)
        return encode(sample.instances, seed=int(rng.integers(2**31)) if rng is not None else 0)

    def read_ground_truth(self, sample: Sample, path: Path, options: GroundTruthOptions) -> list[Sample]:
        if path.suffix.lower() != ".json":
            raise DiceptionInputError(f"task '{self.name}' reads a .json annotation list, not {path.name}")
        return self._samples_of(replace(sample, target_path=path), read_annotation_list(path))

    def _samples_of(self, sample: Sample, anns: list[dict[str, Any]]) -> list[Sample]:
        return [self._with_annotations(sample, anns, None)]

    def _with_annotations(self, sample: Sample, anns: list[dict[str, Any]], category: str | None) -> Sample:
        from ..data.coco import paint_instances
        from ..data.rle import decode_segmentation

        h, w = sample.image_size()
        masks = []
        for k, ann in enumerate(anns):
            try:
                masks.append(decode_segmentation(ann.get("segmentation"), h, w))
            except DiceptionInputError as err:
                raise DiceptionInputError(f"target {sample.target_path}: annotation {k}: {err}") from None
        ids = paint_instances(masks, (h, w))
        present = set(np.unique(ids).tolist()) - {0}
        names = {i + 1: n for i, a in enumerate(anns) if (n := _annotation_name(a)) is not None and i + 1 in present}
        return replace(sample, prompt=self.full_prompt(category), instances=ids, instance_categories=names,
                       category=category)  # fmt: skip

    def ground_truth_from_mask(self, sample: Sample, mask: np.ndarray) -> list[Sample]:
        named = {1: sample.category} if sample.category and mask.any() else {}
        return [replace(sample, instances=mask.astype(np.int32), instance_categories=named)]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        return [(self.full_prompt(), self._write_instances(sample, folder, stem))]

    def _write_instances(self, sample: Sample, folder: Path, stem: str) -> str:
        """``<stem>_instances.png`` (16-bit ids) and ``<stem>_instances.json`` (annotations); returns the JSON name."""
        from PIL import Image

        ids = Image.fromarray(sample.instances.astype(np.uint16))
        write_atomically(folder / f"{stem}_instances.png", lambda stream: ids.save(stream, format="PNG"))
        document = json.dumps(instance_annotations(sample.instances, sample.instance_categories))
        name = f"{stem}_instances.json"
        write_atomically(folder / name, lambda stream: stream.write(document.encode("utf-8")))
        return name

    def decode(self, picture: np.ndarray) -> list[Instance]:
        return decode(picture)

    def read_prediction(self, base: Path) -> list[Instance]:
        entries = files.read_json(files.existing_file(base, "_masks.json"))
        return [Instance(mask=decode_rle(e["segmentation"]), rle=e["segmentation"], area=int(e["area"]),
                         bbox=tuple(e["bbox"]), score=float(e["score"]), colour=(0.0, 0.0, 0.0))
                for e in entries]  # fmt: skip

    def scorer(self) -> Scorer:
        from ..evaluation.scorers import InstanceScorer

        return InstanceScorer()

    def baseline(self, sample: Sample) -> list[Instance]:
        """One instance covering the whole picture."""
        height, width = sample.image_size()
        mask = np.ones((height, width), dtype=bool)
        return [Instance(mask=mask, rle=encode_mask(mask), area=mask.size, bbox=(0.0, 0.0, float(width), float(height)),
                         score=1.0, colour=(1.0, 1.0, 1.0))]  # fmt: skip


class SemanticTask(EntityTask):
    """Semantic instance segmentation: the instances of the prompt's category; predictions as for entity.

    Ground truth as for entity, one sample per category of the annotation list (or the record's own
    category). Scored by COCO mask AP per category and semantic mIoU.
    """

    name = "semantic"
    prompt = "[[image2semantic]]"
    description = "instances of one category, e.g. person"
    output = "each instance of the category in a random colour on black"
    needs_category = True

    def draw_example(self, sample: Sample, rng: np.random.Generator) -> TaskExample:
        """The instances of the sample's category, or of one category present drawn at random."""
        category = sample.category
        ids = sample.instances
        if category is None:
            categories = sorted(set(sample.instance_categories.values()))
            if not categories:
                raise DiceptionInputError(f"task '{self.name}' needs an object in the scene; this scene shows none")
            category = categories[int(rng.integers(len(categories)))]
            wanted = [i for i, c in sample.instance_categories.items() if c == category]
            ids = np.where(np.isin(sample.instances, wanted), sample.instances, 0)
        return TaskExample(encode(ids, seed=int(rng.integers(2**31))), self.full_prompt(category), ())

    def _samples_of(self, sample: Sample, anns: list[dict[str, Any]]) -> list[Sample]:
        names = [sample.category] if sample.category else sorted({n for a in anns if (n := _annotation_name(a))})
        return [self._with_annotations(sample, [a for a in anns if _annotation_name(a) == n], n) for n in names]

    def write_ground_truth(self, sample: Sample, folder: Path, stem: str, rng: np.random.Generator
                           ) -> list[tuple[str, str]]:  # fmt: skip
        name = self._write_instances(sample, folder, stem)
        return [(self.full_prompt(c), name) for c in sorted(set(sample.instance_categories.values()))]

    def complete_request(self, sample: Sample, rng: np.random.Generator, every_region: bool = False
                         ) -> list[Sample]:  # fmt: skip
        """A record without a category takes one from its target file as the published batch collator does:
        the category of one annotation chosen at random."""
        if sample.category or sample.target_path is None or Path(sample.target_path).suffix.lower() != ".json":
            return super().complete_request(sample, rng, every_region)
        names = [n for a in read_annotation_list(Path(sample.target_path)) if (n := _annotation_name(a))]
        if not names:
            raise DiceptionInputError(f"target {sample.target_path} names no category; add one to the caption")
        category = names[int(rng.integers(len(names)))]
        return [replace(sample, category=category, prompt=self.full_prompt(category))]
