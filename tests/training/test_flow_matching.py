"""The rectified-flow objective against hand computations."""

from __future__ import annotations

import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from diception.training.flow_matching import (
    noisy_latents,
    per_sample_loss,
    sample_sigmas,
    training_scheduler,
    velocity_target,
)


def test_noisy_latents_and_target_by_hand():
    x0 = torch.tensor([[[[1.0, 2.0]]], [[[3.0, -1.0]]]])  # (2, 1, 1, 2)
    noise = torch.tensor([[[[0.5, 0.5]]], [[[-1.0, 2.0]]]])
    sigmas = torch.tensor([0.25, 1.0])
    expected = torch.tensor([[[[0.75 * 1 + 0.25 * 0.5, 0.75 * 2 + 0.25 * 0.5]]], [[[-1.0, 2.0]]]])
    assert torch.allclose(noisy_latents(x0, noise, sigmas), expected)
    assert torch.equal(velocity_target(x0, noise), noise - x0)
    # x_sigma + (0 - sigma) * v lands on x0: the Euler sampler's step to sigma = 0
    assert torch.allclose(noisy_latents(x0, noise, sigmas) - sigmas.view(-1, 1, 1, 1) * (noise - x0), x0)


def test_sigmas_are_logit_normal_indices_into_the_shifted_table():
    scheduler = training_scheduler(FlowMatchEulerDiscreteScheduler(shift=3.0).config)
    sigmas, timesteps = sample_sigmas(scheduler, 6, 0.0, 1.0, torch.Generator().manual_seed(3))
    u = torch.sigmoid(torch.normal(0.0, 1.0, (6,), generator=torch.Generator().manual_seed(3)))
    expected = scheduler.sigmas[(u * 1000).long()]
    assert torch.allclose(sigmas, expected)
    assert torch.allclose(timesteps, sigmas * 1000)
    assert torch.allclose(timesteps, scheduler.timesteps[(u * 1000).long()])


def test_max_noise_fraction_moves_that_share_of_draws_to_the_top_of_the_table():
    scheduler = training_scheduler(FlowMatchEulerDiscreteScheduler(shift=3.0).config)
    top = scheduler.sigmas[0].item()
    assert top == 1.0
    plain, _ = sample_sigmas(scheduler, 4000, generator=torch.Generator().manual_seed(0))
    mixed, timesteps = sample_sigmas(scheduler, 4000, generator=torch.Generator().manual_seed(0),
                                     max_noise_fraction=0.5)  # fmt: skip
    at_top = mixed == top
    assert 0.45 < at_top.float().mean() < 0.55
    assert torch.equal(mixed[~at_top], plain[~at_top])  # the other draws are SD3's
    assert torch.allclose(timesteps, mixed * 1000)
    everything, _ = sample_sigmas(scheduler, 16, max_noise_fraction=1.0)
    assert (everything == top).all()


def test_per_sample_loss_is_mse_per_sample():
    pred = torch.zeros(2, 1, 2, 2)
    target = torch.stack([torch.ones(1, 2, 2), 2 * torch.ones(1, 2, 2)])
    assert torch.allclose(per_sample_loss(pred, target), torch.tensor([1.0, 4.0]))
