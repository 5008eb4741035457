"""The prompt cache's text-encoder path stays quiet: no torchvision warning from transformers on every run."""

from __future__ import annotations

import subprocess
import sys


def test_encoding_prompts_prints_no_torchvision_warning():
    code = (
        "from diception.pipelines.prompt_cache import quiet_torchvision_fallback\n"
        "with quiet_torchvision_fallback():\n"
        "    from diffusers import StableDiffusion3Pipeline\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "torchvision" not in result.stderr and "torchvision" not in result.stdout
