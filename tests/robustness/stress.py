"""How many inputs and faults the robustness tests try: the suite's counts, or ``make stress``'s
(``DICEPTION_STRESS=1``, the counts the hardening issue names)."""

from __future__ import annotations

import os

STRESS = os.environ.get("DICEPTION_STRESS") == "1"


def scaled(ci: int, stress: int) -> int:
    """``ci`` in the test suite, ``stress`` under ``make stress``."""
    return stress if STRESS else ci
