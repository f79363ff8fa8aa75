"""Managed by the LLMOps template. Shared fixtures: a tiny project on disk and a fake engine."""

from __future__ import annotations

import importlib.util
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llmops.connections import ResolvedConnection
from llmops.engine.base import (
    COMPLETED,
    FAILED,
    FlowSignature,
    NodeVariants,
    Progress,
    RunOutcome,
    RunRequest,
)
from llmops.state import EvaluationRun, RunRecord

CONNECTIONS = """\
connections:
  - name: aoai
    type: azure_openai
    api_version: "2024-10-21"
    deployment: gpt-4o-mini
  - name: oai
    type: openai
    deployment: gpt-4o-mini
"""

EXPERIMENT = """\
name: demo
flow: flows/standard
connections:
  - aoai
datasets:
  - name: train
    source: data/train.jsonl
    mappings:
      text: ${data.text}
      entity_type: ${data.entity_type}
  - name: extra
    source: data/extra.jsonl
    mappings:
      text: ${data.text}
      entity_type: ${data.entity_type}
evaluators:
  - name: match
    flow: flows/evaluation
    datasets:
      - name: train
        mappings:
          entities: ${run.outputs.entities}
          ground_truth: ${data.results}
"""

OVERLAY_PR = """\
datasets:
  - name: small
    source: data/extra.jsonl
    mappings:
      text: ${data.text}
      entity_type: ${data.entity_type}
evaluators: []
"""

STANDARD_FLOW = """\
inputs:
  text:
    type: string
  entity_type:
    type: string
outputs:
  entities:
    type: list
    reference: ${cleanse.output}
nodes:
  - name: extract
    type: llm
    source:
      type: code
      path: prompt.jinja2
    inputs:
      deployment_name: gpt-4o-mini
      text: ${inputs.text}
      entity_type: ${inputs.entity_type}
    connection: aoai
    api: chat
  - name: cleanse
    type: python
    source:
      type: code
      path: cleanse.py
    inputs:
      raw: ${extract.output}
"""

EVALUATION_FLOW = """\
inputs:
  entities:
    type: list
  ground_truth:
    type: list
  strict:
    type: bool
    default: false
outputs:
  f1:
    type: double
    reference: ${score.output}
nodes:
  - name: score
    type: python
    source:
      type: code
      path: score.py
    inputs:
      entities: ${inputs.entities}
"""

TRAIN = """\
{"text": "Maria Garcia met Tom Lee.", "entity_type": "person", "results": ["Maria Garcia"]}
{"text": "The nurse helped the chef.", "entity_type": "job title", "results": ["nurse"]}
"""

EXTRA = """\
{"text": "Lisbon is sunny.", "entity_type": "location", "results": ["Lisbon"]}
"""


def write(path: Path, text: str) -> Path:
    """Write a file, creating folders; text is dedented so tests can indent literals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-use-case project (``use_cases/demo``) in tmp_path, which is also the cwd."""
    write(tmp_path / "config" / "connections.yaml", CONNECTIONS)
    case = tmp_path / "use_cases" / "demo"
    write(case / "experiment.yaml", EXPERIMENT)
    write(case / "experiment.pr.yaml", OVERLAY_PR)
    write(case / "flows" / "standard" / "flow.dag.yaml", STANDARD_FLOW)
    write(case / "flows" / "evaluation" / "flow.dag.yaml", EVALUATION_FLOW)
    write(case / "data" / "train.jsonl", TRAIN)
    write(case / "data" / "extra.jsonl", EXTRA)
    write(
        case / "mock" / "responses.jsonl",
        '{"match": "Maria Garcia met", "reply": "Maria Garcia, Tom Lee"}\n',
    )
    monkeypatch.chdir(tmp_path)
    for name in ("ENV_NAME", "AOAI_API_BASE", "AOAI_API_KEY", "OAI_API_BASE", "OAI_API_KEY"):
        monkeypatch.setenv(name, "")  # recorded, so a value loaded from .env is undone later
        monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def secrets(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection variables as a user would set them (values are never real)."""
    monkeypatch.setenv("AOAI_API_BASE", "https://example.invalid/")
    monkeypatch.setenv("AOAI_API_KEY", "test-key-123")


@dataclass
class FakeEngine:
    """A FlowEngine that runs nothing: it records requests and returns canned results."""

    fail: set[str] = field(default_factory=set)
    """Run names containing one of these strings fail."""
    explode: set[str] = field(default_factory=set)
    """Run names containing one of these strings raise an unexpected exception."""
    lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    name: str = "fake"
    requests: list[RunRequest] = field(default_factory=list)
    connections: list[ResolvedConnection] = field(default_factory=list)
    variants: dict[str, NodeVariants] = field(default_factory=dict)
    """Node variants the standard flow reports (none by default)."""

    def describe(self, flow_dir: Path) -> FlowSignature:
        if flow_dir.name == "evaluation":
            return FlowSignature(
                {"entities": False, "ground_truth": False, "strict": True},
                frozenset({"f1"}),
                metrics=frozenset({"f1", "exact_match_rate"}),
            )
        return FlowSignature(
            {"text": False, "entity_type": False},
            frozenset({"entities"}),
            frozenset({"aoai"}),
            variants=self.variants,
        )

    def allows_concurrent_runs(self, executor: str) -> bool:
        return False

    def ensure_connections(self, connections: list[ResolvedConnection]) -> None:
        self.connections = list(connections)

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        self.requests.append(request)
        if progress is not None:
            progress(1)
        if any(part in request.name for part in self.explode):
            raise RuntimeError("engine crashed")
        if any(part in request.name for part in self.fail):
            return RunOutcome(request.name, FAILED, "Failed to run 2/2 lines")
        return RunOutcome(request.name, COMPLETED, details={"lines_completed": 2})

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        for key, value in self.lines.items():
            if key in run_name:
                return value
        return []

    def metrics(self, run_name: str) -> dict[str, float]:
        for key, value in self.scores.items():
            if key in run_name:
                return value
        return {}


# Marker -> the package its tests need. A project installs one flow engine (the
# `flow_engine` answer): promptflow and agent-framework-core cannot share a venv.
ENGINE_PACKAGES = {"promptflow": "promptflow", "agent_framework": "agent_framework"}


def _installed(package: str) -> bool:
    """Whether ``package`` can be imported, without importing it (prompt flow takes seconds)."""
    return importlib.util.find_spec(package) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests of the engine this project does not install, and e2e tests unless asked
    for with ``-m e2e`` (they run real batches, ~30 s)."""
    for marker, package in ENGINE_PACKAGES.items():
        if _installed(package):
            continue
        missing = pytest.mark.skip(reason=f"needs {package}, which this project does not install")
        for item in items:
            if item.get_closest_marker(marker):
                item.add_marker(missing)
    if "e2e" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: real batch runs against the mock LLM; `pytest -m e2e`")
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


def gated_record(f1_default: float, f1_variant: float, use_case: str = "demo") -> RunRecord:
    """A run record with the f1 of the default variant and of ``extract.v1`` (gate tests)."""
    runs = [
        EvaluationRun(
            evaluator="match",
            dataset="train",
            base_run=f"b{i}",
            run_name=f"e{i}",
            status=COMPLETED,
            variant=variant,
            metrics={"f1": value},
        )
        for i, (variant, value) in enumerate([("default", f1_default), ("extract.v1", f1_variant)])
    ]
    return RunRecord(use_case=use_case, experiment=use_case, evaluation_runs=runs)
