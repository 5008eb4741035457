"""Make the demo's sample pictures (run once; the results are committed under examples/images/).

* four held-out synthetic-world scenes (test split, far beyond the scenes any report scores), each with a person;
* one natural photograph: the official U.S. Navy portrait of Grace Hopper (public domain), taken from
  matplotlib's bundled sample data and scaled down;
* ``scenes.json``: each synthetic picture's file name -> its ``seed`` and ``size``, from which
  ``render_scene(seed, size)`` gives the picture again, bit for bit, with its ground truth (``make demo``
  draws that ground truth beside the predictions).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib
from PIL import Image

from diception.data.synthetic import render_scene, split_seeds

FIRST_TEST_INDEX = 5000  # the reports use the first few hundred test scenes
SYNTHETIC_SCENES = 4
SCENE_SIZE = 128
SCENES_FILE = "scenes.json"  # the sidecar scripts/demo.py reads


def main(out: str = "examples/images") -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    scenes: dict[str, dict[str, int]] = {}
    for seed in split_seeds("test", 100, start=FIRST_TEST_INDEX):
        scene = render_scene(seed, size=SCENE_SIZE)
        if "person" in scene.instance_categories.values() and len(scene.instance_categories) >= 3:
            name = f"synthetic_{len(scenes) + 1}.png"
            Image.fromarray(scene.image).save(folder / name)
            scenes[name] = {"seed": seed, "size": SCENE_SIZE}
            if len(scenes) == SYNTHETIC_SCENES:
                break
    (folder / SCENES_FILE).write_text(json.dumps(scenes, indent=2) + "\n")
    photo = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    with Image.open(photo) as img:
        img.convert("RGB").resize((219, 256), Image.LANCZOS).save(folder / "photo_grace_hopper.jpg", quality=90)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
