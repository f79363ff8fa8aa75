"""Managed by the LLMOps template. `--target azure`: the experiment via prompt flow's Azure client.

A fake stands in for ``promptflow.azure.PFClient`` (same attribute names: ``runs``,
``ml_client.connections``, ``get_details``, ``get_metrics``). The live test at the end
uses the real client and runs only with ``LLMOPS_LIVE_AZURE=1`` and a workspace.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure_fakes import SDK_WARNINGS
from conftest import EXPERIMENT, FakeEngine, write

from llmops.cli_azure import recorded_engine
from llmops.engine import get_engine, prepare_connections, target_of
from llmops.engine.base import COMPLETED, FAILED, RunRequest
from llmops.engine.promptflow_azure import AzurePromptflowEngine
from llmops.errors import LLMOpsError
from llmops.evaluate import evaluate_use_case
from llmops.run import run_use_case
from llmops.state import load_record

# The Azure engine is prompt flow's Azure client: skipped in Agent Framework projects.
pytestmark = [SDK_WARNINGS, pytest.mark.promptflow]


@dataclass
class FakeRuns:
    """``pf.runs`` of the Azure client: statuses advance on every ``get``."""

    statuses: list[str] = field(default_factory=lambda: ["Preparing", "Running", COMPLETED])
    submitted: list[tuple[Any, Any]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)
    error: Exception | None = None

    def create_or_update(self, run: Any, runtime: Any = None) -> Any:
        if self.error:
            raise self.error
        self.submitted.append((run, runtime))
        return run

    def get(self, name: str) -> Any:
        index = self.position.get(name, 0)
        self.position[name] = index + 1
        status = self.statuses[min(index, len(self.statuses) - 1)]
        failure = {"error": {"message": "Line 0 failed: quota exceeded\nmore"}}
        return SimpleNamespace(
            name=name,
            status=status,
            _portal_url=f"https://ml.azure.com/runs/{name}",
            _error=failure if status == FAILED else None,
        )

    def download(self, name: str, output: str, overwrite: bool) -> str:
        folder = Path(output) / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "logs.txt").write_text("ok\n")
        self.downloads.append(name)
        return str(folder)

    def cancel(self, name: str) -> None:
        self.cancelled.append(name)


@dataclass
class FakePFClient:
    """The parts of ``promptflow.azure.PFClient`` the engine uses."""

    runs: FakeRuns = field(default_factory=FakeRuns)
    workspace_connections: set[str] = field(default_factory=lambda: {"aoai"})

    @property
    def ml_client(self) -> Any:
        def get(name: str) -> Any:
            if name not in self.workspace_connections:
                raise KeyError(name)
            return SimpleNamespace(name=name)

        return SimpleNamespace(connections=SimpleNamespace(get=get))

    def get_metrics(self, run: str) -> dict[str, float]:
        return {"f1": 0.75, "label": "x"}  # type: ignore[dict-item]


def engine_for(root: Path, client: FakePFClient, env: str | None = None) -> AzurePromptflowEngine:
    return AzurePromptflowEngine(
        root, env=env, client=client, poll_seconds=0, sleep=lambda _s: None, echo=lambda _l: None
    )


def request(root: Path, name: str = "demo_train") -> RunRequest:
    case = root / "use_cases" / "demo"
    return RunRequest(
        flow_dir=case / "flows" / "standard",
        data=case / "data" / "train.jsonl",
        column_mapping={"text": "${data.text}"},
        name=name,
        workers=4,
    )


def test_the_azure_client_imports_with_the_pinned_sdk() -> None:
    """promptflow-azure reaches into azure-ai-ml internals; a too-new SDK breaks the import."""
    from promptflow.azure import PFClient

    assert callable(PFClient)


def test_get_engine_picks_the_azure_engine(project: Path) -> None:
    engine = get_engine(root=project, target="azure", env="dev")
    assert isinstance(engine, AzurePromptflowEngine) and engine.env == "dev"
    assert target_of(engine.name) == "azure" and target_of("promptflow") == "local"
    with pytest.raises(LLMOpsError, match="unknown run target 'cloud'"):
        get_engine(root=project, target="cloud")


def test_a_run_is_submitted_to_serverless_compute_waited_for_and_downloaded(
    project: Path,
) -> None:
    client = FakePFClient()
    outcome = engine_for(project, client).run(request(project))
    assert outcome.status == COMPLETED
    ((run, runtime),) = client.runs.submitted
    assert runtime is None and run._resources is None  # serverless, service default size
    assert run.environment_variables == {"PF_WORKER_COUNT": "4"}
    assert run.column_mapping == {"text": "${data.text}"}
    assert outcome.details["downloaded"] == ".llmops/azure-runs/demo_train"
    assert outcome.details["log"] == ".llmops/azure-runs/demo_train/logs.txt"
    assert outcome.details["portal_url"].endswith("/demo_train")


def test_a_named_runtime_and_instance_type_come_from_the_experiment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = FakePFClient()
    engine = engine_for(project, client)
    monkeypatch.setattr(engine, "compute_for", lambda _flow: ("ci-runtime", None))
    engine.run(request(project))
    ((run, runtime),) = client.runs.submitted
    assert runtime == "ci-runtime" and run._runtime == "ci-runtime"
    monkeypatch.setattr(engine, "compute_for", lambda _flow: (None, "Standard_E4ds_v4"))
    engine.run(request(project, "demo_train_2"))
    run, runtime = client.runs.submitted[1]
    assert runtime is None and run._resources == {"instance_type": "Standard_E4ds_v4"}


def test_failures_are_outcomes_with_the_service_message(project: Path) -> None:
    client = FakePFClient(runs=FakeRuns(statuses=["Running", FAILED]))
    outcome = engine_for(project, client).run(request(project))
    assert (outcome.status, outcome.error) == (FAILED, "Line 0 failed: quota exceeded")
    client = FakePFClient(runs=FakeRuns(error=RuntimeError("data upload denied")))
    outcome = engine_for(project, client).run(request(project))
    assert (outcome.status, outcome.error) == (FAILED, "data upload denied")


def test_a_run_that_never_ends_is_cancelled(project: Path) -> None:
    client = FakePFClient(runs=FakeRuns(statuses=["Running"]))
    engine = engine_for(project, client)
    engine.timeout_seconds = 0
    outcome = engine.run(request(project))
    assert outcome.status == FAILED and "cancel requested" in outcome.error
    assert client.runs.cancelled == ["demo_train"]


def test_workspace_connections_are_checked_by_name_without_local_secrets(
    project: Path,
) -> None:
    assert "AOAI_API_KEY" not in os.environ  # the conftest project clears it
    engine = engine_for(project, FakePFClient())
    prepare_connections(engine, ["aoai"], project)  # no LLMOpsError about AOAI_API_KEY
    with pytest.raises(LLMOpsError, match=r"workspace connection\(s\) judge not found"):
        prepare_connections(engine_for(project, FakePFClient()), ["aoai", "judge"], project)


def test_missing_workspace_settings_stop_before_any_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_ML_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    engine = AzurePromptflowEngine(project)
    with pytest.raises(LLMOpsError, match="--target azure needs the environment variable"):
        run_use_case(project, "demo", None, engine, echo=lambda _l: None)


def test_run_records_the_azure_engine_and_evaluate_must_match(project: Path) -> None:
    client = FakePFClient()
    engine = engine_for(project, client)
    engine.describe = FakeEngine().describe  # type: ignore[method-assign]
    record = run_use_case(project, "demo", None, engine, echo=lambda _l: None)
    assert record.engine == "promptflow-azure"
    assert load_record(project, "demo").engine == "promptflow-azure"
    assert {run.status for run in record.standard_runs} == {COMPLETED}
    with pytest.raises(LLMOpsError, match="pass the same --target"):
        evaluate_use_case(project, "demo", None, FakeEngine(), echo=lambda _l: None)
    reader = recorded_engine(project, "demo", None)  # what `llmops report` uses
    assert isinstance(reader, AzurePromptflowEngine)
    reader._client = client
    assert reader.metrics("any") == {"f1": 0.75}  # numeric metrics only, read from Azure


@dataclass
class OverlapWatchingRuns(FakeRuns):
    """Runs stay Running until ``together`` have been submitted; counts overlapping calls."""

    together: int = 2
    inside: int = 0
    most_inside: int = 0

    def _enter(self) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.005)  # widen the window in which a second thread could come in
        self.inside -= 1

    def create_or_update(self, run: Any, runtime: Any = None) -> Any:
        self._enter()
        return super().create_or_update(run, runtime)

    def get(self, name: str) -> Any:
        self._enter()
        status = COMPLETED if len(self.submitted) >= self.together else "Running"
        return SimpleNamespace(name=name, status=status, _portal_url=None, _error=None)

    def download(self, name: str, output: str, overwrite: bool) -> str:
        self._enter()
        return super().download(name, output, overwrite)


def test_azure_runs_wait_together_but_never_call_the_client_at_once(project: Path) -> None:
    """concurrent_runs overlaps the minutes an Azure run waits, not the SDK calls."""
    write(
        project / "use_cases/demo/experiment.yaml", EXPERIMENT + "runtime:\n  concurrent_runs: 2\n"
    )
    runs = OverlapWatchingRuns(together=2)
    engine = AzurePromptflowEngine(
        project,
        client=FakePFClient(runs=runs),
        poll_seconds=0.01,
        timeout_seconds=5,  # one after another, the first run would wait for the second
        sleep=time.sleep,
        echo=lambda _line: None,
    )
    engine.describe = FakeEngine().describe  # type: ignore[method-assign]
    lines: list[str] = []
    record = run_use_case(project, "demo", None, engine, echo=lines.append)
    assert [run.status for run in record.standard_runs] == [COMPLETED, COMPLETED], lines
    assert lines[0].endswith("2 runs at a time")
    assert runs.most_inside == 1
    assert sorted(runs.downloads) == sorted(run.run_name for run in record.standard_runs)


@pytest.mark.skipif(
    os.environ.get("LLMOPS_LIVE_AZURE") != "1",
    reason="live Azure test: set LLMOPS_LIVE_AZURE=1 and AZURE_* for a real workspace",
)
def test_live_workspace_answers_read_only_calls() -> None:
    from llmops.azure import connect, settings_from_env

    services = connect(settings_from_env())
    assert services.ml.get_endpoint("llmops-live-test-absent") is None
    assert services.ml.data_versions("llmops-live-test-absent") == []
