"""Ground-truth annotation lists: a ``.json`` list of annotations, or an object whose ``annotations`` is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DiceptionInputError


def read_annotation_list(path: Path) -> list[dict[str, Any]]:
    """The annotations of a target file, with a one-line error for invalid JSON or another structure."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        where = f":{err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
        detail = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8 text"
        raise DiceptionInputError(f"target {path}{where}: invalid JSON ({detail})") from None
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise DiceptionInputError(f"target {path} must hold a list of annotations (JSON objects)")
    return data
