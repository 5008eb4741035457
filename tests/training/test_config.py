"""Config files: base inheritance, deep merge, --set overrides, type checks, the shipped recipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from diception.errors import DiceptionInputError
from diception.training.config import deep_merge, load_config, parse_override

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_base_inheritance_and_deep_merge(tmp_path):
    (tmp_path / "a.yaml").write_text("optim: {lr: 0.1, batch_size: 3}\ndata: {resolution: 64}\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\noptim: {lr: 0.2}\n")
    config = load_config(tmp_path / "b.yaml", ["optim.max_steps=7", "optim.lr=1e-4"])
    assert (config.optim.lr, config.optim.batch_size, config.optim.max_steps) == (1e-4, 3, 7)
    assert isinstance(config.optim.lr, float)  # YAML reads 1e-4 as a string; coerced
    assert config.data.resolution == 64


def test_override_parsing_and_merge():
    assert parse_override("data.task_weights={depth: 2}") == {"data": {"task_weights": {"depth": 2}}}
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ("optim.learning_rate=1", "unknown config key.*learning_rate.*valid: lr"),
        ("optim.batch_size=many", "optim.batch_size.*must be int"),
        ("model.init=magic", "model.init='magic'"),
        ("data.max_points=9", "max_points"),
        ("noequals", "section.key=value"),
        ("parallel.strategy=zero3", "parallel.strategy='zero3'; choose ddp or fsdp"),
        (["parallel.strategy=fsdp", "ema.enabled=true"], "not supported with parallel.strategy=fsdp"),
    ],
)
def test_bad_settings_name_the_key(override, match):
    with pytest.raises(DiceptionInputError, match=match):
        load_config(None, [override] if isinstance(override, str) else override)


def test_base_cycle_is_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(DiceptionInputError, match="inherits from itself"):
        load_config(tmp_path / "a.yaml")


def test_shipped_recipes_load():
    paper = load_config(CONFIGS / "sd3_medium.yaml")
    assert (paper.model.init, paper.optim.lr, paper.optim.batch_size, paper.data.resolution) == ("sd3", 2e-5, 28, 768)
    assert paper.optim.lr_scheduler == "constant" and paper.mixed_precision == "auto"
    tiny = load_config(CONFIGS / "tiny_synthetic.yaml")
    assert tiny.model.init == "scratch" and tiny.data.kind == "synthetic" and tiny.data.resolution <= 128
    assert tiny.data.task_weights == paper.data.task_weights  # the shared base's task mix
    bundled = load_config(CONFIGS / "bundled_tiny.yaml")
    assert bundled.model.transformer["patch_size"] == 1 and bundled.data.options["scene_cache"]
    assert bundled.model.transformer["num_layers"] == tiny.model.transformer["num_layers"]  # inherited
    smoke = load_config(CONFIGS / "tiny_fixture_smoke.yaml")
    assert smoke.model.init == "sd3" and smoke.data.resolution == 32
