"""The documentation site builds without warnings."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import REPO_ROOT


def test_mkdocs_builds_strict(tmp_path: Path, tools_bin: Path) -> None:
    result = subprocess.run(
        [str(tools_bin / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "questions" / "index.html").is_file()
