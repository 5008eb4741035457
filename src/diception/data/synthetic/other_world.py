"""A second synthetic world, made by a different renderer, for out-of-distribution checks.

The bundled model trains on the scenes of :mod:`.scene` and :mod:`.render`. This world keeps their rooms and
cameras (the same room sizes, camera heights, pitches and fields of view) and their ground truth (the same
:class:`~.render.SyntheticScene`, ray-cast by :func:`~.render.render_description`, so every task codec and
evaluator reads it as is), and changes what stands in the room and how it is lit and coloured.

Objects: arrangements the training world never makes (there, every object is one upright box, ball, cylinder
or cone standing on the floor, at least 24 cm across, and capsules only make people's limbs). Categories stay within
:data:`~.scene.CATEGORIES`:

- pillars: thin tall cylinders, 8-18 cm across and up to 2.6 m high (training cylinders: at most 1.3 m) -> cylinder
- capsules lying on the floor along a random horizontal axis -> cylinder
- stacks: a box with a ball resting on its top -> box + ball (two instances)
- slabs: flat boxes 6-16 cm high and up to 1.2 m wide -> box
- upside-down cones standing on their apex, their base disc on top (:class:`InvertedCone`) -> cone
- ellipsoids lying on the floor, squashed and stretched (:class:`Ellipsoid`) -> ball

No people: ``keypoints`` is always an empty dict.

Lighting (:func:`other_shading`, in place of render.py's one near-white point light with hard shadows and a flat
15-35 % ambient):

- two coloured point lights of complementary hues: a key light near the ceiling, seen as a small sphere, with
  soft shadows (the share of :data:`SOFT_SHADOW_SAMPLES` shadow rays to fixed points on it that get through),
  and a fill light low by a side wall that casts no shadows;
- a linear distance falloff ``1 / (1 + d / falloff)`` (training: quadratic);
- a dim hemispherical ambient: a sky colour from above, a darker ground colour from below;
- a Blinn-Phong specular highlight (glossy surfaces; training surfaces are matte);
- an exposure tone curve ``1 - exp(-k x)`` instead of clipping.

Materials (:class:`PatternMaterial`): concentric rings, 3-D polka dots, thin bands (15-35 % duty cycle) and
smooth triangle-wave gradients, never a solid colour; vivid, saturated colours on objects and pale, washed-out
ones on the room (training: checkers, 50 % stripes, sinusoid noise and solids in uniform RGB colours).

Deterministic: one seed, one bit-identical scene, drawn from a random stream of its own
(``default_rng([OTHER_WORLD_KEY, seed])``), so seed ``s`` here is unrelated to the training world's seed ``s``.
Every scene shows at least one instance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...errors import DiceptionInputError
from .render import SHADOW_OFFSET, SyntheticScene, _occluded, render_description
from .scene import Light, SceneDescription, SceneObject, _floor_spot, _sample_camera
from .shapes import T_MIN, Box, Capsule, Cylinder, Room, Sphere, _dot, _unit

OTHER_WORLD_KEY = 0x07E4  # first word of every scene's random stream: apart from the training world's seeds
OBJECT_KINDS = ("pillar", "lying capsule", "stack", "slab", "upside-down cone", "ellipsoid")
KIND_CATEGORY = {"pillar": "cylinder", "lying capsule": "cylinder", "stack": "box", "slab": "box",
                 "upside-down cone": "cone", "ellipsoid": "ball"}  # fmt: skip
MIN_KIND_FOOTPRINT = {"pillar": 0.04, "lying capsule": 0.3, "stack": 0.2, "slab": 0.4, "upside-down cone": 0.15,
                      "ellipsoid": 0.15}  # fmt: skip
OBJECTS_RANGE = (2, 7)  # objects per scene (a stack counts once)
PATTERNS = ("rings", "dots", "bands", "gradient")
SOFT_SHADOW_SAMPLES = 4  # shadow rays per lit pixel toward the key light's sphere
KEY_CLEARANCE = 0.2  # metres kept free between the tallest object and the key light's lowest point
MAX_ATTEMPTS = 5  # scenes drawn per seed before the fallback pillar


def _hsv(hue: float, saturation: float, value: float) -> np.ndarray:
    """RGB in [0, 1] of a hue (turns), saturation and value in [0, 1]."""
    k = (np.array([5.0, 3.0, 1.0]) + 6.0 * hue) % 6.0
    return value - value * saturation * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _vivid(rng: np.random.Generator) -> np.ndarray:
    return _hsv(rng.random(), rng.uniform(0.65, 1.0), rng.uniform(0.45, 1.0))


def _pale(rng: np.random.Generator) -> np.ndarray:
    return _hsv(rng.random(), rng.uniform(0.05, 0.3), rng.uniform(0.55, 0.95))


@dataclass(frozen=True)
class PatternMaterial:
    """A texture of the other world: ``kind`` (one of :data:`PATTERNS`) mixing ``colour_a`` and ``colour_b``.

    ``scale`` is the period in metres, ``origin`` (3,) the rings' centre and the lattice's origin, ``direction``
    (3,) the unit normal of bands and gradients, ``duty`` the share of a band period in ``colour_b`` or a dot's
    radius in periods. Like :class:`~.textures.Material`, a function of the 3-D world point.
    """

    kind: str
    colour_a: np.ndarray
    colour_b: np.ndarray
    scale: float
    origin: np.ndarray
    direction: np.ndarray
    duty: float

    def albedo(self, p: np.ndarray) -> np.ndarray:
        """Surface colour ``(N, 3)`` at world points ``p`` ``(N, 3)``."""
        q = (p - self.origin) / self.scale
        if self.kind == "rings":
            mix = np.floor(np.linalg.norm(q, axis=1)) % 2
        elif self.kind == "dots":
            mix = (np.linalg.norm(q - np.round(q), axis=1) < self.duty).astype(np.float64)
        elif self.kind == "bands":
            mix = ((q @ self.direction) % 1.0 < self.duty).astype(np.float64)
        else:  # gradient: a triangle wave, colour_b at the ends of each double period, colour_a mid-way
            mix = np.abs((q @ self.direction) % 2.0 - 1.0)
        return self.colour_a + mix[:, None] * (self.colour_b - self.colour_a)


def random_pattern(rng: np.random.Generator, scale: tuple[float, float], vivid: bool) -> PatternMaterial:
    """A random :class:`PatternMaterial` with a period drawn log-uniformly from ``scale`` (metres)."""
    kind = PATTERNS[int(rng.integers(len(PATTERNS)))]
    colour = _vivid if vivid else _pale
    colour_a, colour_b = colour(rng), colour(rng)
    if np.linalg.norm(colour_b - colour_a) < 0.25:  # keep patterns visible
        colour_b = 1.0 - colour_a
    period = float(np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]))))
    direction = _unit(rng.normal(size=3))
    origin = rng.uniform(-2.0, 2.0, 3) * [1.0, 0.0, 1.0]  # y = 0: the floor cuts the dots through their centres
    duty = float(rng.uniform(0.2, 0.4) if kind == "dots" else rng.uniform(0.15, 0.35))
    return PatternMaterial(kind, colour_a, colour_b, period, origin, direction, duty)


@dataclass(frozen=True)
class InvertedCone:
    """An upside-down cone standing on its apex at ``apex`` (3,), widening upward to a disc of ``radius`` at
    ``height`` metres above it (the top cap is a surface; it is seen from above)."""

    apex: np.ndarray
    radius: float
    height: float

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        k2 = (self.radius / self.height) ** 2
        ox, oy, oz = (o[:, i] - self.apex[i] for i in range(3))
        dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
        qa = dx * dx + dz * dz - k2 * dy * dy  # x^2 + z^2 = k^2 y^2, y up from the apex
        qb = ox * dx + oz * dz - k2 * oy * dy
        qc = ox * ox + oz * oz - k2 * oy * oy
        h = qb * qb - qa * qc
        with np.errstate(invalid="ignore", divide="ignore"):
            sq = np.sqrt(h)
            roots = np.stack([(-qb - sq) / qa, (-qb + sq) / qa])
            t_top = (self.height - oy) / dy
        y = oy + roots * dy
        ok = (h >= 0) & (np.abs(qa) > 1e-12) & (y >= 0) & (y <= self.height) & (roots > T_MIN)
        t_side = np.where(ok, roots, np.inf).min(axis=0)
        rx, rz = ox + t_top * dx, oz + t_top * dz
        top = (dy < 0) & (rx * rx + rz * rz <= self.radius**2) & (t_top > T_MIN)
        return np.minimum(t_side, np.where(top, t_top, np.inf))

    def normal(self, p: np.ndarray) -> np.ndarray:
        q = p - self.apex
        k = self.radius / self.height
        radial = np.hypot(q[:, 0], q[:, 2])
        on_top = (self.height - q[:, 1]) < (k * q[:, 1] - radial)  # the nearer of the two surfaces
        side = _unit(np.stack([q[:, 0], -k * k * q[:, 1], q[:, 2]], axis=-1))
        return np.where(on_top[:, None], np.array([0.0, 1.0, 0.0]), side)


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid of semi-axes ``radii`` (3,) around ``centre``, turned by ``yaw`` radians about the vertical."""

    centre: np.ndarray
    radii: np.ndarray
    yaw: float

    @property
    def rotation(self) -> np.ndarray:
        """Local -> world rotation (3, 3)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        r = self.rotation
        lo, ld = ((o - self.centre) @ r) / self.radii, (d @ r) / self.radii  # the unit sphere's frame
        a, b = _dot(ld, ld), _dot(lo, ld)
        h = b * b - a * (_dot(lo, lo) - 1.0)
        with np.errstate(invalid="ignore"):
            t = (-b - np.sqrt(h)) / a
        return np.where((h >= 0) & (t > T_MIN), t, np.inf)

    def normal(self, p: np.ndarray) -> np.ndarray:
        r = self.rotation
        return _unit((((p - self.centre) @ r) / self.radii**2) @ r.T)


@dataclass(frozen=True)
class OtherLighting:
    """The other world's lights: ``key`` (soft shadows from the points ``key_samples`` ``(S, 3)`` on its
    sphere), ``fill`` (no shadows), hemispherical ambient ``sky`` (from above) and ``ground`` (from below), RGB,
    Blinn-Phong ``gloss`` (strength) and ``shininess`` (exponent), and the tone curve's ``exposure``."""

    key: Light
    fill: Light
    key_samples: np.ndarray
    sky: np.ndarray
    ground: np.ndarray
    gloss: float
    shininess: float
    exposure: float


