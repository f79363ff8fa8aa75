"""Bad answers are rejected before anything is written, with a message naming the question."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from conftest import DEFAULT_ANSWERS, REPO_ROOT

AOAI = {
    "name": "aoai",
    "type": "azure_openai",
    "api_version": "2024-10-21",
    "deployment": "gpt-4o-mini",
}

BAD_ANSWERS: dict[str, tuple[dict[str, Any], str, str]] = {
    "empty project name": ({"project_name": ""}, "project_name", "Give the project a name"),
    "project name with slash": ({"project_name": "Bad/Name"}, "project_name", "only letters"),
    "project name starting with digit": (
        {"project_name": "9lives"},
        "project_name",
        "Start with a letter",
    ),
    "slug with underscore": ({"project_slug": "bad_slug"}, "project_slug", "lowercase letters"),
    "slug too long": ({"project_slug": "a" * 25}, "project_slug", "3-24 characters"),
    "connection name not identifier": (
        {"connections": [{**AOAI, "name": "my-conn"}]},
        "connections",
        "not a valid identifier",
    ),
    "duplicated connection": (
        {"connections": [AOAI, {**AOAI, "deployment": "gpt-4o"}]},
        "connections",
        "repeats 'aoai'",
    ),
    "unknown connection type": (
        {"connections": [{**AOAI, "type": "anthropic"}]},
        "connections",
        "type 'anthropic' is unknown",
    ),
    "malformed api version": (
        {"connections": [{**AOAI, "api_version": "2024-1-1"}]},
        "connections",
        "is malformed",
    ),
    "secret in connection answer": (
        {"connections": [{**AOAI, "api_key": "sk-live"}]},
        "connections",
        "unknown key(s) api_key",
    ),
    "connections not a list": ({"connections": "aoai"}, "connections", "non-empty YAML list"),
    "same branch twice": (
        {"branch_main": "development"},
        "branch_main",
        "other than the integration",
    ),
    "invalid branch": (
        {"branch_development": "feat..x"},
        "branch_development",
        "not a valid git branch",
    ),
    "branch feeds two environments": (
        {"environments": [{"name": "dev", "branch": "main"}, {"name": "prod", "branch": "main"}]},
        "environments",
        "deploys to both",
    ),
    "environment name too long": (
        {"environments": [{"name": "production", "branch": "main"}]},
        "environments",
        "2-8 lowercase",
    ),
    "no sample flow": ({"sample_flows": []}, "sample_flows", "at least one sample"),
    "zero instances": ({"deploy_instance_count": 0}, "deploy_instance_count", "1-20 instances"),
    "traffic above 100": (
        {"deploy_new_traffic_percent": 101},
        "deploy_new_traffic_percent",
        "from 1 to 100",
    ),
    "not a VM size": (
        {"deploy_aml_instance_type": "DS3"},
        "deploy_aml_instance_type",
        "Azure VM size name",
    ),
    "k8s compute name": (
        {"deploy_targets": ["kubernetes"], "deploy_k8s_compute_name": "1compute"},
        "deploy_k8s_compute_name",
        "starting with a letter",
    ),
    "no deploy target": ({"deploy_targets": []}, "deploy_targets", "at least one"),
    "bad region": ({"azure_location": "West Europe"}, "azure_location", "not an Azure region"),
    "prefix too long": (
        {"azure_resource_prefix": "contosoengineering"},
        "azure_resource_prefix",
        "2-10 lowercase",
    ),
    "state account name": (
        {"tf_state_storage_account": "st-contoso"},
        "tf_state_storage_account",
        "lowercase letters and digits",
    ),
    "placeholder approver": (
        {"approval_manual_validation": True, "approval_notify": "replace@youremail.com"},
        "approval_notify",
        "placeholder",
    ),
    "approval timeout": (
        {
            "approval_manual_validation": True,
            "approval_notify": "ana@fabrikam.io",
            "approval_timeout_minutes": 0,
        },
        "approval_timeout_minutes",
        "1-43200",
    ),
    "cron with six fields": (
        {"update_check_cron": "0 0 6 * * 1"},
        "update_check_cron",
        "not a 5-field cron expression",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answer_is_rejected_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    answers, question, fragment = BAD_ANSWERS[case]
    destination = tmp_path / "project"
    with pytest.raises(ValueError) as raised:
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
    assert f"question '{question}'" in message
    assert fragment in message
    assert not destination.exists()


def test_cli_rejects_a_bad_data_file_without_writing(tmp_path: Path, tools_bin: Path) -> None:
    """The path a user takes: `copier copy --data-file answers.yml` with a bad answer."""
    data_file = tmp_path / "answers.yml"
    data_file.write_text(
        yaml.safe_dump(
            {
                "project_name": "Contoso NER",
                "connections": [{**AOAI, "type": "bedrock"}],
            }
        )
    )
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
    assert result.returncode != 0
    assert "question 'connections'" in result.stderr
    assert "type 'bedrock' is unknown" in result.stderr
    assert not destination.exists()


def test_unknown_python_version_is_rejected(tmp_path: Path) -> None:
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=r"Invalid choice for .python_version.: .3\.9."):
        copier.run_copy(
            str(REPO_ROOT),
            destination,
            data={**DEFAULT_ANSWERS, "python_version": "3.9"},
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )
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
