"""Well-separated colours for the instance tasks, chosen so that they survive a lossy VAE round trip.

Colours are picked greedily by *maximin*: each next colour is the grid colour farthest (RGB distance,
values in [0, 1]) from black and from every colour already picked. The order is fixed, so the first ``n``
colours of the palette are a good ``n``-colour palette for every ``n`` (16 colours keep a pairwise distance
of 0.5).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from ..errors import DiceptionInputError

GRID_LEVELS = 9  # candidate colours: the RGB grid with this many levels per channel (729 colours)
MIN_BRIGHTNESS = 0.5  # a candidate's largest channel must reach this, so no colour is near black ...
MIN_LUMA = 0.25  # ... nor dark in luma (Rec. 601), which JPEG and VAEs keep best (no dark blues)
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


@functools.lru_cache(maxsize=1)
def _maximin_order() -> np.ndarray:
    levels = np.linspace(0.0, 1.0, GRID_LEVELS)
    grid = np.array(list(itertools.product(levels, repeat=3)))  # (L**3, 3)
    candidates = grid[(grid.max(axis=1) >= MIN_BRIGHTNESS) & (grid @ _LUMA_WEIGHTS >= MIN_LUMA)]
    nearest = np.linalg.norm(candidates, axis=1)  # distance to black, then to the nearest picked colour
    order = []
    for _ in range(len(candidates)):
        i = int(np.argmax(nearest))
        order.append(i)
        nearest = np.minimum(nearest, np.linalg.norm(candidates - candidates[i], axis=1))
        nearest[i] = -1.0
    return candidates[order].astype(np.float32)


def max_palette_size() -> int:
    """How many distinct colours :func:`maximin_palette` can give."""
    return len(_maximin_order())


def maximin_palette(n: int) -> np.ndarray:
    """The first ``n`` maximin colours, ``(n, 3)`` float32 in [0, 1]; none near black."""
    order = _maximin_order()
    if not 0 <= n <= len(order):
        raise DiceptionInputError(f"asked for {n} palette colours; between 0 and {len(order)} are available")
    return order[:n].copy()


def min_pairwise_distance(colours: np.ndarray) -> float:
    """Smallest RGB distance between two of ``colours`` ``(N, 3)``; ``inf`` for fewer than two."""
    if len(colours) < 2:
        return float("inf")
    d = np.linalg.norm(colours[:, None, :] - colours[None, :, :], axis=-1)
    d[np.diag_indices(len(colours))] = np.inf
    return float(d.min())


def nearest_colour(pixels: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and RGB distance to the nearest of ``colours`` ``(K, 3)`` for each of ``pixels`` ``(N, 3)``.

    Uses ``|p|^2 - 2 p.c + |c|^2`` so memory stays ``N x K`` for megapixel pictures.
    """
    pixels = np.asarray(pixels, dtype=np.float32)
    colours = np.asarray(colours, dtype=np.float32)
    d2 = (pixels**2).sum(1)[:, None] - 2 * pixels @ colours.T + (colours**2).sum(1)[None]
    idx = d2.argmin(axis=1)
    return idx, np.sqrt(np.maximum(d2[np.arange(len(pixels)), idx], 0.0))


def random_colours(n: int, seed: int | None = 0, palette_size: int = 16) -> np.ndarray:
    """``n`` distinct palette colours in random order, ``(n, 3)`` float32.

    Drawn without replacement from the first ``max(palette_size, n)`` maximin colours with a seeded generator,
    so each instance gets a random colour (the published convention) while any two stay far apart.
    """
    pool = maximin_palette(max(palette_size, n))
    rng = np.random.default_rng(seed)
    return pool[rng.choice(len(pool), size=n, replace=False)]
