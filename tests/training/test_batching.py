"""Training examples: task mix, points, prompt dropout (the sampler's unconditional branch), resumable order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from diception import tasks
from diception.tasks.points import point_slots
from diception.training.batching import ExampleOptions, TaskMixtureSampler, collate, make_example, sample_prompts
from diception.training.config import ModelConfig
from diception.training.denoiser import DiceptionDenoiser
from diception.training.model_init import pipeline_from_scratch, random_prompt_cache

from .helpers import tiny_config
from .tiny_world import TinyWorld


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory):
    torch.manual_seed(0)
    model = tiny_config(tmp_path_factory.mktemp("run")).model
    return pipeline_from_scratch(model, TinyWorld().prompts, 32)


def test_sampler_follows_task_weights_and_resumes_exactly():
    prompts = sample_prompts(TinyWorld(length=12))
    sampler = TaskMixtureSampler(prompts, {"depth": 1.0, "segmentation": 3.0}, batch_size=4, seed=1)
    keys = list(itertools.islice(iter(sampler), 400))
    drawn = [tasks.resolve_request(prompt=prompts[i]).task.name for i, _ in keys]
    assert set(drawn) == {"depth", "segmentation"}
    assert 0.65 < drawn.count("segmentation") / len(drawn) < 0.85
    later = TaskMixtureSampler(prompts, {"depth": 1.0, "segmentation": 3.0}, batch_size=4, seed=1, start_micro_step=5)
    assert list(itertools.islice(iter(later), 8)) == keys[20:28]  # micro-step 5 onwards, as uninterrupted
    other_rank = TaskMixtureSampler(prompts, {"depth": 1.0, "segmentation": 3.0}, batch_size=4, seed=1, rank=1)
    assert list(itertools.islice(iter(other_rank), 40)) != keys[:40]


def test_points_only_for_point_tasks_one_to_five():
    world = TinyWorld(length=12)
    options = ExampleOptions(resolution=32)
    for i in range(len(world)):
        for seed in range(5):
            example = make_example(world[i], options, np.random.default_rng(seed), i)
            if tasks.get(example["task"]).accepts_points:
                assert 1 <= len(example["points"]) <= 3  # the sample gives 3; a subset of 1-3 is kept
            else:
                assert example["points"] == ()


def test_segmentation_without_points_draws_them_inside_the_mask():
    sample = dict(TinyWorld(length=12)[2], points=())  # index 2 is segmentation
    mask = np.asarray(tasks.get("segmentation").decode(sample["target"]))
    for seed in range(10):
        points = make_example(sample, ExampleOptions(resolution=32), np.random.default_rng(seed))["points"]
        assert 1 <= len(points) <= 5
        assert all(mask[int(y * 32), int(x * 32)] for x, y in points)


def test_point_slots_match_the_pipeline(tiny_pipe):
    points = [((0.1, 0.7), (0.5, 0.5)), ()]
    requests = [tasks.resolve_request(task="segmentation", points=points[0]), tasks.resolve_request(task="depth")]
    with torch.no_grad():
        expected = tiny_pipe.encode_points(requests)
        got = tiny_pipe.point_encoder(*point_slots(points, tiny_pipe.config.point_order))
    assert torch.equal(got, expected)


def test_prompt_dropout_is_the_unconditional_branch(tiny_pipe):
    sample = TinyWorld(length=12)[2]  # segmentation, with points
    options = ExampleOptions(resolution=32, prompt_dropout=1.0)
    batch = collate([make_example(sample, options, np.random.default_rng(0))])
    assert batch["prompt"] == [""] and not batch["keep_points"].any() and batch["is_point"].any()

    seen = {}

    def capture(module, args, kwargs):
        seen.update(kwargs)

    handle = tiny_pipe.transformer.register_forward_pre_hook(capture, with_kwargs=True)
    try:
        text, pooled = tiny_pipe.encode_prompt(batch["prompt"])
        latents = torch.zeros(1, 4, 16, 16)
        with torch.no_grad():
            DiceptionDenoiser(tiny_pipe.transformer, tiny_pipe.point_encoder)(
                latents,
                torch.tensor([500.0]),
                text,
                pooled,
                latents,
                batch["coords"],
                batch["is_point"],
                batch["keep_points"],
            )
    finally:
        handle.remove()
    assert torch.count_nonzero(seen["point_tokens"]) == 0
    empty_text, empty_pooled = tiny_pipe.prompt_cache.lookup([""])
    assert torch.equal(seen["encoder_hidden_states"], empty_text)
    assert torch.equal(seen["pooled_projections"], empty_pooled)


def test_random_prompt_cache_is_fixed_per_prompt():
    a = random_prompt_cache(["x", "y"], 4, 8, 3, seed=5)
    b = random_prompt_cache(["y", "z"], 4, 8, 3, seed=5)
    assert torch.equal(a.lookup(["y"])[0], b.lookup(["y"])[0])
    assert not torch.equal(a.lookup(["x"])[0], a.lookup(["y"])[0])
    assert "" in a and "" in b


def test_scratch_model_rejects_mismatched_channels():
    from diception.errors import DiceptionInputError

    model = ModelConfig(init="scratch", transformer={"in_channels": 16, "out_channels": 16})
    with pytest.raises(DiceptionInputError, match="latent channels"):
        pipeline_from_scratch(model, [], 32)
