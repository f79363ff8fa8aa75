"""Managed by the LLMOps template. Run and evaluate stages, through a fake engine."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from conftest import EXPERIMENT, FakeEngine, write

from llmops import cli, cli_azure
from llmops.engine.base import (
    COMPLETED,
    FAILED,
    SKIPPED,
    Progress,
    RunOutcome,
    RunRequest,
)
from llmops.errors import LLMOpsError, ValidationFailed
from llmops.evaluate import evaluate_use_case
from llmops.progress import RichReporter
from llmops.run import run_use_case
from llmops.state import load_record


def quiet(_line: str) -> None:
    """Progress lines are not under test here."""


@pytest.mark.usefixtures("secrets")
def test_a_failed_run_is_recorded_and_the_others_continue(project: Path) -> None:
    engine = FakeEngine(fail={"_train_"})
    record = run_use_case(project, "demo", None, engine, echo=quiet, stamp="20250101_000000")
    assert [request.name for request in engine.requests] == [
        "demo_train_20250101_000000",
        "demo_extra_20250101_000000",
    ]
    assert [(run.dataset, run.status) for run in record.standard_runs] == [
        ("train", FAILED),
        ("extra", COMPLETED),
    ]
    assert load_record(project, "demo").standard_runs[0].error == "Failed to run 2/2 lines"
    assert [conn.name for conn in engine.connections] == ["aoai"]


@pytest.mark.usefixtures("secrets")
def test_an_engine_crash_is_a_failed_run_not_a_crash(project: Path) -> None:
    engine = FakeEngine(explode={"_train_"})
    record = run_use_case(project, "demo", None, engine, echo=quiet)
    assert [run.status for run in record.standard_runs] == [FAILED, COMPLETED]
    assert "engine crashed" in record.standard_runs[0].error


@pytest.mark.usefixtures("secrets")
def test_evaluation_binds_the_standard_run_and_skips_failed_ones(project: Path) -> None:
    run_use_case(project, "demo", None, FakeEngine(), echo=quiet, stamp="1")
    engine = FakeEngine()
    record = evaluate_use_case(project, "demo", None, engine, echo=quiet, stamp="2")
    (request,) = engine.requests
    assert request.base_run == "demo_train_1"
    assert request.column_mapping["entities"] == "${run.outputs.entities}"
    assert record.evaluation_runs[0].status == COMPLETED

    run_use_case(project, "demo", None, FakeEngine(fail={"_train_"}), echo=quiet, stamp="3")
    record = evaluate_use_case(project, "demo", None, FakeEngine(), echo=quiet, stamp="4")
    assert record.evaluation_runs[0].status == SKIPPED


def test_run_validates_before_any_run(project: Path) -> None:
    (project / "use_cases/demo/data/extra.jsonl").unlink()
    engine = FakeEngine()
    with pytest.raises(ValidationFailed, match=r"data/extra\.jsonl does not exist"):
        run_use_case(project, "demo", None, engine, echo=quiet)
    assert engine.requests == []


def test_run_without_secrets_names_the_variables(project: Path) -> None:
    with pytest.raises(LLMOpsError, match=r"missing environment variable\(s\) AOAI_API_BASE:"):
        run_use_case(project, "demo", None, FakeEngine(), echo=quiet)


def test_evaluate_before_run_says_what_to_do(project: Path) -> None:
    with pytest.raises(LLMOpsError, match="run `llmops run --use-case demo` first"):
        evaluate_use_case(project, "demo", None, FakeEngine(), echo=quiet)


@pytest.mark.usefixtures("secrets")
def test_evaluate_refuses_a_different_env_than_the_runs(project: Path) -> None:
    run_use_case(project, "demo", "pr", FakeEngine(), echo=quiet)
    with pytest.raises(LLMOpsError, match="made with --env pr"):
        evaluate_use_case(project, "demo", "dev", FakeEngine(), echo=quiet)


@pytest.mark.usefixtures("secrets")
def test_cli_exit_status_is_1_when_a_run_failed(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeEngine(fail={"_extra_"})
    monkeypatch.setattr(cli, "get_engine", lambda **_kwargs: fake)
    monkeypatch.setattr(cli_azure, "get_engine", lambda **_kwargs: fake)
    assert cli.main(["run"]) == 1
    out, err = capsys.readouterr()
    assert "demo_train_" in out and "Completed" in out
    assert "1 run(s) did not complete: demo_extra_" in err


class TogetherEngine(FakeEngine):
    """A fake engine that may run concurrently; each run waits until ``together`` are in flight.

    The run whose name contains ``last`` ends only after the others have ended, so the
    runs finish in another order than the plan's.
    """

    def __init__(self, together: int, last: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.in_flight = threading.Barrier(together, timeout=30)
        self.last = last
        self.others_ended = threading.Event()

    def allows_concurrent_runs(self, executor: str) -> bool:
        return executor == "threads"

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        self.in_flight.wait()  # broken (so the run fails) unless the runs overlap
        if self.last in request.name:
            assert self.others_ended.wait(timeout=30)
        outcome = super().run(request, progress)
        if self.last not in request.name:
            self.others_ended.set()
        return outcome


def runtime(project: Path, text: str) -> None:
    write(project / "use_cases/demo/experiment.yaml", EXPERIMENT + f"runtime:\n{text}")


@pytest.mark.usefixtures("secrets")
def test_concurrent_runs_overlap_and_are_recorded_in_plan_order(project: Path) -> None:
    runtime(project, "  concurrent_runs: 2\n")
    lines: list[str] = []
    engine = TogetherEngine(2, last="_train_")
    record = run_use_case(project, "demo", None, engine, echo=lines.append, stamp="1")
    assert [(run.dataset, run.status) for run in record.standard_runs] == [
        ("train", COMPLETED),
        ("extra", COMPLETED),
    ]
    assert load_record(project, "demo").standard_runs[0].run_name == "demo_train_1"
    finished = [line for line in lines if ": Completed" in line]
    assert "demo_extra_1" in finished[0] and "demo_train_1" in finished[1]
    assert "2 runs at a time" in lines[0]


class OneAtATime(FakeEngine):
    """A fake engine that notes the thread each run executes in."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[threading.Thread] = set()

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        self.threads.add(threading.current_thread())
        return super().run(request, progress)


