"""Managed by the LLMOps template. Run and evaluate stages, through a fake engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeEngine

from llmops import cli, cli_azure
from llmops.engine.base import COMPLETED, FAILED, SKIPPED
from llmops.errors import LLMOpsError, ValidationFailed
from llmops.evaluate import evaluate_use_case
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
    with pytest.raises(LLMOpsError, match="AOAI_API_BASE, AOAI_API_KEY"):
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
