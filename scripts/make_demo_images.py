"""Draw the demo's sample pictures (run once; the PNGs are committed under examples/images/).

Two simple procedural scenes with a floor, walls, boxes, a ball and a stick figure, so every task has something to
find. The trained bundled model of a later release replaces them with scenes from its synthetic world.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def scene(seed: int, size: int = 256) -> Image.Image:
    rng = np.random.default_rng(seed)
    horizon = int(size * rng.uniform(0.45, 0.6))
    sky = np.linspace(0, 1, horizon)[:, None, None] * np.array([40, 60, 80]) + np.array([150, 180, 220])
    floor = np.linspace(0, 1, size - horizon)[:, None, None] * np.array([-60, -50, -40]) + np.array([170, 150, 120])
    pixels = np.concatenate(
        [np.broadcast_to(sky, (horizon, size, 3)), np.broadcast_to(floor, (size - horizon, size, 3))]
    )
    img = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(3):  # boxes standing on the floor, farther ones smaller
        w = int(rng.uniform(0.12, 0.25) * size)
        x = int(rng.uniform(0.05, 0.75) * size)
        bottom = int(rng.uniform(horizon + 10, size - 10))
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        draw.rectangle([x, bottom - w, x + w, bottom], fill=colour, outline=(20, 20, 20))
        draw.polygon([(x, bottom - w), (x + w // 3, bottom - w - w // 4), (x + w + w // 3, bottom - w - w // 4),
                      (x + w, bottom - w)], fill=tuple(min(255, c + 40) for c in colour))  # fmt: skip
    r = int(size * 0.07)
    cx, cy = int(size * rng.uniform(0.2, 0.8)), int(size * 0.9) - r
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(200, 60, 50))
    # a stick figure
    px, feet, height = int(size * rng.uniform(0.3, 0.7)), int(size * 0.93), int(size * 0.45)
    head = feet - height
    body = (60, 60, 140)
    draw.ellipse([px - 12, head, px + 12, head + 24], fill=(230, 190, 160))
    hip, shoulder = feet - int(height * 0.45), head + 30
    draw.line([(px, head + 24), (px, hip)], fill=body, width=10)
    draw.line([(px - 25, shoulder + 35), (px, shoulder), (px + 25, shoulder + 35)], fill=body, width=7)
    draw.line([(px - 18, feet), (px, hip), (px + 18, feet)], fill=(40, 40, 60), width=8)
    return img.filter(ImageFilter.GaussianBlur(0.6))


def main(out: str = "examples/images") -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for seed in (1, 2):
        scene(seed).save(folder / f"scene_{seed}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
