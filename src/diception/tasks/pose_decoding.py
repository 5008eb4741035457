"""Reading a skeleton picture back into persons, in named phases (see :mod:`.pose` for how it is drawn).

1. :func:`classify_pixels`: optionally undo a per-channel gain and offset fitted against the known colours, then
   name every pixel by its nearest known colour: keypoint red, one of the 19 limb colours, or nothing.
2. :func:`find_discs`: keypoint discs. A red blob one disc explains is one keypoint at its centroid. A blob of
   discs that touch or overlap is split (:func:`split_blob`): every drawn disc lies inside the blob, so its
   centre is a pixel about a radius from the blob's edge; discs are chosen among those one at a time, each the
   one that explains most of what is still unexplained, until little is. A limb colour leaving a blob belongs
   to the one disc it goes on straight out from (:func:`_follow`), so a limb merely passing by a disc is not
   its limb.
3. :func:`join_limbs`: two discs are joined by limb L when both have L leaving toward the other and L covers the
   segment between them (red of a third disc drawn over it counts); no limb shows between overlapping discs.
4. :func:`assemble_persons`: keypoint ids spread along the joined limbs from a disc its limbs name; persons
   that share a red blob and meet across a hidden limb are one person; a group of touching discs that limbs
   leave mostly unnamed is named as a whole by matching an upright template to it; a disc still without an id
   takes the one id its blob-mates leave open in the skeleton, or, when several are open, the one the template
   places nearest. Ids taken from blob-mates score 0.75, template guesses 0.5 of their disc's score.

Measured on an upright person with COCO-like proportions in a 768 px picture (disc radius 16 px; six poses per
height, ``tests/tasks/test_pose_decoding.py`` checks the first two rows), keypoints found with the right id:

=============  ==============================  ==============================
person height  clean picture: all / body (12)   blurred, JPEG'd, colour-shifted
=============  ==============================  ==============================
560 px         17.0 / 12.0 (before: 11.3)      16.2 / 12.0 (before: 11.3)
420 px         16.3 / 12.0 (before: 7.7)       15.7 / 12.0 (before: 6.2)
280 px         15.2 / 12.0 (before: 2.8)       11.7 / 9.3 (before: 3.0)
200 px         14.5 / 11.7 (before: 0.8)       14.5 / 11.7 (before: 0.5)
140 px         13.0 / 11.0 (before: 0)         12.3 / 10.7 (before: 0)
100 px         10.2 / 8.2 (before: 0)          9.2 / 7.5 (before: 0)
=============  ==============================  ==============================

Limits: a disc that lies within a third of a radius of another, or that the discs around it cover but for a
sliver (less than 15 % of its area), is not told apart (a face below ~300 px of height loses some of its five);
small people are named mostly by the template, which assumes an upright person facing the camera; a disc cut
by the picture's border pulls its keypoint inwards; a keypoint with no labelled neighbour and no touching disc
cannot be named, so it is dropped. Three crowded people at 256 px after blur, JPEG and colour shift decode
exactly in 21 of 24 scenes (the decoder before: 23 of 24; clean, blurred, JPEG'd or jittered alone: 24 of 24
for both).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .palette import nearest_colour
from .pose import (
    KEYPOINT_COLOUR,
    LEFT_RIGHT_LIMBS,
    LIMB_COLOURS,
    NUM_KEYPOINTS,
    SKELETON,
    UPRIGHT_TEMPLATE,
    PersonPose,
    PoseDecodeParams,
    disc_radius,
    limb_width,
)

MAX_TURN = np.radians(15)  # how far from an exit's middle its limb's axis may run (half a width at a disc's edge)
_NEAR = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
_NEIGHBOURS = [{b if a == k else a for a, b in SKELETON if k in (a, b)} for k in range(NUM_KEYPOINTS)]


# ------------------------------------------------------------------------------------------------ 1. pixels
@dataclass(frozen=True)
class PixelClasses:
    """What each pixel shows: ``red`` keypoint pixels, ``limbs`` the limb index (-1: none), ``distance`` to the
    nearest known colour (RGB units)."""

    red: np.ndarray  # (H, W) bool
    limbs: np.ndarray  # (H, W) int
    distance: np.ndarray  # (H, W) float


def reference_colours() -> np.ndarray:
    """Black, red, then the 19 limb colours, ``(21, 3)`` in [0, 1]."""
    return np.concatenate([[[0, 0, 0], KEYPOINT_COLOUR], LIMB_COLOURS]).astype(np.float32) / 255.0


def _calibrate(pixels: np.ndarray, refs: np.ndarray, tolerance: float, iterations: int = 3) -> np.ndarray:
    """Undo a per-channel ``gain * colour + offset``, fitted by least squares between (a sample of) the pixels
    and their nearest known colours."""
    sample = pixels[:: max(1, len(pixels) // 20000)]
    gain, offset = np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    for _ in range(iterations):
        idx, dist = nearest_colour((sample - offset) / gain, refs)
        ok = dist < tolerance
        if ok.sum() < 16:
            break
        for c in range(3):
            x, y = refs[idx[ok], c], sample[ok, c]
            if x.std() > 1e-3:
                g, o = np.polyfit(x, y, 1)
                gain[c], offset[c] = np.clip(g, 0.5, 2.0), np.clip(o, -0.2, 0.2)
    return (pixels - offset) / gain


def classify_pixels(rgb: np.ndarray, p: PoseDecodeParams) -> PixelClasses:
    """Phase 1: every pixel named by its nearest known colour (after the optional colour calibration)."""
    h, w, _ = rgb.shape
    refs = reference_colours()
    pixels = np.clip(rgb.reshape(-1, 3), 0.0, 1.0)
    if p.calibrate:
        pixels = _calibrate(pixels, refs, p.calibration_tolerance)
    idx, dist = nearest_colour(pixels, refs)
    idx, dist = idx.reshape(h, w), dist.reshape(h, w)
    red = (idx == 1) & (dist < p.red_tolerance)
    limbs = np.where((idx >= 2) & (dist < p.limb_tolerance), idx - 2, -1)
    return PixelClasses(red, limbs, dist)


# ------------------------------------------------------------------------------------------------- 2. discs
@dataclass
class Discs:
    """Keypoint discs: centres ``(N, 2)`` as ``(x, y)``, radii, scores, the red blob each belongs to and the limb
    colours each sees around it."""

    centres: np.ndarray
    radii: np.ndarray
    scores: np.ndarray
    blobs: np.ndarray
    seen: list[dict[int, np.ndarray]] = field(default_factory=list)  # limb -> unit direction it leaves in

    def __len__(self) -> int:
        return len(self.centres)

    def blob_mates(self, i: int) -> list[int]:
        """The other discs of disc ``i``'s red blob."""
        return [j for j in np.nonzero(self.blobs == self.blobs[i])[0].tolist() if j != i]


