"""Random scene descriptions: a closed room, a pinhole camera in it, one point light, objects and people.

A description is plain data (shapes, materials, camera, light); :mod:`.render` turns it into pictures. All
randomness comes from the generator passed in, so one seed gives one scene.

Objects stand on the floor in front of the camera: their floor positions are drawn by casting random rays
from the camera through the lower part of the view, so nearly every object is at least partly in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .figures import Figure, sample_figure
from .shapes import Box, Capsule, Cone, Cylinder, Room, Shape, Sphere
from .textures import Material, random_colour, random_material

CATEGORIES = ("box", "ball", "cylinder", "cone", "person")  # every instance's category is one of these
OBJECT_CATEGORIES = CATEGORIES[:-1]
FOV_RANGE_DEG = (50.0, 70.0)  # horizontal (= vertical: pictures are square) field of view
MAX_OBJECTS = 6  # objects other than people, at least 2
MAX_PEOPLE = 3  # people, in PERSON_PROBABILITY of the scenes
PERSON_PROBABILITY = 0.75
MIN_FOOTPRINT = {"box": 0.17, "ball": 0.12, "cylinder": 0.12, "cone": 0.15, "person": 0.3}  # floor radius, metres


@dataclass(frozen=True)
class Camera:
    """A pinhole camera at ``position`` (3,), turned by ``yaw`` (0 = looking toward -z) and pitched down by
    ``pitch`` radians, with horizontal field of view ``fov`` radians."""

    position: np.ndarray
    yaw: float
    pitch: float
    fov: float

    def basis(self) -> np.ndarray:
        """Rows right, up and forward: world unit vectors ``(3, 3)``. Camera space (OpenGL) is x right, y up,
        z = -forward."""
        cp = np.cos(self.pitch)
        forward = np.array([-np.sin(self.yaw) * cp, -np.sin(self.pitch), -np.cos(self.yaw) * cp])
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        return np.stack([right, np.cross(right, forward), forward])

    def focal(self, width: int) -> float:
        """Focal length in pixels for a picture ``width`` pixels wide."""
        return width / 2 / np.tan(self.fov / 2)

    def ray_directions(self, height: int, width: int) -> np.ndarray:
        """Unit world directions through the pixel centres, ``(height * width, 3)`` in row-major order."""
        f = self.focal(width)
        cols = (np.arange(width) + 0.5 - width / 2) / f
        rows = -(np.arange(height) + 0.5 - height / 2) / f
        x, y = np.meshgrid(cols, rows)
        d = np.stack([x.ravel(), y.ravel(), np.ones(x.size)], axis=1) @ self.basis()
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def camera_to_world(self) -> np.ndarray:
        """``(4, 4)`` pose: columns x (right), y (up), z (backward) of OpenGL camera space, then the position."""
        right, up, forward = self.basis()
        pose = np.eye(4)
        pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, up, -forward, self.position
        return pose


@dataclass(frozen=True)
class SceneObject:
    """One instance: its category, its parts (name, shape, material) and a bounding sphere for culling.

    ``figure`` is set for people and carries their keypoints.
    """

    category: str
    parts: tuple[tuple[str, Shape, Material], ...]
    bound_centre: np.ndarray
    bound_radius: float
    figure: Figure | None = None


@dataclass(frozen=True)
class Light:
    """A point light: position (3,), RGB colour, ambient share, intensity and distance falloff (metres)."""

    position: np.ndarray
    colour: np.ndarray
    ambient: float
    intensity: float
    falloff: float


@dataclass(frozen=True)
class SceneDescription:
    """Everything :func:`~.render.render_description` needs. Instance ``i + 1`` is ``objects[i]``."""

    room: Room
    room_materials: tuple[Material, ...]  # one per face of Room.FACES
    camera: Camera
    light: Light
    objects: tuple[SceneObject, ...]


def _bound(parts: list[tuple[str, Shape, Material]]) -> tuple[np.ndarray, float]:
    """A sphere around all parts (centre of the extremes, radius to the farthest surface)."""
    pieces = []
    for _, shape, _ in parts:
        if isinstance(shape, Capsule):
            pieces += [(shape.a, shape.radius), (shape.b, shape.radius)]
        elif isinstance(shape, Sphere):
            pieces.append((shape.centre, shape.radius))
    points = np.array([p for p, _ in pieces])
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    return centre, float(max(np.linalg.norm(p - centre) + r for p, r in pieces)) + 1e-3


def _make_object(rng: np.random.Generator, category: str, x: float, z: float) -> tuple[SceneObject, float]:
    """A random object of ``category`` standing at ``(x, z)``, and its footprint radius."""
    material = random_material(rng, scale=(0.05, 0.4))
    base = np.array([x, 0.0, z])
    shape: Shape
    if category == "box":
        half = rng.uniform(0.12, 0.5, 3)
        shape = Box(base + [0.0, half[1], 0.0], half, float(rng.uniform(0, np.pi)))
        centre, radius, footprint = shape.centre, float(np.linalg.norm(half)), float(np.hypot(half[0], half[2]))
    elif category == "ball":
        r = rng.uniform(0.12, 0.4)
        shape = Sphere(base + [0.0, r, 0.0], r)
        centre, radius, footprint = shape.centre, r, r
    else:
        r = rng.uniform(0.12, 0.35) if category == "cylinder" else rng.uniform(0.15, 0.4)
        h = rng.uniform(0.3, 1.3) if category == "cylinder" else rng.uniform(0.4, 1.2)
        shape = Cylinder(base, r, h) if category == "cylinder" else Cone(base, r, h)
        centre, radius, footprint = base + [0.0, h / 2, 0.0], float(np.hypot(r, h / 2)), r
    obj = SceneObject(category, ((category, shape, material),), centre, radius + 1e-3)
    return obj, footprint


def _make_person(rng: np.random.Generator, x: float, z: float, camera: Camera) -> SceneObject:
    """A random person at ``(x, z)``, usually turned toward the camera so faces show."""
    toward = np.arctan2(camera.position[0] - x, camera.position[2] - z)
    heading = toward + rng.normal(0, 0.5) if rng.random() < 0.7 else rng.uniform(-np.pi, np.pi)
    figure = sample_figure(rng, (x, z), float(heading))
    shirt = random_material(rng, scale=(0.05, 0.25), kinds=("solid", "stripes", "checker"))
    trousers = random_material(rng, scale=(0.05, 0.25), kinds=("solid", "solid", "noise"))
    skin = Material("solid", random_colour(rng, 0.3, 0.9) * [1.0, 0.8, 0.65], np.zeros(3), 1.0, np.zeros(3),
                    np.ones((1, 4)))  # fmt: skip
    parts = []
    for name, shape in figure.parts:
        if name in ("head", "neck"):
            material = skin
        elif "thigh" in name or "shin" in name or name == "hips":
            material = trousers
        else:
            material = shirt
        parts.append((name, shape, material))
    centre, radius = _bound(parts)
    return SceneObject("person", tuple(parts), centre, radius, figure)


def _sample_camera(rng: np.random.Generator, room: Room) -> Camera:
    x = rng.uniform(-0.6, 0.6) * room.half_x
    z = room.half_z - rng.uniform(0.3, 1.5)
    y = min(rng.uniform(0.8, 2.2), room.height - 0.3)
    fov = np.deg2rad(rng.uniform(*FOV_RANGE_DEG))
    return Camera(np.array([x, y, z]), float(rng.uniform(-0.6, 0.6)), float(rng.uniform(0.1, 0.6)), float(fov))


def _floor_spot(
    rng: np.random.Generator, camera: Camera, basis: np.ndarray, room: Room, margin: float
) -> tuple[float, float] | None:
    """A floor point seen through a random spot of the lower view, inside the room; ``None`` if the draw
    fails. ``basis`` is ``camera.basis()``."""
    half = np.tan(camera.fov / 2)
    d = np.array([rng.uniform(-0.85, 0.85) * half, rng.uniform(-0.95, 0.3) * half, 1.0]) @ basis
    if d[1] > -0.05:
        return None
    t = -camera.position[1] / d[1]
    x, _, z = camera.position + t * d
    distance = np.hypot(x - camera.position[0], z - camera.position[2])
    if abs(x) > room.half_x - margin or abs(z) > room.half_z - margin or not 1.0 < distance < 9.0:
        return None
    return float(x), float(z)


def sample_scene(rng: np.random.Generator) -> SceneDescription:
    """A random scene: room, camera, light, 2-6 objects and (usually) 1-3 people, none overlapping."""
    room = Room(float(rng.uniform(3.0, 6.0)), float(rng.uniform(3.0, 6.0)), float(rng.uniform(2.6, 3.6)))
    room_materials = (
        random_material(rng, scale=(0.3, 1.2)),  # floor
        random_material(rng, scale=(0.5, 2.0), kinds=("solid", "noise")),  # ceiling
        *(random_material(rng, scale=(0.2, 1.5)) for _ in range(4)),  # walls
    )
    camera = _sample_camera(rng, room)
    light = Light(
        position=np.array([rng.uniform(-0.7, 0.7) * room.half_x, room.height - rng.uniform(0.2, 0.6),
                           rng.uniform(-0.7, 0.7) * room.half_z]),
        colour=rng.uniform(0.85, 1.0, 3),
        ambient=float(rng.uniform(0.15, 0.35)),
        intensity=float(rng.uniform(1.0, 1.6)),
        falloff=float(rng.uniform(3.0, 6.0)),
    )  # fmt: skip

    wanted = [str(c) for c in rng.choice(OBJECT_CATEGORIES, size=int(rng.integers(2, MAX_OBJECTS + 1)))]
    if rng.random() < PERSON_PROBABILITY:
        wanted += ["person"] * int(rng.integers(1, MAX_PEOPLE + 1))
    rng.shuffle(wanted)
    objects: list[SceneObject] = []
    footprints: list[tuple[float, float, float]] = []

    def free(x: float, z: float, radius: float) -> bool:
        return all(np.hypot(x - fx, z - fz) > radius + fr + 0.05 for fx, fz, fr in footprints)

    basis = camera.basis()
    for category in wanted:
        for _ in range(40):  # tries to find a free spot
            spot = _floor_spot(rng, camera, basis, room, margin=0.6)
            if spot is None or not free(*spot, MIN_FOOTPRINT[category]):  # cheap test before building
                continue
            x, z = spot
            if category == "person":
                obj = _make_person(rng, x, z, camera)
                radius = obj.figure.footprint[2] if obj.figure is not None else obj.bound_radius
            else:
                obj, radius = _make_object(rng, category, x, z)
            if free(x, z, radius):
                objects.append(obj)
                footprints.append((x, z, radius))
                break
    return SceneDescription(room, room_materials, camera, light, tuple(objects))