class ThreadsOnly(OneAtATime):
    def allows_concurrent_runs(self, executor: str) -> bool:
        return executor == "threads"


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize(
    ("executor", "engine_type"), [("threads", OneAtATime), ("processes", ThreadsOnly)]
)
def test_runs_go_one_at_a_time_unless_the_engine_allows_more(
    project: Path, executor: str, engine_type: type[OneAtATime]
) -> None:
    runtime(project, f"  concurrent_runs: 4\n  executor: {executor}\n")
    engine = engine_type()
    run_use_case(project, "demo", None, engine, echo=quiet)
    assert len(engine.requests) == 2
    assert engine.threads == {threading.current_thread()}  # one after another, in the caller


@pytest.mark.usefixtures("secrets")
def test_the_executor_setting_reaches_every_run(project: Path) -> None:
    engine = FakeEngine()
    run_use_case(project, "demo", None, engine, echo=quiet, stamp="1")
    assert {request.executor for request in engine.requests} == {"threads"}
    runtime(project, "  executor: processes\n")
    engine = FakeEngine()
    run_use_case(project, "demo", None, engine, echo=quiet, stamp="2")
    evaluate_use_case(project, "demo", None, engine, echo=quiet, stamp="3")
    assert {request.executor for request in engine.requests} == {"processes"}
    assert len(engine.requests) == 3


def test_the_stage_bar_adds_up_the_lines_of_runs_in_flight() -> None:
    from rich.console import Console

    output = io.StringIO()
    reporter = RichReporter(Console(file=output, width=100))
    halfway = threading.Barrier(3, timeout=30)
    checked = threading.Barrier(3, timeout=30)

    def run(name: str, lines: int) -> None:
        with reporter.run(name, lines) as progress:
            progress(lines // 2)
            halfway.wait()
            checked.wait()
            progress(lines)

    with reporter.stage("run", 2, 30):
        runs = [threading.Thread(target=run, args=(name, n)) for name, n in (("a", 10), ("b", 20))]
        for thread in runs:
            thread.start()
        halfway.wait()
        stage_bar = reporter._progress.tasks[0]
        assert stage_bar.completed == 15  # 5 of run a + 10 of run b
        checked.wait()
        for thread in runs:
            thread.join(timeout=30)
    assert "run: 2 run(s)" in output.getvalue() and "30/30 lines" in output.getvalue()
