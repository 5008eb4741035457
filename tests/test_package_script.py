"""scripts/package_bundled_model.py's model card: it names every training stage when given the recipe, carries
the findings, names the previous model, and says whether training was still lowering the loss."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

from diception import DiceptionPipeline
from diception.bundled import bundled_model_path
from diception.training.config import load_config

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "diception_package_script", ROOT / "scripts" / "package_bundled_model.py"
)
package = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = package
_spec.loader.exec_module(package)

REPORT = {
    "count": 200, "size": 64, "steps": 1, "guidance": 1.0,
    "table": "| task | metric | model | trivial baseline | target | reached |\n|---|---|---|---|---|---|\n"
             "| depth | abs_rel (lower is better) | 0.231 | 0.443 | 0.12 | no |",
    "previous": {"report": "bench_results/bundled_v1.json", "name": "v1: the pixel-shuffle autoencoder"},
}  # fmt: skip


@pytest.fixture(scope="module")
def pipe():
    return DiceptionPipeline.from_pretrained(bundled_model_path())


def _run(tmp_path: Path, losses: list[float]) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    config = load_config(ROOT / "configs" / "bundled_v2_continue.yaml").to_dict()
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    lines = [json.dumps({"step": 50 * (i + 1), "loss": loss, "seconds_per_step": 0.8}) for i, loss in enumerate(losses)]
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return run


def test_card_lists_every_stage_and_the_findings_when_given(tmp_path, pipe):
    run = _run(tmp_path, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    recipe = "1. Autoencoder: `python scripts/fit_autoencoder.py ...`\n2. Prior: `diception train ...`"
    card = package.model_card(run, REPORT, pipe, 19.5, recipe=recipe, findings="| prior | scratch |\n|---|---|")
    assert "Every stage, in order" in card and recipe in card
    assert "for this last stage" in card  # the wall time is not passed off as the whole chain's
    assert "## Prior vs scratch, and what was learned\n| prior | scratch |" in card
    assert "previous bundled model (v1: the pixel-shuffle autoencoder" in card
    assert "It was still learning at the end" in card


def test_card_says_when_the_loss_had_levelled_off(tmp_path, pipe):
    card = package.model_card(_run(tmp_path, [0.50, 0.49, 0.51, 0.50, 0.49, 0.50]), REPORT, pipe, 19.5)
    assert "levelled off" in card and "still learning" not in card
    assert "Every stage, in order" not in card and "## Prior vs scratch" not in card
