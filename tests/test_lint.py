"""ruff over the code: no unused imports or variables, no undefined names (pyflakes), imports in isort's order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_no_unused_imports_or_undefined_names_and_imports_sorted() -> None:
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--select", "F,I", "--no-cache", "--output-format", "concise", "bot", "actions", "tests", "bench"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
