"""The small DICEPTION model shipped inside the package, trained on the synthetic world only.

It makes ``make demo`` and ``diception predict`` work on any machine without downloading weights. It knows
nothing but the synthetic world (see its model card, ``MODEL_CARD.md`` in its folder).
"""

from __future__ import annotations

from pathlib import Path

from .errors import DiceptionInputError

BUNDLED_MODEL_NAME = "diception-tiny-synthetic"
_FOLDER = Path(__file__).resolve().parent / "bundled" / BUNDLED_MODEL_NAME


def has_bundled_model() -> bool:
    """Whether this installation carries the bundled model."""
    return (_FOLDER / "model_index.json").is_file()


def bundled_model_path() -> Path:
    """Folder of the bundled model (``DiceptionPipeline.from_pretrained(bundled_model_path())``)."""
    if not has_bundled_model():
        raise DiceptionInputError(
            f"this installation has no bundled model at '{_FOLDER}'; pass --model DIR or the published weights"
        )
    return _FOLDER
