"""The latent cache holds exactly what the pipeline's encoder gives for each banked item, and never serves another
autoencoder's or another draw's latents."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diception.data.synthetic import SyntheticTaskDataset
from diception.errors import DiceptionInputError
from diception.training.latent_cache import autoencoder_fingerprint, dataset_latents, latent_cache_file
from tests.modeling.test_autoencoder_pixel_shuffle import tiny_pipeline

SIZE = 32


def test_cached_latents_are_the_pipelines_encoding_of_every_item_and_are_read_back(tmp_path):
    dataset = SyntheticTaskDataset("validation", size=SIZE, num_scenes=3, draws_per_scene=2, scene_cache=str(tmp_path))
    pipe = tiny_pipeline()
    latents = dataset_latents(dataset, pipe, tmp_path, batch_size=4)
    assert latents["image"].shape == (3, 48, 8, 8) and latents["target"].shape == (6, 48, 8, 8)
    for i in range(len(dataset)):
        item = dataset[i]
        with torch.no_grad():
            target = pipe.encode_condition(torch.from_numpy(item.target).permute(2, 0, 1)[None])[0].numpy()
            image = pipe.encode_condition(torch.from_numpy(item.image).permute(2, 0, 1)[None])[0].numpy()
        np.testing.assert_array_equal(latents["target"][i], target)
        np.testing.assert_array_equal(latents["image"][i % 3], image)
        assert latents["prompts"][i] == item.prompt

    pipe.encode_condition = lambda pictures: pytest.fail("encoded again instead of reading the cache")
    again = dataset_latents(dataset, pipe, tmp_path)
    np.testing.assert_array_equal(again["target"], latents["target"])


def test_another_autoencoder_or_other_draws_get_their_own_file(tmp_path):
    dataset = SyntheticTaskDataset("validation", size=SIZE, num_scenes=2)
    pipe = tiny_pipeline()
    fingerprint = autoencoder_fingerprint(pipe.vae)
    path = latent_cache_file(tmp_path, dataset, fingerprint)
    pipe.vae.register_to_config(scaling_factor=3.0)  # a recalibrated VAE encodes to other latents
    assert autoencoder_fingerprint(pipe.vae) != fingerprint
    assert latent_cache_file(tmp_path, dataset, autoencoder_fingerprint(pipe.vae)) != path
    dataset.set_epoch(1)
    assert latent_cache_file(tmp_path, dataset, fingerprint) != path


def test_a_corrupt_cache_is_named(tmp_path):
    dataset = SyntheticTaskDataset("validation", size=SIZE, num_scenes=1)
    pipe = tiny_pipeline()
    path = latent_cache_file(tmp_path, dataset, autoencoder_fingerprint(pipe.vae))
    path.write_bytes(b"not an npz")
    with pytest.raises(DiceptionInputError, match="cannot be read.*delete it"):
        dataset_latents(dataset, pipe, tmp_path)
