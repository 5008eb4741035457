"""The ray caster: a scene description -> a picture with exact per-pixel ground truth.

One primary ray per pixel (through the pixel centre) finds the first surface: the room (floor, ceiling,
walls; every ray hits it, so every pixel is valid) or an object part. Objects are culled per ray by their
bounding spheres. Shading is Lambertian under one point light plus ambient, with hard shadows from one
shadow ray per lit pixel toward the light (only objects can block it: the light hangs inside the convex room);
:func:`render_description` takes another shading model as a hook (:mod:`.other_world` uses one).

Ground truth follows the repository's conventions: depth is the distance along the optical axis in metres
(what the depth codec expects), normals are unit vectors in OpenGL camera space (x right, y up, z toward
the camera, :mod:`diception.tasks.normals`), and keypoints are pixel ``(x, y, v)`` with pixel centres at
integers (x = column, y = row), as :mod:`diception.tasks.pose` draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...errors import DiceptionInputError
from .scene import Camera, SceneDescription, SceneObject, sample_scene
from .shapes import Room

SURFACES = ("object", "floor", "ceiling", "wall")  # codes of SyntheticScene.surfaces
_FACE_SURFACE = np.array([1, 2, 3, 3, 3, 3], dtype=np.uint8)  # Room.FACES -> SURFACES code
SHADOW_OFFSET = 1e-3  # metres a shadow ray starts off its surface, along the normal
KEYPOINT_SEARCH = 1  # a keypoint is visible if a pixel within this many pixels shows it (3 x 3 window)
MIN_SIZE = 8
MAX_ATTEMPTS = 5  # scenes drawn per seed until one shows at least one instance

Shading = Callable[[SceneDescription, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``(description, points, normals, albedo, ray_directions) -> linear RGB``, all ``(N, 3)`` in world space."""


@dataclass
class SyntheticScene:
    """One rendered scene and its ground truth (``H = W = size``).

    Attributes:
        image: ``(H, W, 3)`` uint8 picture.
        depth: ``(H, W)`` float32 metres along the optical axis.
        normals: ``(H, W, 3)`` float32 unit normals in OpenGL camera space (x right, y up, z toward camera).
        valid: ``(H, W)`` bool, where depth and normals are defined (everywhere: the room is closed).
        instance_ids: ``(H, W)`` int32, 0 = background (floor, walls, ceiling), ``k > 0`` = instance ``k``.
        instance_categories: instance id -> category name, for every instance seen in the picture.
        keypoints: person instance id -> ``(17, 3)`` float32 COCO-17 ``(x, y, v)``: pixel coordinates with
            pixel centres at integers; ``v`` = 2 visible, 1 inside the picture but hidden, 0 outside the
            picture or behind the camera (then ``x = y = 0``). Every person with a keypoint in the picture.
        surfaces: ``(H, W)`` uint8 codes into :data:`SURFACES` (which background surface a pixel shows).
        camera_to_world: ``(4, 4)`` camera pose, columns x right, y up, z backward, position (world y up).
        focal: focal length in pixels; the principal point is the picture's centre.
        seed: the seed it was rendered from (``None`` for a hand-made description).
    """

    image: np.ndarray = field(repr=False)
    depth: np.ndarray = field(repr=False)
    normals: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)
    instance_ids: np.ndarray = field(repr=False)
    instance_categories: dict[int, str]
    keypoints: dict[int, np.ndarray] = field(repr=False)
    surfaces: np.ndarray = field(repr=False)
    camera_to_world: np.ndarray = field(repr=False)
    focal: float
    seed: int | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return int(self.depth.shape[0]), int(self.depth.shape[1])

    def image_float(self) -> np.ndarray:
        """The picture as ``(H, W, 3)`` float32 in [0, 1]."""
        return self.image.astype(np.float32) / 255.0

    def category_mask(self, category: str) -> np.ndarray:
        """``(H, W)`` bool: pixels of all instances of ``category``."""
        ids = [i for i, c in self.instance_categories.items() if c == category]
        return np.isin(self.instance_ids, ids)


