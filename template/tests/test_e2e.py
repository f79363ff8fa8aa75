"""Managed by the LLMOps template. The real thing: batch runs against the mock LLM.

Copies the project's config and one use case into a temporary folder and runs
``llmops experiment --offline --env pr`` there, so the project's own .llmops/ and
reports/ are untouched. Run with ``pytest -m e2e``.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmops.paths import list_use_cases

ISOLATE = ("PF_HOME_DIRECTORY", "PYTHON_KEYRING_BACKEND", "KEYRING_PROPERTY_FILE_PATH", "ENV_NAME")


@pytest.mark.e2e
def test_offline_experiment_produces_numeric_metrics(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    project = pytestconfig.rootpath  # the folder holding pytest.ini: the project root
    use_cases = list_use_cases(project)
    if not use_cases:
        pytest.skip("the project has no use case yet")
    use_case = use_cases[0]
    shutil.copytree(project / "config", tmp_path / "config")
    shutil.copytree(
        project / "use_cases" / use_case,
        tmp_path / "use_cases" / use_case,
        ignore=shutil.ignore_patterns(".promptflow", "__pycache__"),
    )
    if (project / "pf.yaml").is_file():
        shutil.copy(project / "pf.yaml", tmp_path / "pf.yaml")
    env = {key: value for key, value in os.environ.items() if key not in ISOLATE}
    command = [sys.executable, "-m", "llmops", "experiment", "--offline", "--env", "pr"]
    result = subprocess.run(
        [*command, "--use-case", use_case],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = tmp_path / "reports" / use_case
    with (report / "metrics.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "metrics.csv has no metric rows"
    assert all(math.isfinite(float(row["value"])) for row in rows)
    assert (report / "report.html").is_file()
    assert "served 0 request(s)" not in result.stdout  # the flow really called the mock
