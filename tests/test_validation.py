"""Bad answers are rejected before anything is written, with a message naming the question."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier.errors import UserMessageError

from answer_cases import AOAI, BAD_ANSWERS
from conftest import DEFAULT_ANSWERS, REPO_ROOT

# One case per kind of check (text, YAML list, number, choice, multiselect, a question shown
# only after another answer, a check across two answers): Copier itself refuses each. Every
# case of BAD_ANSWERS goes through its question's `when` guard in tests/test_questions.py.
THROUGH_COPIER = (
    "empty project name",
    "slug too long",
    "unknown connection type",
    "zero instances",
    "python version given as a YAML number",
    "unknown sample",
    "unknown flow engine",
    "k8s compute name",
    "placeholder approver",
    "same branch twice",
    "branch feeds two environments",
)


@pytest.mark.parametrize("case", THROUGH_COPIER)
def test_bad_answer_is_rejected_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    """UserMessageError is what Copier's CLI prints as one line; a ValueError is a traceback."""
    answers, question, fragment = BAD_ANSWERS[case]
    destination = tmp_path / "project"
    with pytest.raises(UserMessageError) as raised:
        copier.run_copy(
            str(REPO_ROOT),
            destination,
            data={**DEFAULT_ANSWERS, **answers},
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )
    message = str(raised.value)
    assert message.startswith(f"Validation error for question '{question}': "), message
    assert fragment in message
    assert not destination.exists()


@pytest.mark.parametrize(
    ("answers", "line"),
    [
        (
            {"connections": [{**AOAI, "type": "bedrock"}]},
            "Validation error for question 'connections': Type: azure_openai or openai "
            "(connection 'aoai': type 'bedrock' is unknown).",
        ),
        (
            {"project_name": "Northwind/Claims"},
            "Validation error for question 'project_name': Use letters, digits, ' ', - or _ "
            "('/' is not allowed in 'Northwind/Claims').",
        ),
        (
            {"deploy_instance_count": 0},
            "Validation error for question 'deploy_instance_count': Use 1-20 instances "
            "('0' is not).",
        ),
    ],
)
def test_cli_rejects_a_bad_data_file_in_one_line(
    answers: dict[str, Any], line: str, tmp_path: Path, tools_bin: Path
) -> None:
    """The path of platform automation: `copier copy --data-file answers.yml` with a bad answer
    prints one line naming the question and the rule, no traceback, and writes nothing."""
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump({"project_name": "Contoso NER", **answers}))
    destination = tmp_path / "project"
    result = subprocess.run(
        [
            str(tools_bin / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data-file",
            str(data_file),
            str(REPO_ROOT),
            str(destination),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    # Renders of a dirty working tree (while developing) add Copier's DirtyLocalWarning.
    lines = [
        text
        for text in result.stderr.splitlines()
        if text.strip() and "DirtyLocalWarning" not in text and text.strip() != "warn("
    ]
    assert lines == [line]
    assert not destination.exists()


def test_copy_without_trust_is_refused_and_writes_nothing(tmp_path: Path, tools_bin: Path) -> None:
    """The extensions are code: Copier must ask for --trust (exit code 4) before running them."""
    destination = tmp_path / "project"
    result = subprocess.run(
        [
            str(tools_bin / "copier"),
            "copy",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data",
            "project_name=Contoso NER",
            str(REPO_ROOT),
            str(destination),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 4, result.stderr
    assert "jinja_extensions" in result.stderr
    assert not destination.exists()
