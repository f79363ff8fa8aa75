"""Managed by the LLMOps template. Register stage: a new version only when the content changed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from azure.ai.ml import load_data, load_model
from azure_fakes import SDK_WARNINGS, FakeML, deploy_project
from conftest import write

from llmops import azure, cli
from llmops.config import ExperimentConfig, load_experiment
from llmops.errors import LLMOpsError
from llmops.register import (
    HASH_TAG,
    find_flow_model,
    folder_hash,
    register_data,
    register_flow,
)

pytestmark = SDK_WARNINGS


def quiet(_line: str) -> None:
    """Progress lines are not under test here."""


@pytest.fixture
def root(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return deploy_project(project, monkeypatch)


def config(root: Path, env: str | None = "dev") -> ExperimentConfig:
    return load_experiment(root / "use_cases" / "demo", env)


def test_data_is_registered_once_per_content(root: Path) -> None:
    ml = FakeML()
    first = register_data(ml, config(root), quiet)
    assert [(r.name, r.version, r.created) for r in first] == [
        ("train", "1", True),
        ("extra", "1", True),
    ]
    assert all(item.tags[HASH_TAG] for versions in ml.data.values() for item in versions)
    again = register_data(ml, config(root), quiet)
    assert [(r.version, r.created) for r in again] == [("1", False), ("1", False)]
    write(root / "use_cases/demo/data/train.jsonl", '{"text": "new", "entity_type": "x"}\n')
    changed = register_data(ml, config(root), quiet)
    assert (changed[0].name, changed[0].version, changed[0].created) == ("train", "2", True)
    creates = [c for c in ml.calls if c[0] == "create_data"]
    assert creates == [
        ("create_data", "train", "1"),
        ("create_data", "extra", "1"),
        ("create_data", "train", "2"),
    ]


def test_reverted_data_reuses_its_earlier_version(root: Path) -> None:
    ml = FakeML()
    data = root / "use_cases/demo/data/extra.jsonl"
    original = data.read_text()
    register_data(ml, config(root), quiet)
    data.write_text(original + '{"text": "more", "entity_type": "x"}\n')
    register_data(ml, config(root), quiet)
    data.write_text(original)
    result = {r.name: r for r in register_data(ml, config(root), quiet)}
    assert (result["extra"].version, result["extra"].created) == ("1", False)


def test_flow_model_is_registered_once_per_content(root: Path) -> None:
    ml = FakeML()
    first = register_flow(ml, config(root), "dev", quiet)
    assert (first.name, first.version, first.created) == ("demo-dev", "1", True)
    model = ml.sent[0]
    assert model.properties["azureml.promptflow.source_flow_id"] == "demo"
    assert model.tags[HASH_TAG] == folder_hash(root / "use_cases/demo/flows/standard")
    flow = root / "use_cases/demo/flows/standard"
    (flow / "__pycache__").mkdir()
    (flow / "__pycache__" / "cache.pyc").write_bytes(b"\0")
    (flow / ".promptflow").mkdir()
    (flow / ".promptflow" / "flow.tools.json").write_text("{}")
    second = register_flow(ml, config(root), "dev", quiet)
    assert (second.version, second.created) == ("1", False)  # caches do not count
    write(flow / "prompt.jinja2", "A better prompt\n")
    third = register_flow(ml, config(root), "dev", quiet)
    assert (third.version, third.created) == ("2", True)
    assert find_flow_model(ml, config(root), "dev").version == "2"


def test_deploy_refuses_a_flow_that_was_not_registered(root: Path) -> None:
    with pytest.raises(LLMOpsError, match="no version with the flow's current content"):
        find_flow_model(FakeML(), config(root), "dev")


def test_dry_runs_print_entities_that_load(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(azure, "connect", pytest.fail)  # a dry run never connects
    assert cli.main(["register-data", "--env", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    documents = [chunk.partition("\n")[2] for chunk in out.split("--- # ")[1:]]
    assert [load_data(io.StringIO(doc)).name for doc in documents] == ["train", "extra"]
    assert cli.main(["register-flow", "--env", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    model = load_model(io.StringIO(out.split("--- # model\n")[1]))
    assert model.name == "demo-dev" and model.type == "custom_model"


def test_register_commands_need_the_workspace(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["register-data", "--env", "dev"]) == 2
    assert "AZURE_SUBSCRIPTION_ID" in capsys.readouterr().err
