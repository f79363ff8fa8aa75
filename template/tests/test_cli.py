"""Managed by the LLMOps template. The CLI: exit codes and error lines, never tracebacks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeEngine, gated_record, write

from llmops import cli, cli_azure
from llmops.state import save_record


def test_use_cases_prints_one_name_per_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "use_cases/other/experiment.yaml", "name: other\n")
    assert cli.main(["use-cases"]) == 0
    assert capsys.readouterr().out == "demo\nother\n"


def test_several_use_cases_need_a_choice(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project / "use_cases/other/experiment.yaml", "name: other\n")
    assert cli.main(["run"]) == 2
    assert capsys.readouterr().err == (
        "error: this project has several use cases; pick one with --use-case (demo, other)\n"
    )


def test_validate_prints_every_problem(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "use_cases/demo/data/extra.jsonl").unlink()
    write(project / "use_cases/demo/data/train.jsonl", "{broken\n")
    assert cli.main(["validate", "--all"]) == 2
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert all(line.startswith("error: ") for line in errors)
    assert any("train.jsonl:1: not valid JSON" in line for line in errors)
    assert any("extra.jsonl does not exist" in line for line in errors)
    assert "Traceback" not in captured.err
    assert "[validate] demo: FAILED" in captured.out


def test_env_comes_from_dotenv_unless_already_set(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / ".env").write_text("ENV_NAME=pr\nAOAI_API_KEY=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("AOAI_API_KEY", "from-shell")
    assert cli.main(["validate"]) == 0
    assert "(env pr)" in capsys.readouterr().out
    assert os.environ["AOAI_API_KEY"] == "from-shell"


def test_outside_a_project_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["validate"]) == 2
    assert "config/connections.yaml found" in capsys.readouterr().err


def copy_use_case(project: Path, name: str) -> Path:
    """A second use case: the demo one under another folder and experiment name."""
    folder = project / "use_cases" / name
    shutil.copytree(project / "use_cases" / "demo", folder)
    experiment = folder / "experiment.yaml"
    text = experiment.read_text(encoding="utf-8").replace("name: demo", f"name: {name}", 1)
    experiment.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.usefixtures("secrets")
def test_experiment_all_goes_on_past_a_broken_use_case(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One command (one prompt flow start-up) for every use case, as the pipelines run it."""
    write(copy_use_case(project, "broken") / "data" / "train.jsonl", "{broken\n")
    copy_use_case(project, "other")
    fake = FakeEngine()
    monkeypatch.setattr(cli, "get_engine", lambda **_kwargs: fake)
    monkeypatch.setattr(cli_azure, "get_engine", lambda **_kwargs: fake)
    assert cli.main(["experiment", "--all"]) == 2
    out, err = capsys.readouterr()
    assert "use_cases/broken/data/train.jsonl:1: not valid JSON" in err
    assert err.rstrip().splitlines()[-1] == (
        "[experiment] 3 use cases: broken ERROR, demo ok, other ok"
    )
    assert "[experiment] demo" in out and "[experiment] other" in out
    assert {request.name.split("_")[0] for request in fake.requests} == {"demo", "other"}
    assert (project / "reports/demo/report.html").is_file()
    assert (project / "reports/other/report.html").is_file()
    assert not (project / "reports/broken").exists()


def test_gate_all_checks_every_use_case_and_fails_when_one_fails(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = project / "use_cases/demo/experiment.yaml"
    write(experiment, experiment.read_text(encoding="utf-8") + 'gates:\n  match.f1: ">= 0.7"\n')
    copy_use_case(project, "other")
    save_record(project, gated_record(0.9, 0.8, "demo"))
    save_record(project, gated_record(0.5, 0.9, "other"))
    assert cli.main(["gate", "--all"]) == 1
    captured = capsys.readouterr()
    assert "[gate] demo: all 2 gate check(s) passed" in captured.out
    assert "[gate] other: 1 of 2 gate check(s) failed: match.f1 (default)" in captured.err
    assert captured.err.rstrip().splitlines()[-1] == "[gate] 2 use cases: demo ok, other FAILED"


def test_all_and_use_case_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["experiment", "--all", "--use-case", "demo"])
    assert exited.value.code == 2
    assert "not allowed with argument --all" in capsys.readouterr().err