def _follow(centre: np.ndarray, exit_pixels: np.ndarray, limb: int, classes: PixelClasses, ring: int
            ) -> tuple[float, np.ndarray]:  # fmt: skip
    """How well ``limb`` goes on straight out from ``centre`` beyond an exit (``(N, 2)`` pixels ``(x, y)``): the
    share of points on the ray from the centre through the exit's middle, beyond it, that show the limb colour
    or red (the limb may end in the next disc); and the ray's direction."""
    h, w = classes.limbs.shape
    exit_point = exit_pixels.mean(axis=0)
    out = exit_point - centre
    out /= max(float(np.linalg.norm(out)), 1e-6)
    points = np.rint(exit_point + np.linspace(ring, 2.5 * ring, 6)[:, None] * out).astype(int)  # (6, 2)
    inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
    hits = np.zeros(len(points), dtype=bool)
    for dy, dx in _NEAR:  # at or next to each point: the direction is known only roughly
        ry, rx = np.clip(points[:, 1] + dy, 0, h - 1), np.clip(points[:, 0] + dx, 0, w - 1)
        hits |= (classes.limbs[ry, rx] == limb) | classes.red[ry, rx]
    return float((hits & inside).sum() / max(int(inside.sum()), 1)), out


def _follow_across(centre: np.ndarray, exit_pixels: np.ndarray, limb: int, classes: PixelClasses, ring: int,
            tries: int = 7) -> tuple[float, np.ndarray]:  # fmt: skip
    """As :func:`_follow`, the best over a few directions spanning the exit (at most :data:`MAX_TURN` off its
    middle): an exit can show only part of a limb's width (a limb drawn later over it), whose middle is then
    off the limb's axis by up to half a limb width."""
    h, w = classes.limbs.shape
    offsets = exit_pixels - centre
    angles = np.arctan2(offsets[:, 1], offsets[:, 0])
    mean = np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())
    spread = np.angle(np.exp(1j * (angles - mean)))  # around the mean direction, in (-pi, pi]
    tried = mean + np.clip(np.quantile(spread, np.linspace(0.0, 1.0, tries)), -MAX_TURN, MAX_TURN)
    units = np.stack([np.cos(tried), np.sin(tried)], axis=1)  # (tries, 2)
    start = float(np.linalg.norm(offsets, axis=1).max())
    steps = start + np.linspace(0.0, 1.5 * ring, 6)
    points = np.rint(centre + steps[None, :, None] * units[:, None]).astype(int)  # (tries, steps, 2)
    inside = (points[..., 0] >= 0) & (points[..., 0] < w) & (points[..., 1] >= 0) & (points[..., 1] < h)
    hits = np.zeros(inside.shape, dtype=bool)
    for dy, dx in _NEAR:  # at or next to each point: the direction is known only roughly
        ry, rx = np.clip(points[..., 1] + dy, 0, h - 1), np.clip(points[..., 0] + dx, 0, w - 1)
        hits |= (classes.limbs[ry, rx] == limb) | classes.red[ry, rx]
    share = (hits & inside).sum(1) / np.maximum(inside.sum(1), 1)
    best = int(np.argmax(share))
    return float(share[best]), units[best]


