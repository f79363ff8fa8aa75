"""Managed by the LLMOps template. The CLI: exit codes and error lines, never tracebacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write

from llmops import cli


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
