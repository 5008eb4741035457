"""Text-to-image pretraining: a generative run trains the plain-SD3 path on scene captions, draws pictures, and
is the starting point a perception fine-tune loads; the latent cache feeds training exactly what encoding does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from diception import DiceptionPipeline
from diception.errors import DiceptionInputError
from diception.training.generative_prior import GENERATION_TASK, generate_pictures
from diception.training.trainer import Trainer
from tests.training.helpers import tiny_config, weights

SIZE = 32


def with_data(config, kind: str, **options):
    """``config`` reading ``kind`` data with exactly ``options`` (``--set`` merges into the tiny world's)."""
    config.data.kind, config.data.options = kind, options
    config.check()
    return config


def captions_config(tmp_path, *overrides: str):
    config = tiny_config(tmp_path / "prior", "model.prompt_embedding=words", "model.prompt_length=6",
                         "optim.max_steps=3", *overrides)  # fmt: skip
    config.objective.generative, config.data.latent_cache = True, True
    return with_data(config, "scene_captions", num_scenes=6, size=SIZE, scene_cache=str(tmp_path / "bank"))


def test_a_generative_run_trains_the_text_to_image_path_and_its_model_draws(tmp_path):
    config = captions_config(tmp_path, "validation.every=3", "validation.num_samples=2",
                             "validation.num_inference_steps=2")  # fmt: skip
    trainer = Trainer(config).setup()
    point_encoder, transformer = weights(trainer.pipe.point_encoder), weights(trainer.pipe.transformer)
    model = trainer.train()

    after = weights(trainer.pipe.transformer)
    assert any(not torch.equal(transformer[k], after[k]) for k in after)
    # no point tokens in text-to-image: the point encoder gets no gradient and stays as initialised
    assert all(torch.equal(point_encoder[k], v) for k, v in weights(trainer.pipe.point_encoder).items())
    config_dir = tmp_path / "prior"
    rows = [json.loads(line) for line in (config_dir / "metrics.jsonl").open()]
    assert rows[-1]["step"] == 3 and f"loss/{GENERATION_TASK}" in rows[-1]
    assert (config_dir / "validation" / "step_0000003.png").is_file()

    pipe = DiceptionPipeline.from_pretrained(model)
    captions = trainer.dataset.captions[:2]
    drawn = generate_pictures(pipe, captions, SIZE, num_inference_steps=2, guidance_scale=2.0, seed=0)
    assert drawn.shape == (2, SIZE, SIZE, 3) and drawn.min() >= 0.0 and drawn.max() <= 1.0
    again = generate_pictures(pipe, captions, SIZE, num_inference_steps=2, guidance_scale=2.0, seed=0)
    np.testing.assert_array_equal(drawn, again)
    # every prompt perception fine-tuning will ask for is cached, besides the captions
    assert all(p in pipe.prompt_cache for p in ["", "[[image2depth]]", "[[image2semantic]] box", *captions])


def test_perception_fine_tuning_starts_from_the_prior(tmp_path):
    prior = Trainer(captions_config(tmp_path, "validation.every=0")).setup()
    model = prior.train()
    config = tiny_config(tmp_path / "ft", "model.init=pretrained", f"model.pretrained_path={model}",
                         "optim.max_steps=1")  # fmt: skip
    finetune = Trainer(with_data(config, "synthetic", num_scenes=6, size=SIZE)).setup()
    start = weights(finetune.pipe.transformer)
    exported = weights(DiceptionPipeline.from_pretrained(model).transformer)
    assert all(torch.equal(exported[k], start[k]) for k in start)
    finetune.train()
    assert any(not torch.equal(start[k], v) for k, v in weights(finetune.pipe.transformer).items())


def test_cached_latents_give_the_losses_encoding_gives(tmp_path):
    def config(name: str, cache: bool):
        config = tiny_config(tmp_path / name)
        config.data.latent_cache = cache
        return with_data(config, "synthetic", num_scenes=4, draws_per_scene=2, size=SIZE,
                         scene_cache=str(tmp_path / "bank"))  # fmt: skip

    encoded = Trainer(config("a", False)).setup()
    cached = Trainer(config("b", True)).setup()
    assert cached.latents is not None and encoded.latents is None
    batch = next(iter(encoded.data_stream()))
    with torch.no_grad():
        torch.testing.assert_close(cached.compute_losses(batch, 0), encoded.compute_losses(batch, 0))


def test_generative_and_latent_cache_settings_are_checked(tmp_path):
    with pytest.raises(DiceptionInputError, match="scene_captions"):
        tiny_config(tmp_path, "objective.generative=true")
    with pytest.raises(DiceptionInputError, match="scene_cache"):
        tiny_config(tmp_path, "data.latent_cache=true")