@dataclass(frozen=True)
class OtherSceneDescription(SceneDescription):
    """A :class:`~.scene.SceneDescription` with the other world's lighting (``light`` is its key light)."""

    lighting: OtherLighting


def _soft_visibility(
    objects: tuple[SceneObject, ...], p: np.ndarray, normal: np.ndarray, samples: np.ndarray
) -> np.ndarray:
    """``(N,)`` share of the shadow rays from ``p`` to the points ``samples`` that no object blocks."""
    start = p + SHADOW_OFFSET * normal
    seen = np.zeros(len(p))
    for point in samples:
        to = point - start
        distance = np.linalg.norm(to, axis=1)
        seen += ~_occluded(objects, start, to / distance[:, None], distance - SHADOW_OFFSET)
    return seen / len(samples)


def other_shading(
    description: SceneDescription, p: np.ndarray, normal: np.ndarray, albedo: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """The other world's shading (a :data:`~.render.Shading`): hemispherical ambient, then per light Lambert
    and Blinn-Phong with a linear falloff, soft shadows from the key light, none from the fill light; mapped
    through ``1 - exp(-exposure x)``. Returns ``(N, 3)`` in [0, 1)."""
    if not isinstance(description, OtherSceneDescription):
        raise DiceptionInputError("other_shading needs an OtherSceneDescription (from sample_other_scene)")
    lighting = description.lighting
    up = normal[:, 1:2]
    ambient = lighting.sky * (0.5 + 0.5 * up) + lighting.ground * (0.5 - 0.5 * up)
    diffuse, specular = np.zeros_like(p), np.zeros_like(p)
    for light, samples in ((lighting.key, lighting.key_samples), (lighting.fill, None)):
        to_light = light.position - p
        distance = np.linalg.norm(to_light, axis=1)
        to_light /= distance[:, None]
        cosine = _dot(normal, to_light)
        visible = (cosine > 0).astype(np.float64)
        idx = np.nonzero(cosine > 0)[0]
        if samples is not None and idx.size:
            visible[idx] = _soft_visibility(description.objects, p[idx], normal[idx], samples)
        weight = (visible * light.intensity / (1.0 + distance / light.falloff))[:, None] * light.colour
        diffuse += weight * np.maximum(cosine, 0.0)[:, None]
        highlight = np.maximum(_dot(normal, _unit(to_light - d)), 0.0) ** lighting.shininess
        specular += weight * highlight[:, None]
    linear = albedo * (ambient + diffuse) + lighting.gloss * specular
    return 1.0 - np.exp(-lighting.exposure * linear)


def _single(category: str, shape: object, material: PatternMaterial, centre: np.ndarray, radius: float) -> SceneObject:
    """A one-part instance with its bounding sphere (a little slack added)."""
    return SceneObject(category, ((category, shape, material),), centre, float(radius) + 1e-3)


def _make_kind(
    rng: np.random.Generator, kind: str, x: float, z: float, max_height: float
) -> tuple[list[SceneObject], float]:
    """The instances of one ``kind`` (one of :data:`OBJECT_KINDS`) at floor point ``(x, z)``, no taller than
    ``max_height``, and their footprint radius."""
    material = random_pattern(rng, (0.04, 0.3), vivid=True)
    base = np.array([x, 0.0, z])
    category = KIND_CATEGORY[kind]
    if kind == "pillar":
        r, h = rng.uniform(0.04, 0.09), min(rng.uniform(1.4, 2.6), max_height)
        pillar = Cylinder(base, r, h)
        return [_single(category, pillar, material, base + [0.0, h / 2, 0.0], np.hypot(r, h / 2))], r
    if kind == "lying capsule":
        r, half_length, yaw = rng.uniform(0.08, 0.22), rng.uniform(0.2, 0.6), rng.uniform(0, np.pi)
        centre = base + [0.0, r, 0.0]
        axis = half_length * np.array([np.cos(yaw), 0.0, np.sin(yaw)])
        capsule = Capsule(centre - axis, centre + axis, r)
        return [_single(category, capsule, material, centre, half_length + r)], half_length + r
    if kind in ("stack", "slab"):
        if kind == "stack":
            half = np.array([rng.uniform(0.15, 0.4), rng.uniform(0.1, 0.35), rng.uniform(0.15, 0.4)])
        else:
            half = np.array([rng.uniform(0.3, 0.6), rng.uniform(0.03, 0.08), rng.uniform(0.3, 0.6)])
        box = Box(base + [0.0, half[1], 0.0], half, float(rng.uniform(0, np.pi)))
        objects = [_single(category, box, material, box.centre, np.linalg.norm(half))]
        if kind == "stack":  # a ball resting on the box's top face
            r = min(rng.uniform(0.6, 1.0) * min(half[0], half[2]), 0.35)
            ball = Sphere(base + [0.0, 2 * half[1] + r, 0.0], r)
            objects.append(_single("ball", ball, random_pattern(rng, (0.03, 0.2), vivid=True), ball.centre, r))
        return objects, float(np.hypot(half[0], half[2]))
    if kind == "upside-down cone":
        r, h = rng.uniform(0.15, 0.4), rng.uniform(0.4, 1.1)
        cone = InvertedCone(base, r, h)
        return [_single(category, cone, material, base + [0.0, h / 2, 0.0], np.hypot(r, h / 2))], r
    radii = np.array([rng.uniform(0.15, 0.45), rng.uniform(0.08, 0.25), rng.uniform(0.12, 0.35)])
    ellipsoid = Ellipsoid(base + [0.0, radii[1], 0.0], radii, float(rng.uniform(0, np.pi)))
    return [_single(category, ellipsoid, material, ellipsoid.centre, radii.max())], float(max(radii[0], radii[2]))


def _sample_lighting(rng: np.random.Generator, room: Room) -> tuple[OtherLighting, float]:
    """Random lights; returns them and the key light's sphere radius."""
    hue = rng.random()
    key_radius = float(rng.uniform(0.1, 0.25))
    key = Light(
        position=np.array([rng.uniform(-0.6, 0.6) * room.half_x, room.height - rng.uniform(0.3, 0.6),
                           rng.uniform(-0.6, 0.6) * room.half_z]),
        colour=_hsv(hue, rng.uniform(0.2, 0.5), 1.0),
        ambient=0.0, intensity=float(rng.uniform(1.2, 2.0)), falloff=float(rng.uniform(2.0, 4.0)),
    )  # fmt: skip
    side = 1.0 if rng.random() < 0.5 else -1.0
    fill = Light(
        position=np.array([side * (room.half_x - 0.3), rng.uniform(0.4, 1.2), rng.uniform(-0.8, 0.5) * room.half_z]),
        colour=_hsv(hue + 0.5, rng.uniform(0.3, 0.6), 1.0),
        ambient=0.0, intensity=float(rng.uniform(0.4, 0.9)), falloff=float(rng.uniform(1.5, 3.0)),
    )  # fmt: skip
    samples = key.position + key_radius * _unit(rng.normal(size=(SOFT_SHADOW_SAMPLES, 3)))
    sky = _hsv(rng.random(), rng.uniform(0.0, 0.3), rng.uniform(0.06, 0.14))
    lighting = OtherLighting(key, fill, samples, sky, sky * rng.uniform(0.3, 0.6), float(rng.uniform(0.1, 0.4)),
                             float(rng.uniform(8.0, 48.0)), float(rng.uniform(1.2, 2.0)))  # fmt: skip
    return lighting, key_radius


def sample_other_scene(rng: np.random.Generator) -> OtherSceneDescription:
    """A random scene of the other world (module doc): a training-world room and camera, two to seven of the
    other world's objects (a stack adds a ball), none overlapping, and its two coloured lights."""
    room = Room(float(rng.uniform(3.0, 6.0)), float(rng.uniform(3.0, 6.0)), float(rng.uniform(2.6, 3.6)))
    room_materials = (
        random_pattern(rng, (0.3, 1.5), vivid=False),  # floor
        random_pattern(rng, (0.5, 2.0), vivid=False),  # ceiling
        *(random_pattern(rng, (0.2, 1.5), vivid=False) for _ in range(4)),  # walls
    )
    camera = _sample_camera(rng, room)
    lighting, key_radius = _sample_lighting(rng, room)
    max_height = float(lighting.key.position[1]) - key_radius - KEY_CLEARANCE

    footprints = [(float(lighting.fill.position[0]), float(lighting.fill.position[2]), 0.25)]  # nothing on the fill

    def free(x: float, z: float, radius: float) -> bool:
        return all(np.hypot(x - fx, z - fz) > radius + fr + 0.05 for fx, fz, fr in footprints)

    objects: list[SceneObject] = []
    basis = camera.basis()
    for _ in range(int(rng.integers(OBJECTS_RANGE[0], OBJECTS_RANGE[1] + 1))):
        kind = OBJECT_KINDS[int(rng.integers(len(OBJECT_KINDS)))]
        for _ in range(40):  # tries to find a free spot
            spot = _floor_spot(rng, camera, basis, room, margin=0.6)
            if spot is None or not free(*spot, MIN_KIND_FOOTPRINT[kind]):  # cheap test before building
                continue
            made, radius = _make_kind(rng, kind, *spot, max_height)
            if free(*spot, radius):
                objects += made
                footprints.append((*spot, radius))
                break
    return OtherSceneDescription(room, room_materials, camera, lighting.key, tuple(objects), lighting)


def _fallback(description: OtherSceneDescription) -> OtherSceneDescription:
    """The description with its objects replaced by one floor-to-ceiling pillar on the optical axis, 1 m ahead:
    at every picture size the middle pixels show it."""
    cam, room = description.camera, description.room
    ahead = cam.position + cam.basis()[2]  # above the floor: cameras stand >= 0.8 m high, pitched <= 0.6 rad
    base = np.array([ahead[0], 0.0, ahead[2]])
    height = room.height - 0.05
    material = random_pattern(np.random.default_rng([OTHER_WORLD_KEY, 1]), (0.04, 0.3), vivid=True)
    pillar = _single("cylinder", Cylinder(base, 0.15, height), material, base + [0.0, height / 2, 0.0],
                     np.hypot(0.15, height / 2))  # fmt: skip
    return replace(description, objects=(pillar,))


def render_other_description(
    description: OtherSceneDescription, size: int = 128, seed: int | None = None
) -> SyntheticScene:
    """Ray-cast an other-world description with :func:`other_shading` (ground truth as in :mod:`.render`)."""
    return render_description(description, size, seed=seed, shading=other_shading)


def render_other_scene(seed: int, size: int = 128) -> SyntheticScene:
    """Render the other world's scene of ``seed`` (deterministic: one seed, one bit-identical scene, with at
    least one instance in view).

    Args:
        seed: any non-negative integer (the training world's seed splits apply: the scenes are unrelated).
        size: picture side in pixels (``>= 8``).
    """
    if int(seed) < 0:
        raise DiceptionInputError(f"seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng([OTHER_WORLD_KEY, int(seed)])
    description = None
    for _ in range(MAX_ATTEMPTS):  # nearly always the first: objects are placed in view
        description = sample_other_scene(rng)
        scene = render_other_description(description, size, seed=int(seed))
        if scene.instance_categories:
            return scene
    assert description is not None
    return render_other_description(_fallback(description), size, seed=int(seed))
