"""Managed by the LLMOps template. `llmops gate` puts its table on the pipeline run's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXPERIMENT, FakeEngine, gated_record, write

from llmops import cli, cli_azure
from llmops.state import save_record

CI_VARIABLES = ("GITHUB_STEP_SUMMARY", "TF_BUILD", "AGENT_TEMPDIRECTORY")


@pytest.fixture
def gated(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo use case whose f1 gate passes for the default and fails for extract.v1."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    write(project / "use_cases/demo/experiment.yaml", EXPERIMENT + 'gates:\n  match.f1: ">= 0.7"\n')
    save_record(project, gated_record(0.8, 0.4))
    return project


def test_github_step_summary_gets_the_table_appended(
    gated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "step-summary.md"
    page.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(page))
    assert cli.main(["gate"]) == 1
    lines = page.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["earlier step", "### Quality gates: demo", ""]
    assert lines[3] == "1 of 2 gate check(s) failed: match.f1 (extract.v1)"
    assert "| result | gate | condition | value | variant | dataset | note |" in lines
    assert "| PASS | match.f1 | >= 0.7 | 0.8 | default | train |  |" in lines
    assert "| FAIL | match.f1 | >= 0.7 | 0.4 | extract.v1 | train |  |" in lines


def test_azure_devops_gets_an_uploaded_summary_file(
    gated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    monkeypatch.setenv("AGENT_TEMPDIRECTORY", str(tmp_path))
    assert cli.main(["gate"]) == 1
    page = tmp_path / "llmops-gates-demo.md"
    assert f"##vso[task.uploadsummary]{page.resolve()}" in capsys.readouterr().out.splitlines()
    assert "| FAIL | match.f1 | >= 0.7 | 0.4 | extract.v1 | train |  |" in page.read_text()


def test_outside_ci_nothing_is_written(
    gated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {path for path in gated.rglob("*")}
    assert cli.main(["gate"]) == 1
    assert "##vso" not in capsys.readouterr().out
    assert {path for path in gated.rglob("*")} == before


@pytest.mark.usefixtures("secrets")
def test_the_experiment_command_leaves_the_summary_to_the_gate_step(
    gated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pipelines run `experiment` then `gate`: one table per use case on the page, not two."""
    page = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(page))
    fake = FakeEngine()
    monkeypatch.setattr(cli, "get_engine", lambda **_kwargs: fake)
    monkeypatch.setattr(cli_azure, "get_engine", lambda **_kwargs: fake)
    cli.main(["experiment"])
    assert not page.exists()
    cli.main(["gate"])
    assert page.read_text(encoding="utf-8").count("### Quality gates: demo") == 1
