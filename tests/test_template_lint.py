"""The template's own code (hooks, tests, benchmarks) is as lint-clean as what it renders."""

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TEMPLATE_DIR

RUFF = Path(sys.executable).parent / "ruff"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_template_code_is_lint_clean(command):
    result = subprocess.run(
        [RUFF, *command], cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
