"""A procedural synthetic world with exact ground truth for all six tasks, cheap enough to train on a CPU.

Rooms with textured floors and walls, boxes, balls, cylinders, cones and articulated stick people, ray-cast
with one point light and hard shadows (:mod:`.render`); scenes are deterministic by seed and split into
disjoint seed ranges (:mod:`.samples`); :mod:`.writer` saves them in the published manifest layout.
:mod:`.other_world` is a second world for out-of-distribution checks: other objects, two coloured lights with
soft shadows and highlights, other materials, ray-cast with the same ground truth.

Modules: :mod:`.shapes` (ray intersection), :mod:`.textures`, :mod:`.figures` (people), :mod:`.scene`
(random scene descriptions), :mod:`.render`, :mod:`.other_world`, :mod:`.samples`, :mod:`.writer`.
"""

from .other_world import render_other_scene, sample_other_scene
from .render import SURFACES, SyntheticScene, render_description, render_scene
from .samples import (
    SPLIT_BASES,
    SPLIT_SPAN,
    SyntheticTaskDataset,
    TaskExample,
    TrainingSample,
    make_sample,
    split_seeds,
)
from .scene import CATEGORIES, SceneDescription, sample_scene
from .writer import write_synthetic_dataset

__all__ = [
    "CATEGORIES",
    "SPLIT_BASES",
    "SPLIT_SPAN",
    "SURFACES",
    "SceneDescription",
    "SyntheticScene",
    "SyntheticTaskDataset",
    "TaskExample",
    "TrainingSample",
    "make_sample",
    "render_description",
    "render_other_scene",
    "render_scene",
    "sample_other_scene",
    "sample_scene",
    "split_seeds",
    "write_synthetic_dataset",
]