def _under_another_limb(place: np.ndarray, window: np.ndarray, limb: int) -> bool:
    """Whether an exit of ``limb`` borders another limb's colour along most of a side (drawn over it)."""
    rim = ndimage.binary_dilation(place, iterations=2) & ~place
    others = (window[rim] >= 0) & (window[rim] != limb)
    return bool(others.sum() >= 0.5 * max(1, int(np.sqrt(place.sum()))) * 2)


def _limb_exits(blob: np.ndarray, win: tuple[slice, slice], centres: np.ndarray, classes: PixelClasses, ring: int,
                p: PoseDecodeParams) -> list[dict[int, np.ndarray]]:  # fmt: skip
    """What each disc of a blob sees: every place a limb colour leaves the blob belongs to one disc, the nearest
    of those the limb goes on straight out from (a limb is drawn from its keypoint's centre; see
    :func:`_follow`); a limb that passes by without going on straight from any of them is no disc's."""
    origin = np.array([win[1].start, win[0].start], dtype=np.float64)
    around = ndimage.binary_dilation(blob, iterations=ring) & ~blob
    seen: list[dict[int, np.ndarray]] = [{} for _ in centres]
    size: list[dict[int, int]] = [{} for _ in centres]  # pixels of the exit kept: the largest of each limb
    window = classes.limbs[win]
    for limb in np.unique(window[around & (window >= 0)]).tolist():
        places, n = ndimage.label(around & (window == limb), structure=np.ones((3, 3)))
        for place in range(1, n + 1):
            ys, xs = np.nonzero(places == place)
            if len(ys) < p.min_ring_pixels:
                continue
            pixels = np.stack([xs, ys], axis=1) + origin
            follows = [_follow(c, pixels, limb, classes, ring) for c in centres]
            followers = [k for k, (share, _) in enumerate(follows) if share >= p.min_follow]
            if not followers and _under_another_limb(places == place, window, limb):
                follows = [_follow_across(c, pixels, limb, classes, ring) for c in centres]
                followers = [k for k, (share, _) in enumerate(follows) if share >= 1.0]  # all the way
            if not followers:  # a limb passing by, not leaving
                continue
            exit_point = pixels.mean(axis=0)
            best = min(followers, key=lambda k: float(np.linalg.norm(exit_point - centres[k])))
            if len(ys) > size[best].get(limb, 0):
                seen[best][limb], size[best][limb] = follows[best][1], len(ys)
    return seen


