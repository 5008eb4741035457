"""The stand-alone autoencoder fit: it lowers the reconstruction loss, resumes into the same weights, and exports a
VAE that ``model.vae_path`` and a saved DiceptionPipeline load."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from diffusers import AutoencoderKL

from diception import DiceptionPipeline
from diception.data.synthetic import render_scene
from diception.errors import DiceptionInputError
from diception.modeling import small_autoencoder_kl
from diception.training.autoencoder_fit import reconstruction_loss
from diception.training.autoencoder_pictures import IMAGE_KIND, AutoencoderPictures
from diception.training.autoencoder_run import AutoencoderRunConfig, fit_autoencoder_run
from diception.training.config import ModelConfig
from diception.training.model_init import pipeline_from_scratch

SIZE = 32


def tiny_run(output_dir, **changes) -> AutoencoderRunConfig:
    """A 3-block, 8-wide VAE (factor 4, 4 latent channels) on 4 scenes of 32 px rendered in memory."""
    settings = dict(output_dir=str(output_dir), size=SIZE, base_channels=8, max_channels=16, latent_channels=4,
                    num_scenes=4, scene_cache="", workers=1, batch_size=4, steps=6, lr=3e-3, checkpoint_every=3,
                    log_every=0)  # fmt: skip
    return AutoencoderRunConfig(**{**settings, **changes})


def weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def scenes():
    return [render_scene(seed, SIZE) for seed in range(4)]


def test_pictures_are_scenes_and_task_targets_fixed_by_seed_and_step(scenes):
    stream = AutoencoderPictures(scenes, batch_size=24, crop_size=16, seed=3)
    pictures, kinds = stream.batch(5)
    assert pictures.shape == (24, 3, 16, 16) and pictures.dtype == torch.float32
    assert pictures.min() >= 0.0 and pictures.max() <= 1.0
    assert IMAGE_KIND in kinds and len(set(kinds)) >= 4  # scene pictures and several tasks' targets
    again, _ = AutoencoderPictures(scenes, batch_size=24, crop_size=16, seed=3).batch(5)
    torch.testing.assert_close(again, pictures, atol=0, rtol=0)
    assert not torch.equal(stream.batch(6)[0], pictures)
    assert stream.calibration_batch(5).shape == (5, 3, SIZE, SIZE)
    only_images, kinds = AutoencoderPictures(scenes, image_fraction=1.0, batch_size=4).batch(0)
    scene_pictures = [torch.from_numpy(s.image_float()).permute(2, 0, 1) for s in scenes]
    assert set(kinds) == {IMAGE_KIND} and all(any(torch.equal(p, s) for s in scene_pictures) for p in only_images)
    with pytest.raises(DiceptionInputError, match="crop_size must lie in"):
        AutoencoderPictures(scenes, crop_size=SIZE + 1)


def test_fit_lowers_the_reconstruction_loss_and_exports_a_calibrated_vae(tmp_path, scenes):
    config = tiny_run(tmp_path / "run", steps=12)
    folder = fit_autoencoder_run(config, log=lambda line: None)
    fitted = AutoencoderKL.from_pretrained(folder)
    torch.manual_seed(config.seed)
    fresh = small_autoencoder_kl(4, 8, 4, max_channels=16)
    pictures = AutoencoderPictures(scenes, batch_size=16, seed=99).batch(0)[0]
    with torch.no_grad():
        before, after = reconstruction_loss(fresh, pictures).item(), reconstruction_loss(fitted, pictures).item()
    assert after < 0.7 * before
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 12 and len(state["losses"]) == 12
    with torch.no_grad():  # calibrated: the latents of whole pictures have about zero mean and unit variance
        z = fitted.encode(AutoencoderPictures(scenes, seed=0).calibration_batch() * 2 - 1).latent_dist.mode()
        z = (z - fitted.config.shift_factor) * fitted.config.scaling_factor
    assert abs(z.mean().item()) < 1e-3 and z.std().item() == pytest.approx(1.0, abs=1e-3)


def test_a_resumed_fit_ends_with_the_weights_of_an_uninterrupted_one(tmp_path):
    straight = AutoencoderKL.from_pretrained(fit_autoencoder_run(tiny_run(tmp_path / "a"), log=lambda line: None))
    fit_autoencoder_run(tiny_run(tmp_path / "b", steps=3), log=lambda line: None)  # stops after its checkpoint
    resumed = AutoencoderKL.from_pretrained(fit_autoencoder_run(tiny_run(tmp_path / "b"), log=lambda line: None))
    for key, value in weights(straight).items():
        torch.testing.assert_close(weights(resumed)[key], value, atol=0, rtol=0, msg=key)
    assert resumed.config.scaling_factor == straight.config.scaling_factor


def test_max_seconds_stops_with_a_checkpoint_and_other_settings_are_refused(tmp_path):
    lines = []
    fit_autoencoder_run(tiny_run(tmp_path, steps=50), max_seconds=0.0, log=lines.append)
    assert json.loads((tmp_path / "checkpoint" / "state.json").read_text())["step"] == 1
    assert any("run again to go on" in line for line in lines)
    with pytest.raises(DiceptionInputError, match="other settings.*latent_channels=4"):
        fit_autoencoder_run(tiny_run(tmp_path, latent_channels=8))
    with pytest.raises(DiceptionInputError, match="not a multiple of downscale_factor"):
        fit_autoencoder_run(tiny_run(tmp_path / "odd", size=30))


def test_the_fitted_vae_trains_from_vae_path_and_reloads_inside_a_saved_pipeline(tmp_path):
    folder = fit_autoencoder_run(tiny_run(tmp_path / "run", steps=1), log=lambda line: None)
    transformer = {"num_layers": 1, "num_attention_heads": 2, "attention_head_dim": 8, "caption_projection_dim": 16,
                   "joint_attention_dim": 16, "pooled_projection_dim": 8, "in_channels": 4, "out_channels": 4,
                   "sample_size": 8, "pos_embed_max_size": 16}  # fmt: skip
    torch.manual_seed(0)
    config = ModelConfig(init="scratch", vae_path=str(folder), transformer=transformer, prompt_length=2,
                         point_encoder={"num_fourier_features": 8, "hidden_dim": 16})  # fmt: skip
    pipe = pipeline_from_scratch(config, ["[[image2depth]]"], SIZE)
    pipe.save_pretrained(tmp_path / "model")
    again = DiceptionPipeline.from_pretrained(tmp_path / "model")
    assert type(again.vae) is AutoencoderKL and again.vae_scale_factor == 4
    assert again.vae.config.scaling_factor == AutoencoderKL.from_pretrained(folder).config.scaling_factor
    for key, value in weights(pipe.vae).items():
        torch.testing.assert_close(weights(again.vae)[key], value, atol=0, rtol=0)
    again.set_progress_bar_config(disable=True)
    out = again(np.random.default_rng(0).random((SIZE, SIZE, 3)).astype(np.float32), "depth", num_inference_steps=1,
                generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert out.images.shape == (1, SIZE, SIZE, 3)


def test_every_setting_has_command_line_help():
    assert all(f.metadata.get("help") for f in dataclasses.fields(AutoencoderRunConfig))
