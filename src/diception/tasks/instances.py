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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pycocotools.mask as mask_utils
from scipy import ndimage

from ..errors import DiceptionInputError
from .palette import nearest_colour, random_colours
from .point_seg import mask_to_rle


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
        rle = mask_to_rle(mask)
        bbox = tuple(float(v) for v in mask_utils.toBbox(rle))
        colour = tuple(float(v) for v in centres[k])
        instances.append(Instance(mask, rle, int(mask.sum()), bbox, score, colour))  # type: ignore[arg-type]
    instances.sort(key=lambda inst: -inst.area)
    return instances


def to_coco_results(instances: list[Instance], image_id: int, category_id: int = 1) -> list[dict]:
    """COCO segmentation-results entries (image id, category id, segmentation RLE, bbox, score)."""
    return [
        {
            "image_id": int(image_id),
            "category_id": int(category_id),
            "segmentation": inst.rle,
            "bbox": list(inst.bbox),
            "score": inst.score,
        }
        for inst in instances
    ]
