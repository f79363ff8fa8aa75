"""Managed by the LLMOps template. Live: the first use case's PR experiment on Azure ML.

Skipped unless ``LLMOPS_LIVE_AZURE=1`` and ``AZURE_SUBSCRIPTION_ID``,
``AZURE_RESOURCE_GROUP`` and ``AZURE_ML_WORKSPACE`` name a real workspace (signed in
with ``az login``) that has the connections the flows use (``infra/`` creates them).
``config/`` and the first use case are copied to a temporary folder; there an
``experiment.live.yaml`` overlay takes the PR overlay's datasets twice (the same files
under a second name), the default variants and ``runtime.concurrent_runs: 2``. Then
``llmops run --target azure``, ``llmops evaluate --target azure`` and ``llmops report``
run as a pipeline would call them. The test checks that two runs were in flight at once
and that the report has a finite value for every metric. Expect 10-30 minutes of
serverless compute; nothing is deployed and the project's own files are untouched.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops.paths import list_use_cases

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_VARIABLES = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_ML_WORKSPACE")
LIVE = os.environ.get("LLMOPS_LIVE_AZURE") == "1" and all(
    os.environ.get(name) for name in WORKSPACE_VARIABLES
)
ISOLATE = ("PF_HOME_DIRECTORY", "PYTHON_KEYRING_BACKEND", "KEYRING_PROPERTY_FILE_PATH", "ENV_NAME")
AGAIN = "_again"
SUBMITTED = re.compile(r"^\[azure\] \S+: submitted")
RUN_ENDED = re.compile(r"^\[run\] \S+: (Completed|Failed|Canceled)")

# `--target azure` runs on prompt flow's Azure client: skipped in Agent Framework projects.
pytestmark = [
    pytest.mark.promptflow,
    pytest.mark.skipif(
        not LIVE,
        reason="live Azure experiment: set LLMOPS_LIVE_AZURE=1 and "
        + ", ".join(WORKSPACE_VARIABLES),
    ),
]


def read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_live_overlay(case: Path) -> None:
    """``experiment.live.yaml``: the PR datasets twice, default variants, two runs at a time."""
    base, overlay = read(case / "experiment.yaml"), read(case / "experiment.pr.yaml")
    datasets = overlay.get("datasets", base["datasets"])
    evaluators = overlay.get("evaluators", base.get("evaluators") or [])
    doubled = {dataset["name"] for dataset in datasets}

    def again(entry: dict[str, Any]) -> dict[str, Any]:
        twin = {**copy.deepcopy(entry), "name": entry["name"] + AGAIN}
        if entry.get("reference") in doubled:
            twin["reference"] = entry["reference"] + AGAIN
        return twin

    live = {
        key: value
        for key, value in overlay.items()
        if key not in ("datasets", "evaluators", "variants", "runtime")
    }
    live["variants"] = "defaults"
    live["runtime"] = {**overlay.get("runtime", {}), "concurrent_runs": 2}
    live["datasets"] = [*datasets, *(again(dataset) for dataset in datasets)]
    live["evaluators"] = [
        {**evaluator, "datasets": [*evaluator["datasets"], *map(again, evaluator["datasets"])]}
        for evaluator in evaluators
    ]
    text = yaml.safe_dump(live, sort_keys=False)
    (case / "experiment.live.yaml").write_text(text, encoding="utf-8")


def test_first_use_case_runs_on_azure_two_at_a_time(tmp_path: Path) -> None:
    use_case = list_use_cases(ROOT)[0]
    shutil.copytree(ROOT / "config", tmp_path / "config")
    case = tmp_path / "use_cases" / use_case
    shutil.copytree(
        ROOT / "use_cases" / use_case,
        case,
        ignore=shutil.ignore_patterns(".promptflow", "__pycache__"),
    )
    write_live_overlay(case)
    env = {key: value for key, value in os.environ.items() if key not in ISOLATE}
    output = ""
    for command in (
        ["run", "--target", "azure"],
        ["evaluate", "--target", "azure"],
        ["report"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "llmops", *command, "--use-case", use_case, "--env", "live"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=3 * 3600,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        output += result.stdout

    lines = output.splitlines()
    submitted = [i for i, line in enumerate(lines) if SUBMITTED.match(line)]
    finished = [i for i, line in enumerate(lines) if RUN_ENDED.match(line)]
    assert len(submitted) >= 2 and finished, output
    assert submitted[1] < finished[0], "the second run was submitted after the first ended"
    with (tmp_path / "reports" / use_case / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(math.isfinite(float(row["value"])) for row in rows), rows
    datasets = {row["dataset"] for row in rows}
    assert {name + AGAIN for name in datasets if not name.endswith(AGAIN)} <= datasets, datasets
