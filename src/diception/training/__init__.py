"""Training DICEPTION: rectified-flow fine-tuning of SD3 (or a small model from scratch) on many tasks at once.

from diception.training import load_config, train
train(load_config("configs/tiny_synthetic.yaml", ["optim.max_steps=100"]))
"""

from .config import TrainConfig, load_config
from .flow_matching import noisy_latents, per_sample_loss, sample_sigmas, velocity_target
from .trainer import Trainer, find_checkpoint, train

__all__ = [
    "TrainConfig",
    "Trainer",
    "find_checkpoint",
    "load_config",
    "noisy_latents",
    "per_sample_loss",
    "sample_sigmas",
    "train",
    "velocity_target",
]
