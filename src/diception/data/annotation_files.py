"""Ground-truth annotation files: reading a JSON file with one-line errors, and annotation lists (a ``.json`` list
of annotations, or an object whose ``annotations`` is one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import DiceptionInputError


def read_json(path: str | Path) -> Any:
    """The content of a JSON file; one line naming the file for a missing or unreadable file, bytes that are not
    UTF-8 text, or invalid (or too deeply nested) JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiceptionInputError(f"{path} does not exist") from None
    except OSError as err:
        raise DiceptionInputError(f"{path} cannot be read ({err.strerror or type(err).__name__})") from None
    except UnicodeDecodeError:
        raise DiceptionInputError(f"{path}: invalid JSON (not UTF-8 text); save it as UTF-8") from None
    except json.JSONDecodeError as err:
        raise DiceptionInputError(f"{path}:{err.lineno}: invalid JSON ({err.msg})") from None
    except RecursionError:
        raise DiceptionInputError(f"{path}: invalid JSON (nested too deeply to read)") from None


def read_annotation_list(path: Path) -> list[dict[str, Any]]:
    """The annotations of a target file, with a one-line error for invalid JSON or another structure."""
    data = read_json(path)
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        data = data["annotations"]
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise DiceptionInputError(f"target {path} must hold a list of annotations (JSON objects)")
    return data