def _disc_radius_in_picture(labels: np.ndarray, n_blobs: int, drawn: int) -> float:
    """The radius discs have in this picture (blur and compression move their edge): ``sqrt(area / pi)`` of the
    median blob that looks like one disc, within 0.7-1.2 times the drawn radius (the drawn one if none does)."""
    areas = np.bincount(labels.ravel(), minlength=n_blobs + 1)[1:]
    single = areas[(areas >= 0.5 * np.pi * drawn**2) & (areas <= 1.3 * np.pi * drawn**2)]
    radius = float(np.sqrt(np.median(single) / np.pi)) if len(single) else float(drawn)
    return float(np.clip(radius, 0.7 * drawn, 1.2 * drawn))


def split_blob(blob: np.ndarray, radius: float, p: PoseDecodeParams, outside: np.ndarray | None = None
               ) -> np.ndarray:  # fmt: skip
    """Centres ``(K, 2)`` (``(x, y)`` in the blob's window) of discs of ``radius`` whose union draws ``blob``.

    A drawn disc lies inside the blob, so its centre is a pixel whose distance to the blob's edge is about the
    radius; the centres are chosen among such candidates, one at a time, each time the candidate whose disc
    covers the most of what is left, every pixel weighted by how few candidates cover it (the far rim of an
    outer disc is only covered from its own centre), until what is left is a small share of a disc.
    ``outside`` marks window pixels beyond the picture's border, which count as blob (a disc may be cut there).
    """
    beyond = np.zeros_like(blob) if outside is None else outside
    edt = ndimage.distance_transform_edt(np.pad(blob | beyond, 1, constant_values=False))[1:-1, 1:-1]
    cy, cx = np.nonzero(blob & (edt >= radius - p.edge_tolerance))
    if len(cy) == 0:  # nothing holds a whole disc: the deepest pixel
        cy, cx = np.unravel_index([int(np.argmax(np.where(blob, edt, 0)))], blob.shape)
    ys, xs = np.nonzero(blob)
    covers = (xs[None] - cx[:, None]) ** 2 + (ys[None] - cy[:, None]) ** 2 <= radius**2  # (candidates, pixels)
    weight = 1.0 / np.maximum(covers.sum(axis=0), 1)
    left = covers.any(axis=0)
    chosen: list[int] = []
    while left.sum() > p.unexplained_fraction * np.pi * radius**2 and len(chosen) < NUM_KEYPOINTS:
        gain = covers[:, left] @ weight[left]
        if chosen:
            near = np.hypot(cx[:, None] - cx[chosen], cy[:, None] - cy[chosen]).min(axis=1)
            gain[near < p.min_separation * radius] = 0.0
        best = int(np.argmax(gain))
        if covers[best, left].sum() < p.unexplained_fraction * np.pi * radius**2:
            break
        chosen.append(best)
        left &= ~covers[best]
    return np.stack([cx[chosen], cy[chosen]], axis=1).astype(np.float64)


def _beyond_picture(shape: tuple[int, int], win: tuple[slice, slice], picture: tuple[int, int]) -> np.ndarray:
    """A window's frame marked where it lies on the picture's border (a disc beyond it would be cut off)."""
    out = np.zeros(shape, dtype=bool)
    if win[0].start == 0:
        out[0] = True
    if win[1].start == 0:
        out[:, 0] = True
    if win[0].stop >= picture[0]:
        out[-1] = True
    if win[1].stop >= picture[1]:
        out[:, -1] = True
    return out


