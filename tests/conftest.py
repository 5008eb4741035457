"""Shared test fixtures: the published code's reference fixture, materialised once per machine.

The fixture's weights are generated (~30 s, 0.9 GB) into ``.cache/`` at the repository root and reused by later
runs; its golden tensors come straight from ``../shared/fixtures/official_tiny``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from diception import DiceptionPipeline
from diception.reference_fixture import converted_model, find_fixture_source, materialise

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(os.environ.get("DICEPTION_TEST_CACHE", REPO_ROOT / ".cache"))

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def fixture_source() -> Path:
    return find_fixture_source()


@pytest.fixture(scope="session")
def official_dir(fixture_source) -> Path:
    """The tiny SD3 diffusers folder with ``DICEPTION_v1.pth`` inside (the published layout)."""
    return materialise(CACHE_DIR, fixture_source)


@pytest.fixture(scope="session")
def model_dir(fixture_source) -> Path:
    """The fixture converted to a self-contained DICEPTION model folder (prompt cache, no text encoders)."""
    return converted_model(CACHE_DIR, fixture_source)


@pytest.fixture(scope="session")
def golden(fixture_source) -> dict[str, torch.Tensor]:
    return load_file(str(fixture_source / "golden.safetensors"))


@pytest.fixture(scope="session")
def pipe(model_dir) -> DiceptionPipeline:
    """The converted fixture model on the CPU, progress bars off. Tests must not modify it."""
    pipeline = DiceptionPipeline.from_pretrained(model_dir)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline
