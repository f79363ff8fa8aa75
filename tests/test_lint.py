"""The template's own Python (extensions, tests, benchmarks) is ruff-clean."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO_ROOT

PATHS = ["extensions", "llmops_fleet", "migrations", "tests", "benchmarks"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(command: list[str], tools_bin: Path) -> None:
    result = subprocess.run(
        [str(tools_bin / "ruff"), *command, *PATHS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