def find_discs(classes: PixelClasses, size: tuple[int, int], p: PoseDecodeParams) -> Discs:
    """Phase 2: keypoint discs, one per red blob that one disc explains, several per blob of touching discs."""
    r_draw = disc_radius(size)
    ring = limb_width(size) + 1
    labels, n_blobs = ndimage.label(classes.red, structure=np.ones((3, 3)))
    radius = _disc_radius_in_picture(labels, n_blobs, r_draw)
    margin = ring + int(np.ceil(radius)) + 1
    centres, radii, scores, blobs, seen = [], [], [], [], []
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        win = tuple(slice(max(s.start - margin, 0), s.stop + margin) for s in sl)  # the blob, its ring, room
        blob = labels[win] == k
        area = int(blob.sum())
        if area < p.min_disc_fraction * np.pi * r_draw**2:
            continue
        redness = np.clip(1.0 - classes.distance[win] / p.red_tolerance, 0.0, 1.0)
        origin = np.array([win[1].start, win[0].start], dtype=np.float64)
        if area <= p.split_area_factor * np.pi * radius**2:  # one disc: its centroid, as drawn
            ys, xs = np.nonzero(blob)
            whole = min(1.0, area / (np.pi * r_draw**2))
            parts = [(np.array([xs.mean(), ys.mean()]), blob, np.sqrt(area / np.pi), whole)]
        else:
            local = split_blob(blob, radius, p, outside=_beyond_picture(blob.shape, win, classes.red.shape))
            wy, wx = np.mgrid[: blob.shape[0], : blob.shape[1]]
            nearest = np.argmin(((wx[..., None] - local[:, 0]) ** 2 + (wy[..., None] - local[:, 1]) ** 2), axis=-1)
            parts = [(c, blob & (nearest == j), radius, 1.0) for j, c in enumerate(local)]
        for centre, own, r, completeness in parts:
            centres.append(centre + origin)
            radii.append(r)
            scores.append(float(redness[own].mean() * completeness) if own.any() else 0.0)
            blobs.append(k)
        seen += _limb_exits(blob, win, np.array(centres[-len(parts) :]), classes, ring, p)
    return Discs(np.array(centres, dtype=np.float64).reshape(-1, 2), np.array(radii, dtype=np.float64),
                 np.array(scores, dtype=np.float64), np.array(blobs, dtype=np.int64), seen)  # fmt: skip


# ------------------------------------------------------------------------------------------------- 3. limbs
@dataclass(frozen=True)
class LimbEdge:
    """Limb ``limb`` seen joining discs ``i`` and ``j``; ``coverage`` is the share of the segment it covers."""

    coverage: float
    i: int
    j: int
    limb: int


def _coverage(p: np.ndarray, q: np.ndarray, r_p: np.ndarray, r_q: np.ndarray, covered: np.ndarray,
              under: np.ndarray, samples: int = 16) -> np.ndarray:  # fmt: skip
    """For each pair of discs (centres ``p``, ``q`` ``(N, 2)``, radii ``(N,)``), the share of ``samples`` points
    on the segment between the two discs' edges where ``covered`` (the limb colour) is true, or ``under`` (red
    of a third disc drawn over the limb); discs that overlap are checked at the middle of their overlap, for the
    limb colour alone."""
    v = q - p
    length = np.maximum(np.linalg.norm(v, axis=1), 1e-6)
    start, stop = r_p / length, 1.0 - r_q / length
    apart = start < stop
    middle = (start + stop) / 2
    start, stop = np.minimum(start, middle), np.maximum(stop, middle)
    t = start[:, None] + (stop - start)[:, None] * np.linspace(0.0, 1.0, samples)[None]  # (N, samples)
    pts = np.rint(p[:, None, :] + t[..., None] * v[:, None, :]).astype(int)
    h, w = covered.shape
    rows, cols = np.clip(pts[..., 1], 0, h - 1), np.clip(pts[..., 0], 0, w - 1)
    return (covered[rows, cols] | (under[rows, cols] & apart[:, None])).mean(axis=1)


