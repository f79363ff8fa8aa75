"""Managed by the LLMOps template. The prompt flow engine: offline set-up and flow reading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import write

from llmops.engine import get_engine
from llmops.engine.promptflow_engine import prepare_environment
from llmops.errors import LLMOpsError


def test_environment_keeps_prompt_flow_state_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)
    home = prepare_environment(tmp_path)
    assert home == tmp_path / ".llmops" / "pf-home"
    assert environ["PF_HOME_DIRECTORY"] == str(home)
    assert environ["APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED"] == "true"
    assert environ["PYTHON_KEYRING_BACKEND"] == "keyrings.alt.file.PlaintextKeyring"
    assert environ["KEYRING_PROPERTY_FILE_PATH"] == str(home / "keyring_pass.cfg")
    config = (home / "pf.yaml").read_text()
    assert "enabled: false" in config and "destination: none" in config
    seeded = json.loads((home / "pf_version_check.json").read_text())
    assert seeded["last_check_time"] and seeded["current_version"] == seeded["latest_version"]


def test_a_chosen_keyring_backend_is_respected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"PYTHON_KEYRING_BACKEND": "keyring.backends.macOS.Keyring"}
    monkeypatch.setattr(os, "environ", environ)
    prepare_environment(tmp_path)
    assert environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.macOS.Keyring"
    assert "KEYRING_PROPERTY_FILE_PATH" not in environ


def test_describe_reads_inputs_outputs_and_connections(project: Path) -> None:
    engine = get_engine(root=project)
    standard = engine.describe(project / "use_cases/demo/flows/standard")
    assert standard.inputs == {"text": False, "entity_type": False}
    assert standard.outputs == {"entities"}
    assert standard.connections == {"aoai"}
    evaluation = engine.describe(project / "use_cases/demo/flows/evaluation")
    assert evaluation.required_inputs == ["entities", "ground_truth"]


def test_describe_without_a_flow_file(project: Path) -> None:
    folder = write(project / "use_cases/demo/flows/empty/README.md", "nothing here\n").parent
    with pytest.raises(LLMOpsError, match=r"flows/empty/flow\.dag\.yaml: not found"):
        get_engine(root=project).describe(folder)


def test_unknown_engine_name(project: Path) -> None:
    with pytest.raises(LLMOpsError, match="unknown flow engine 'nope'"):
        get_engine("nope", root=project)
