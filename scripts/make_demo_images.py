"""Make the demo's sample pictures (run once; the results are committed under examples/images/).

* four held-out synthetic-world scenes (test split, far beyond the scenes any report scores), each with a person;
* one natural photograph: the official U.S. Navy portrait of Grace Hopper (public domain), taken from
  matplotlib's bundled sample data and scaled down.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
from PIL import Image

from diception.data.synthetic import render_scene, split_seeds

FIRST_TEST_INDEX = 5000  # the reports use the first few hundred test scenes
SYNTHETIC_SCENES = 4


def main(out: str = "examples/images") -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for seed in split_seeds("test", 100, start=FIRST_TEST_INDEX):
        scene = render_scene(seed, size=128)
        if "person" in scene.instance_categories.values() and len(scene.instance_categories) >= 3:
            written += 1
            Image.fromarray(scene.image).save(folder / f"synthetic_{written}.png")
            if written == SYNTHETIC_SCENES:
                break
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    with Image.open(photo) as img:
        img.convert("RGB").resize((219, 256), Image.LANCZOS).save(folder / "photo_grace_hopper.jpg", quality=90)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