def join_limbs(discs: Discs, classes: PixelClasses, size: tuple[int, int], p: PoseDecodeParams
               ) -> list[LimbEdge]:  # fmt: skip
    """Phase 3: pairs of discs that both see a limb colour leave toward the other and are joined by it (each
    disc has at most one limb of each kind, the pair with the most limb showing first). No limb shows between
    discs that overlap, and little between discs that nearly touch."""
    width = limb_width(size)
    edges = []
    for limb in range(len(SKELETON)):
        touching = [i for i, s in enumerate(discs.seen) if limb in s]
        if len(touching) < 2:
            continue
        covered = ndimage.binary_dilation(classes.limbs == limb, structure=np.ones((3, 3)))
        i_idx, j_idx = np.triu_indices(len(touching), k=1)
        i_idx, j_idx = np.asarray(touching)[i_idx], np.asarray(touching)[j_idx]
        cov = _coverage(
            discs.centres[i_idx], discs.centres[j_idx], discs.radii[i_idx], discs.radii[j_idx], covered, classes.red
        )
        v = discs.centres[j_idx] - discs.centres[i_idx]
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
        out_i = np.stack([discs.seen[i][limb] for i in i_idx])
        out_j = np.stack([discs.seen[j][limb] for j in j_idx])
        alignment = np.minimum((out_i * v).sum(1), -(out_j * v).sum(1))
        gap = (
            np.linalg.norm(discs.centres[j_idx] - discs.centres[i_idx], axis=1)
            - discs.radii[i_idx]
            - discs.radii[j_idx]
        )
        evidence = cov * np.clip(gap / (2 * width), 0.0, 1.0)  # a gap shorter than two limb widths shows little
        pairs = [(float(e), float(a), float(c), int(i), int(j))
                 for e, a, c, i, j, g in zip(evidence, alignment, cov, i_idx, j_idx, gap)
                 if a >= p.min_alignment and c >= p.min_coverage and g > 0]  # fmt: skip
        used: set[int] = set()
        for _, _, c, i, j in sorted(pairs, reverse=True):
            if i not in used and j not in used:
                used |= {i, j}
                edges.append(LimbEdge(c, i, j, limb))
    return edges


# ------------------------------------------------------------------------------------------------ 4. persons
@dataclass
class _Person:
    """Keypoint id -> disc, the coverages of its visible limbs, and the discs whose ids were inferred or guessed."""

    ids: dict[int, int]
    coverages: list[float]
    inferred: set[int] = field(default_factory=set)
    guessed: set[int] = field(default_factory=set)


def _orient_guess(limb: int, i: int, j: int, centres: np.ndarray) -> tuple[int, int]:
    """Keypoint ids of discs ``i`` and ``j`` joined only by ``limb``: a person facing the camera has its left at
    larger x; otherwise the eye lies above the nose and the lower COCO index higher up."""
    a, b = sorted(SKELETON[limb])
    if (a, b) in LEFT_RIGHT_LIMBS:
        first_is_a = centres[i, 0] >= centres[j, 0]
    else:
        upper = b if a == 0 else a
        first_is_upper = centres[i, 1] <= centres[j, 1]
        first_is_a = first_is_upper == (upper == a)
    return (a, b) if first_is_a else (b, a)


def _spread(seed: int, seed_id: int, adjacency: dict[int, list], free: set[int]) -> _Person:
    """Keypoint ids spread along joined limbs from disc ``seed`` (id ``seed_id``) over the discs in ``free``."""
    person, queue = _Person({seed_id: seed}, []), [(seed, seed_id)]
    free.discard(seed)
    while queue:
        i, ki = queue.pop(0)
        for cov, j, limb in sorted(adjacency[i], reverse=True):
            a, b = SKELETON[limb]
            if j not in free or ki not in (a, b):
                continue
            kj = b if ki == a else a
            if kj in person.ids:
                continue
            person.ids[kj] = j
            person.coverages.append(cov)
            free.discard(j)
            queue.append((j, kj))
    return person


