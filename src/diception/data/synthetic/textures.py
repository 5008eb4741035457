"""Procedural surface textures: solid colours, 3-D checkers, stripes and smooth noise.

Textures are functions of the 3-D world point, so they need no UV mapping and stay put on every shape. They
vary at random scales on every surface (floor, walls, objects, clothes), so brightness does not give away depth
or shape, and the tasks must be read from geometry and shading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("solid", "checker", "stripes", "noise")
KIND_WEIGHTS = (0.3, 0.25, 0.2, 0.25)  # how often random_material picks each kind
NOISE_WAVES = 4  # sinusoids summed by the noise texture


@dataclass(frozen=True)
class Material:
    """A texture: ``kind`` (one of :data:`KINDS`) mixing ``colour_a`` and ``colour_b`` (RGB in [0, 1]).

    ``scale`` is the tile / stripe period in metres; ``offset`` (3,) shifts the pattern so that flat surfaces do
    not sit on a tile boundary; ``waves`` ``(NOISE_WAVES, 4)`` holds the noise texture's wave vectors and
    phases (and the stripes' direction in its first row).
    """

    kind: str
    colour_a: np.ndarray
    colour_b: np.ndarray
    scale: float
    offset: np.ndarray
    waves: np.ndarray

    def albedo(self, p: np.ndarray) -> np.ndarray:
        """Surface colour ``(N, 3)`` at world points ``p`` ``(N, 3)``."""
        q = (p + self.offset) / self.scale
        if self.kind == "solid":
            mix = np.zeros(len(p))
        elif self.kind == "checker":
            mix = np.floor(q).sum(axis=1) % 2
        elif self.kind == "stripes":
            direction = self.waves[0, :3] / np.linalg.norm(self.waves[0, :3])
            mix = np.floor(q @ direction) % 2
        else:  # smooth noise: a few sinusoids at doubling frequencies, squashed to [0, 1]
            v = np.sin(q @ self.waves[:, :3].T + self.waves[:, 3]) @ (0.5 ** np.arange(NOISE_WAVES))
            mix = 0.5 + 0.5 * np.tanh(2.0 * v)
        return self.colour_a + mix[:, None] * (self.colour_b - self.colour_a)


def random_colour(rng: np.random.Generator, low: float = 0.08, high: float = 0.95) -> np.ndarray:
    """A random RGB colour with channels in ``[low, high]``."""
    return rng.uniform(low, high, 3)


def random_material(
    rng: np.random.Generator, scale: tuple[float, float] = (0.1, 0.8), kinds: tuple[str, ...] = KINDS
) -> Material:
    """A random texture of one of ``kinds`` with a period drawn log-uniformly from ``scale`` (metres)."""
    weights = np.array([KIND_WEIGHTS[KINDS.index(k)] for k in kinds])
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    colour_a = random_colour(rng)
    colour_b = random_colour(rng)
    if np.linalg.norm(colour_b - colour_a) < 0.25:  # keep patterns visible
        colour_b = 1.0 - colour_a
    directions = rng.normal(size=(NOISE_WAVES, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    waves = np.concatenate(
        [directions * (2.0 ** np.arange(NOISE_WAVES))[:, None] * np.pi, rng.uniform(0, 2 * np.pi, (NOISE_WAVES, 1))],
        axis=1,
    )
    period = float(np.exp(rng.uniform(np.log(scale[0]), np.log(scale[1]))))
    offset = rng.uniform(0.2, 0.8, 3) * period  # the floor (y = 0) sits mid-tile, never on a tile edge
    return Material(kind, colour_a, colour_b, period, offset, waves)
