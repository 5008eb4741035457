"""Ray intersection of the shapes the synthetic world is built from, vectorised over rays.

Every shape answers two questions: :meth:`hit` gives, for ``N`` rays (origins ``(N, 3)``, unit directions
``(N, 3)``), the distance to the first surface in front of the origin (``inf`` where the ray misses), and
:meth:`normal` gives the outward unit normal at points on the surface. Normals are asked only for the pixels a
shape wins, so each pixel's normal is computed once. Distances are along unit directions, in metres.

World frame: y up, the floor is the plane y = 0; objects stand on it. Rays start outside every object
(the camera and the light float in free space; shadow rays start a little off the surface).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

T_MIN = 1e-6  # hits closer than this to the origin are ignored (the surface a shadow ray leaves)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b) if b.ndim == 2 else a @ b


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _sphere_t(oc: np.ndarray, d: np.ndarray, radius: float) -> np.ndarray:
    """Entry distance into a sphere for rays from ``oc`` (origin minus centre) along ``d``; inf on a miss."""
    b = _dot(oc, d)
    h = b * b - (_dot(oc, oc) - radius * radius)
    with np.errstate(invalid="ignore"):
        t = -b - np.sqrt(h)
    return np.where((h >= 0) & (t > T_MIN), t, np.inf)


@dataclass(frozen=True)
class Sphere:
    """A ball of ``radius`` around ``centre`` (3,)."""

    centre: np.ndarray
    radius: float

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        return _sphere_t(o - self.centre, d, self.radius)

    def normal(self, p: np.ndarray) -> np.ndarray:
        return _unit(p - self.centre)


@dataclass(frozen=True)
class Capsule:
    """The points within ``radius`` of the segment ``a``-``b``: a cylinder with two hemispherical ends."""

    a: np.ndarray
    b: np.ndarray
    radius: float

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        ba = self.b - self.a
        oa = o - self.a
        baba = float(ba @ ba)
        bard, baoa = d @ ba, oa @ ba
        qa = baba - bard * bard  # quadratic of the infinite cylinder, scaled by baba
        qb = baba * _dot(d, oa) - baoa * bard
        qc = baba * _dot(oa, oa) - baoa * baoa - self.radius**2 * baba
        h = qb * qb - qa * qc
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (-qb - np.sqrt(h)) / qa
        y = baoa + t * bard  # position along the axis, times baba
        body = (h >= 0) & (qa > 1e-12) & (y > 0) & (y < baba) & (t > T_MIN)
        t_body = np.where(body, t, np.inf)
        return np.minimum(t_body, np.minimum(_sphere_t(oa, d, self.radius), _sphere_t(o - self.b, d, self.radius)))

    def normal(self, p: np.ndarray) -> np.ndarray:
        ba = self.b - self.a
        s = np.clip((p - self.a) @ ba / max(float(ba @ ba), 1e-12), 0.0, 1.0)
        return _unit(p - (self.a + s[:, None] * ba))


@dataclass(frozen=True)
class Cylinder:
    """An upright cylinder standing on the floor: axis through ``(x, z)`` of ``base``, from y = base[1] up
    ``height`` metres, with a top cap (the bottom lies on the floor and is never seen)."""

    base: np.ndarray
    radius: float
    height: float

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        ox, oy, oz = (o[:, i] - self.base[i] for i in range(3))
        dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
        qa = dx * dx + dz * dz
        qb = ox * dx + oz * dz
        h = qb * qb - qa * (ox * ox + oz * oz - self.radius**2)
        with np.errstate(invalid="ignore", divide="ignore"):
            t_side = (-qb - np.sqrt(h)) / qa
            y = oy + t_side * dy
            side = (h >= 0) & (qa > 1e-12) & (y >= 0) & (y <= self.height) & (t_side > T_MIN)
            t_top = (self.height - oy) / dy
        rx, rz = ox + t_top * dx, oz + t_top * dz
        top = (dy < 0) & (rx * rx + rz * rz <= self.radius**2) & (t_top > T_MIN)
        return np.minimum(np.where(side, t_side, np.inf), np.where(top, t_top, np.inf))

    def normal(self, p: np.ndarray) -> np.ndarray:
        q = p - self.base
        radial = np.hypot(q[:, 0], q[:, 2])
        on_top = (self.height - q[:, 1]) < (self.radius - radial)  # the nearer of the two surfaces
        side = _unit(np.stack([q[:, 0], np.zeros_like(radial), q[:, 2]], axis=-1))
        return np.where(on_top[:, None], np.array([0.0, 1.0, 0.0]), side)


@dataclass(frozen=True)
class Cone:
    """An upright cone standing on the floor: base disc of ``radius`` at ``base``, apex ``height`` above it."""

    base: np.ndarray
    radius: float
    height: float

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        k2 = (self.radius / self.height) ** 2
        ox, oy, oz = (o[:, i] - self.base[i] for i in range(3))
        dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
        a_ = self.height - oy  # x^2 + z^2 = k^2 (height - y)^2
        qa = dx * dx + dz * dz - k2 * dy * dy
        qb = ox * dx + oz * dz + k2 * a_ * dy
        qc = ox * ox + oz * oz - k2 * a_ * a_
        h = qb * qb - qa * qc
        with np.errstate(invalid="ignore", divide="ignore"):
            sq = np.sqrt(h)
            roots = np.stack([(-qb - sq) / qa, (-qb + sq) / qa])
        y = oy + roots * dy
        ok = (h >= 0) & (np.abs(qa) > 1e-12) & (y >= 0) & (y <= self.height) & (roots > T_MIN)
        return np.where(ok, roots, np.inf).min(axis=0)

    def normal(self, p: np.ndarray) -> np.ndarray:
        q = p - self.base
        k2 = (self.radius / self.height) ** 2
        return _unit(np.stack([q[:, 0], k2 * (self.height - q[:, 1]), q[:, 2]], axis=-1))


@dataclass(frozen=True)
class Box:
    """A box of half sizes ``half`` (3,) around ``centre``, turned by ``yaw`` radians about the vertical."""

    centre: np.ndarray
    half: np.ndarray
    yaw: float

    @property
    def rotation(self) -> np.ndarray:
        """Local -> world rotation (3, 3)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])

    def hit(self, o: np.ndarray, d: np.ndarray) -> np.ndarray:
        r = self.rotation
        lo, ld = (o - self.centre) @ r, d @ r  # world -> local (row vectors times R = R^T applied)
        ld = np.where(np.abs(ld) < 1e-12, 1e-12, ld)
        t1, t2 = (-self.half - lo) / ld, (self.half - lo) / ld
        near, far = np.minimum(t1, t2).max(axis=1), np.maximum(t1, t2).min(axis=1)
        return np.where((near <= far) & (near > T_MIN), near, np.inf)

    def normal(self, p: np.ndarray) -> np.ndarray:
        r = self.rotation
        q = ((p - self.centre) @ r) / self.half
        axis = np.abs(q).argmax(axis=1)
        n = np.zeros_like(q)
        n[np.arange(len(q)), axis] = np.sign(q[np.arange(len(q)), axis])
        return n @ r.T