def _named_by_limbs(discs: Discs, edges: list[LimbEdge]) -> list[_Person]:
    """Persons of the joined limbs: ids spread from a disc whose limbs name it (or, in a group no limb names,
    from one oriented by :func:`_orient_guess`)."""
    adjacency: dict[int, list[tuple[float, int, int]]] = {}
    for e in edges:
        adjacency.setdefault(e.i, []).append((e.coverage, e.j, e.limb))
        adjacency.setdefault(e.j, []).append((e.coverage, e.i, e.limb))
    candidates = {i: set.intersection(*(set(SKELETON[limb]) for _, _, limb in adj)) for i, adj in adjacency.items()}
    free, persons = set(adjacency), []
    while free:
        named = [i for i in free if len(candidates[i]) == 1]
        if named:
            seed = max(named, key=lambda i: (len(adjacency[i]), -i))
            person = _spread(seed, next(iter(candidates[seed])), adjacency, free)
        else:
            seed = min(free)
            _, other, limb = max(adjacency[seed])
            person = _spread(seed, _orient_guess(limb, seed, other, discs.centres)[0], adjacency, free)
            person.guessed = set(person.ids.values())
        if len(person.ids) >= 2:  # else its limbs were claimed by others: it cannot be named
            persons.append(person)
    return persons


def _merge_blob_mates(persons: list[_Person], discs: Discs) -> list[_Person]:
    """Persons sharing a red blob whose ids do not clash and meet across a hidden limb are one person."""
    merged = True
    while merged:
        merged = False
        for a in range(len(persons)):
            for b in range(a + 1, len(persons)):
                pa, pb = persons[a], persons[b]
                if set(pa.ids) & set(pb.ids):
                    continue
                owner = {d: k for k, d in pa.ids.items()}
                meets = any(
                    owner.get(j) in _NEIGHBOURS[k] for k, i in pb.ids.items() for j in discs.blob_mates(i)
                )  # fmt: skip
                if meets:
                    pa.ids.update(pb.ids)
                    pa.coverages += pb.coverages
                    pa.inferred |= pb.inferred
                    pa.guessed |= pb.guessed
                    del persons[b]
                    merged = True
                    break
            if merged:
                break
    return persons


def _template_place(person: _Person, discs: Discs) -> tuple[float, np.ndarray] | None:
    """Scale and offset placing :data:`~.pose.UPRIGHT_TEMPLATE` on a person's keypoints (least squares)."""
    ids = sorted(person.ids)
    if len(ids) < 2:
        return None
    model = UPRIGHT_TEMPLATE[ids]
    seen = discs.centres[[person.ids[k] for k in ids]]
    dm, ds = model - model.mean(0), seen - seen.mean(0)
    scale = float((dm * ds).sum() / max((dm * dm).sum(), 1e-9))
    if scale <= 0:
        return None
    return scale, seen.mean(0) - scale * model.mean(0)


def _name_by_blob_mates(persons: list[_Person], discs: Discs) -> None:
    """Give discs left without an id the id their blob-mates leave open: the one free skeleton neighbour of a
    blob-mate's id (seen limbs permitting) when only one is, else the open id the upright template places
    nearest (a guess). Repeats while ids are found."""
    named = {d for person in persons for d in person.ids.values()}
    while True:
        options: list[tuple[int, _Person, set[int]]] = []
        for u in range(len(discs)):
            if u in named:
                continue
            for person in persons:
                mates = [k for k, d in person.ids.items() if d in discs.blob_mates(u)]
                open_ids = {n for k in mates for n in _NEIGHBOURS[k]} - set(person.ids)
                fits = {n for n in open_ids if not discs.seen[u] or any(n in SKELETON[li] for li in discs.seen[u])}
                if fits or open_ids:
                    options.append((u, person, fits or open_ids))
        if not options:
            return
        sure = [(u, person, ids) for u, person, ids in options if len(ids) == 1]
        if sure:
            for u, person, ids in sure:
                (k,) = ids
                if u not in named and k not in person.ids:
                    person.ids[k] = u
                    person.inferred.add(u)
                    named.add(u)
            continue
        best = None
        for u, person, ids in options:
            place = _template_place(person, discs)
            if place is None:
                continue
            scale, offset = place
            for k in ids:
                d = float(np.linalg.norm(discs.centres[u] - (scale * UPRIGHT_TEMPLATE[k] + offset)))
                if best is None or d < best[0]:
                    best = (d, u, person, k)
        if best is None:
            return
        _, u, person, k = best
        person.ids[k] = u
        person.guessed.add(u)
        named.add(u)