def _bound_span(o: np.ndarray, d: np.ndarray, obj: SceneObject) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which rays pass through ``obj``'s bounding sphere, with their entry and exit distances."""
    oc = o - obj.bound_centre
    b = np.einsum("ij,ij->i", oc, d)
    h = b * b - (np.einsum("ij,ij->i", oc, oc) - obj.bound_radius**2)
    sq = np.sqrt(np.maximum(h, 0.0))
    far = -b + sq
    return (h >= 0) & (far > 0), -b - sq, far


def _first_hits(objects: tuple[SceneObject, ...], o: np.ndarray, d: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Update ``t`` (N,) in place with object hits; return the winning ``(object, part)`` index pair per ray,
    ``(N, 2)``, ``-1`` where no object is nearer than the given ``t``."""
    winner = np.full((len(t), 2), -1, dtype=np.int64)
    for k, obj in enumerate(objects):
        through, near, _ = _bound_span(o, d, obj)
        idx = np.nonzero(through & (near < t))[0]
        if idx.size == 0:
            continue
        for j, (_, shape, _) in enumerate(obj.parts):
            t_part = shape.hit(o[idx], d[idx])
            nearer = t_part < t[idx]
            t[idx[nearer]] = t_part[nearer]
            winner[idx[nearer]] = (k, j)
    return winner


def _occluded(objects: tuple[SceneObject, ...], o: np.ndarray, d: np.ndarray, t_max: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: whether an object blocks the segment from ``o`` along ``d`` up to ``t_max``."""
    blocked = np.zeros(len(o), dtype=bool)
    for obj in objects:
        through, near, _ = _bound_span(o, d, obj)
        idx = np.nonzero(through & (near < t_max) & ~blocked)[0]
        for _, shape, _ in obj.parts:
            if idx.size == 0:
                break
            hit = shape.hit(o[idx], d[idx]) < t_max[idx]
            blocked[idx[hit]] = True
            idx = idx[~hit]
    return blocked


def _keypoints(
    points: np.ndarray, slack: np.ndarray, instance: int, camera: Camera, depth: np.ndarray, ids: np.ndarray
) -> np.ndarray:
    """``(17, 3)`` pixel keypoints with visibility: projected, then checked against the rendered depth and ids."""
    h, w = depth.shape
    right, up, forward = camera.basis()
    rel = points - camera.position
    z = rel @ forward
    f = camera.focal(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = w / 2 + f * (rel @ right) / z  # continuous image coordinates: pixel c covers [c, c + 1)
        v = h / 2 - f * (rel @ up) / z
    inside = (z > 1e-3) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    out = np.zeros((len(points), 3), dtype=np.float32)
    r = KEYPOINT_SEARCH
    for k in np.nonzero(inside)[0]:
        col, row = int(u[k]), int(v[k])
        win = (slice(max(row - r, 0), row + r + 1), slice(max(col - r, 0), col + r + 1))
        seen = np.any((ids[win] == instance) & (depth[win] >= z[k] - slack[k]))
        out[k] = (u[k] - 0.5, v[k] - 0.5, 2.0 if seen else 1.0)
    return out


def point_light_shading(
    description: SceneDescription, p: np.ndarray, normal: np.ndarray, albedo: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """The training world's shading: ambient + Lambert under ``description.light``, with hard shadows from one
    shadow ray per lit pixel, and a quadratic distance falloff. Returns linear RGB ``(N, 3)`` in [0, 1].

    ``p``, ``normal``, ``albedo`` are the primary hits' world points, world unit normals and surface colours,
    ``d`` the primary rays' unit directions, all ``(N, 3)`` (a :data:`Shading`).
    """
    light, objects = description.light, description.objects
    to_light = light.position - p
    distance = np.linalg.norm(to_light, axis=1)
    to_light /= distance[:, None]
    cosine = np.einsum("ij,ij->i", normal, to_light)
    lit = cosine > 0
    idx = np.nonzero(lit)[0]
    start = p[idx] + SHADOW_OFFSET * normal[idx]
    shadowed = _occluded(objects, start, to_light[idx], distance[idx] - SHADOW_OFFSET)
    lit[idx[shadowed]] = False
    falloff = 1.0 / (1.0 + (distance / light.falloff) ** 2)
    direct = light.intensity * np.where(lit, cosine, 0.0) * falloff
    shade = light.ambient + (1.0 - light.ambient) * direct[:, None] * light.colour
    return np.clip(albedo * shade, 0.0, 1.0)


def render_description(
    description: SceneDescription, size: int = 128, seed: int | None = None, shading: Shading | None = None
) -> SyntheticScene:
    """Ray-cast ``description`` into a ``size`` x ``size`` picture with its ground truth.

    ``shading`` turns the primary hits into linear RGB (default :func:`point_light_shading`); the ground truth
    does not depend on it.
    """
    if int(size) < MIN_SIZE:
        raise DiceptionInputError(f"size must be at least {MIN_SIZE} pixels, got {size}")
    h = w = int(size)
    cam, room, objects = description.camera, description.room, description.objects

    # 1. primary rays: the room everywhere, then nearer objects
    d = cam.ray_directions(h, w)
    o = np.broadcast_to(cam.position, d.shape)
    t, face = room.hit(o, d)
    winner = _first_hits(objects, o, d, t)
    p = o + t[:, None] * d

    # 2. per pixel: normal, albedo, instance id and surface kind
    normal = Room.face_normals()[face]
    albedo = np.empty_like(p)
    for f_idx, material in enumerate(description.room_materials):
        sel = (winner[:, 0] < 0) & (face == f_idx)
        if sel.any():
            albedo[sel] = material.albedo(p[sel])
    for k, obj in enumerate(objects):
        for j, (_, shape, material) in enumerate(obj.parts):
            sel = (winner[:, 0] == k) & (winner[:, 1] == j)
            if sel.any():
                normal[sel] = shape.normal(p[sel])
                albedo[sel] = material.albedo(p[sel])
    ids = (winner[:, 0] + 1).astype(np.int32)
    surfaces = np.where(ids > 0, 0, _FACE_SURFACE[face]).astype(np.uint8)

    # 3. shading (by default: ambient + Lambert under one point light, hard shadows)
    image = (shading or point_light_shading)(description, p, normal, albedo, d)

    # 4. ground truth in camera space
    basis = cam.basis()  # rows right, up, forward
    depth = (t * (d @ basis[2])).reshape(h, w).astype(np.float32)
    normals_cam = (normal @ basis.T) * np.array([1.0, 1.0, -1.0])  # OpenGL: z = -forward
    ids_map = ids.reshape(h, w)
    present = {int(i) for i in np.unique(ids_map) if i > 0}
    keypoints = {}
    for k, obj in enumerate(objects):
        if obj.figure is not None:
            kp = _keypoints(obj.figure.keypoints, obj.figure.keypoint_depth_slack, k + 1, cam, depth, ids_map)
            if (kp[:, 2] > 0).any():
                keypoints[k + 1] = kp
    return SyntheticScene(
        image=np.round(image * 255.0).astype(np.uint8).reshape(h, w, 3),
        depth=depth,
        normals=normals_cam.reshape(h, w, 3).astype(np.float32),
        valid=np.isfinite(depth) & (depth > 0),
        instance_ids=ids_map,
        instance_categories={i: objects[i - 1].category for i in sorted(present)},
        keypoints=keypoints,
        surfaces=surfaces.reshape(h, w),
        camera_to_world=cam.camera_to_world(),
        focal=float(cam.focal(w)),
        seed=seed,
    )


def render_scene(seed: int, size: int = 128) -> SyntheticScene:
    """Render the random scene of ``seed`` (deterministic: one seed, one bit-identical scene).

    Args:
        seed: any non-negative integer; use :func:`~.samples.split_seeds` for train / validation / test.
        size: picture side in pixels (``>= 8``); 64-128 is the intended range.
    """
    if int(seed) < 0:
        raise DiceptionInputError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(int(seed))
    for _ in range(MAX_ATTEMPTS):  # nearly always the first: objects are placed in view
        scene = render_description(sample_scene(rng), size, seed=int(seed))
        if scene.instance_categories:
            break
    return scene
