"""The bundled model ships with the package, loads offline, stays small and runs every task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diception import DiceptionPipeline, bundled_model_path, tasks
from diception.bundled import has_bundled_model
from diception.data.synthetic import render_scene, split_seeds

pytestmark = pytest.mark.skipif(not has_bundled_model(), reason="installation without the bundled model")


def test_bundled_model_is_small_safetensors_with_a_model_card():
    folder = bundled_model_path()
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 50 * 2**20
    weights = [p.name for p in files if p.suffix in (".safetensors", ".bin", ".pth", ".pt")]
    assert weights and all(name.endswith(".safetensors") for name in weights)
    card = (folder / "MODEL_CARD.md").read_text()
    assert "knows only the synthetic world" in card and "| depth |" in card


@pytest.mark.parametrize("task", tasks.task_names())
def test_bundled_model_runs_every_task_on_a_synthetic_scene(task):
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    scene = render_scene(split_seeds("test", 1, start=9000)[0], size=64)
    spec = tasks.get(task)
    kwargs = {"category": "person"} if spec.needs_category else {}
    if spec.accepts_points:
        kwargs["points"] = [(32, 40)]
    out = pipe(scene.image, task, num_inference_steps=2, generator=torch.Generator().manual_seed(0), **kwargs)
    assert out.images.shape == (1, 64, 64, 3) and np.isfinite(out.images).all()


def test_bundled_model_reads_its_input_image():
    """Its depth follows the scene: two different scenes give clearly different depth pictures, not one average."""
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    scenes = [render_scene(seed, size=64).image for seed in split_seeds("test", 2, start=9100)]
    out = pipe(scenes, "depth", num_inference_steps=1, guidance_scale=1.0, generator=torch.Generator().manual_seed(0))
    assert np.abs(out.images[0] - out.images[1]).mean() > 0.03
