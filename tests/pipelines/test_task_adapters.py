"""Task adapters: a folder (safetensors + JSON) teaches a pipeline a new task; several load side by side and
each call runs its task's adapter; base tasks run without any; fuse and unfuse; bad folders are one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from diception import tasks
from diception.bundled import bundled_model_path
from diception.errors import DiceptionInputError
from diception.pipelines import DiceptionPipeline
from diception.pipelines.task_adapter import CONFIG_NAME, TaskAdapter, save_task_adapter
from diception.training.config import LoraConfig
from diception.training.lora import add_lora

IMAGE = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)


def fresh_pipe() -> DiceptionPipeline:
    pipe = DiceptionPipeline.from_pretrained(bundled_model_path())
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run(pipe, task, seed: int = 0, image=IMAGE) -> np.ndarray:
    out = pipe(image, task, num_inference_steps=1, guidance_scale=1.0, generator=torch.Generator().manual_seed(seed))
    return np.asarray(out.images[0])


@pytest.fixture
def adapters(tmp_path):
    """Two adapter folders made by hand (random LoRA weights, the depth prompt's embedding nudged), and the
    answers a pipeline holding each LoRA alone gives; the tasks are unregistered afterwards."""
    made = {}
    for k, (name, kind) in enumerate((("shade", "grey"), ("blobs", "mask"))):
        pipe = fresh_pipe()
        add_lora(pipe.transformer, LoraConfig(rank=2, target_modules=["to_q", "to_v", "add_q_proj"]), name)
        with torch.no_grad():
            for param_name, param in pipe.transformer.named_parameters():
                if "lora_B" in param_name:
                    param.copy_(torch.randn(param.shape, generator=torch.Generator().manual_seed(k)) * 0.2)
        embeds, pooled = pipe.prompt_cache.lookup([tasks.DEPTH.prompt])
        adapter = TaskAdapter(name, f"[[image2{name}]]", kind, embeds[0] + 0.1 * (k + 1), pooled[0])
        folder = save_task_adapter(adapter, pipe.transformer, tmp_path / name, card=f"# {name}\n")
        pipe.register_modules(prompt_cache=pipe.prompt_cache.with_prompt(adapter.prompt, adapter.prompt_embeds,
                                                                         adapter.pooled_prompt_embeds))  # fmt: skip
        tasks.register(adapter.task())
        made[name] = (folder, run(pipe, name))
        tasks.unregister(name)
    yield made
    for name in made:
        if name in tasks.TASKS:
            tasks.unregister(name)


def test_an_adapter_folder_teaches_a_new_task_and_leaves_the_base_tasks_alone(adapters):
    base_depth = run(fresh_pipe(), "depth")
    pipe = fresh_pipe()
    folder, expected = adapters["shade"]
    task = pipe.load_adapter(folder)
    assert task.name == "shade" and task.prediction_kind == "grey" and pipe.adapters == ["shade"]
    np.testing.assert_allclose(run(pipe, "shade"), expected, atol=1e-5)
    np.testing.assert_allclose(run(pipe, "depth"), base_depth, atol=1e-6)  # adapter off for a base task
    out = pipe(IMAGE, "shade", num_inference_steps=1, guidance_scale=1.0)
    assert out.prediction[0].shape == IMAGE.shape[:2]  # decoded by its kind: an (H, W) grey map


def test_several_adapters_side_by_side_each_call_and_batch_picks_its_own(adapters):
    pipe = fresh_pipe()
    for folder, _ in adapters.values():
        pipe.load_adapter(folder)
    assert sorted(pipe.adapters) == ["blobs", "shade"]
    for name, (_, expected) in adapters.items():
        np.testing.assert_allclose(run(pipe, name), expected, atol=1e-5)
    mixed = pipe([IMAGE, IMAGE, IMAGE], ["shade", "depth", "blobs"], num_inference_steps=1, guidance_scale=1.0,
                 generator=[torch.Generator().manual_seed(0) for _ in range(3)])  # fmt: skip
    np.testing.assert_allclose(mixed.images[0], adapters["shade"][1], atol=1e-5)
    np.testing.assert_allclose(mixed.images[1], run(fresh_pipe(), "depth"), atol=1e-5)
    np.testing.assert_allclose(mixed.images[2], adapters["blobs"][1], atol=1e-5)


def test_fuse_runs_only_its_task_and_unfuse_restores_the_base(adapters):
    pipe = fresh_pipe()
    base_depth = run(pipe, "depth")
    folder, expected = adapters["shade"]
    pipe.load_adapter(folder)
    pipe.fuse_adapter("shade")
    np.testing.assert_allclose(run(pipe, "shade"), expected, atol=1e-4)
    with pytest.raises(DiceptionInputError, match="is fused into the weights"):
        run(pipe, "depth")
    pipe.unfuse_adapter()
    np.testing.assert_allclose(run(pipe, "depth"), base_depth, atol=1e-5)
    with pytest.raises(DiceptionInputError, match="no adapter 'nope' is loaded"):
        pipe.fuse_adapter("nope")


def test_bad_adapter_folders_are_one_clear_line(adapters, tmp_path):
    pipe = fresh_pipe()
    with pytest.raises(DiceptionInputError, match="is not a task adapter folder"):
        pipe.load_adapter(tmp_path)
    folder, _ = adapters["shade"]
    (folder / CONFIG_NAME).write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DiceptionInputError, match="is damaged"):
        pipe.load_adapter(folder)
    assert "shade" not in tasks.TASKS and pipe.adapters == []