@dataclass(frozen=True)
class Room:
    """The inside of the closed room ``[-half_x, half_x] x [0, height] x [-half_z, half_z]``: floor, ceiling
    and four walls. Every ray from inside hits it, so every pixel has depth."""

    half_x: float
    half_z: float
    height: float

    FACES = ("floor", "ceiling", "wall -x", "wall +x", "wall -z", "wall +z")

    def hit(self, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exit distance ``(N,)`` and face index ``(N,)`` (into :attr:`FACES`) of rays from inside."""
        lo = np.array([-self.half_x, 0.0, -self.half_z])
        hi = np.array([self.half_x, self.height, self.half_z])
        safe = np.where(np.abs(d) < 1e-12, 1e-12, d)
        t = np.where(safe > 0, hi - o, lo - o) / safe  # (N, 3) distance to the wall ahead on each axis
        axis = t.argmin(axis=1)
        positive = safe[np.arange(len(d)), axis] > 0  # moving toward the upper wall of that axis
        face = np.array([2, 0, 4])[axis] + positive
        return t.min(axis=1), face

    @staticmethod
    def face_normals() -> np.ndarray:
        """Inward unit normal of each face, ``(6, 3)``."""
        return np.array([[0, 1, 0], [0, -1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64)


Shape = Sphere | Capsule | Cylinder | Cone | Box