def _groups(discs: Discs, persons: list[_Person]) -> list[list[int]]:
    """Discs that belong together: those of one red blob, and those of one person."""
    parent = list(range(len(discs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links = [discs.blob_mates(i) for i in range(len(discs))] + [list(q.ids.values()) for q in persons]
    for i, linked in enumerate(links):
        for j in linked:
            parent[root(j)] = root(i if i < len(discs) else linked[0])
    groups: dict[int, list[int]] = {}
    for i in range(len(discs)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _template_person(group: list[int], discs: Discs, iterations: int = 4) -> _Person:
    """Ids for a group of discs whose limbs are hidden: the upright template placed over the group's extent, each
    disc given the template keypoint it matches in an optimal one-to-one matching, the placement refitted to
    the matching and the matching redone."""
    from scipy.optimize import linear_sum_assignment

    seen = discs.centres[group]
    top, bottom = UPRIGHT_TEMPLATE[:, 1].min(), UPRIGHT_TEMPLATE[:, 1].max()
    scale = max(float(np.ptp(seen[:, 1])) / (bottom - top), 1.0)
    offset = np.array([seen[:, 0].mean(), seen[:, 1].min() - scale * top])
    for _ in range(iterations):
        placed = scale * UPRIGHT_TEMPLATE + offset
        rows, cols = linear_sum_assignment(np.linalg.norm(seen[:, None] - placed[None], axis=-1))
        person = _Person({int(k): group[r] for r, k in zip(rows, cols)}, [], guessed=set(group))
        fit = _template_place(person, discs)
        if fit is None:
            break
        scale, offset = fit
    return person


def assemble_persons(discs: Discs, edges: list[LimbEdge], p: PoseDecodeParams) -> list[PersonPose]:
    """Phase 4: persons, best first, from the joined limbs, the shared blobs and the upright template."""
    persons = _merge_blob_mates(_named_by_limbs(discs, edges), discs)
    for group in _groups(discs, persons):
        solid = [d for q in persons for d in q.ids.values() if d in group and d not in q.guessed]
        if p.min_template_group <= len(group) <= NUM_KEYPOINTS and len(solid) < len(group) / 2:
            persons = [q for q in persons if not set(q.ids.values()) & set(group)] + [_template_person(group, discs)]
    _name_by_blob_mates(persons, discs)
    out = []
    for person in persons:
        keypoints = np.zeros((NUM_KEYPOINTS, 4), dtype=np.float32)
        for k, d in person.ids.items():
            factor = p.guessed_score_factor if d in person.guessed else 1.0
            factor *= p.inferred_score_factor if d in person.inferred else 1.0
            keypoints[k] = (*discs.centres[d], 2.0, discs.scores[d] * factor)
        found = keypoints[:, 2] > 0
        coverage = float(np.mean(person.coverages)) if person.coverages else 0.5
        out.append(PersonPose(keypoints, float(keypoints[found, 3].mean() * coverage)))
    out.sort(key=lambda person: -person.score)
    return out


def decode(rgb: np.ndarray, params: PoseDecodeParams | None = None) -> list[PersonPose]:
    """Persons found in a skeleton picture ``(H, W, 3)``, best first: the four phases of the module doc."""
    p = params or PoseDecodeParams()
    classes = classify_pixels(rgb, p)
    discs = find_discs(classes, rgb.shape[:2], p)
    return assemble_persons(discs, join_limbs(discs, classes, rgb.shape[:2], p), p)
