"""Managed by the LLMOps template. experiment.yaml loading: overlays and readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

from llmops.config import load_connections, load_experiment
from llmops.errors import LLMOpsError


def case(root: Path) -> Path:
    return root / "use_cases" / "demo"


def test_overlay_replaces_top_level_keys(project: Path) -> None:
    config = load_experiment(case(project), "pr")
    assert [dataset.name for dataset in config.datasets] == ["small"]
    assert config.evaluators == []
    assert config.connections == ["aoai"]  # not in the overlay: kept from experiment.yaml
    assert config.source_file("datasets").name == "experiment.pr.yaml"
    assert config.source_file("connections").name == "experiment.yaml"


def test_without_env_or_overlay_the_base_file_applies(project: Path) -> None:
    assert [d.name for d in load_experiment(case(project), None).datasets] == ["train", "extra"]
    assert [d.name for d in load_experiment(case(project), "dev").datasets] == ["train", "extra"]


@pytest.mark.parametrize("key", ["name", "flow"])
def test_overlay_may_not_set_name_or_flow(project: Path, key: str) -> None:
    write(case(project) / "experiment.pr.yaml", f"{key}: other\n")
    with pytest.raises(LLMOpsError) as caught:
        load_experiment(case(project), "pr")
    assert "use_cases/demo/experiment.pr.yaml" in str(caught.value)
    assert key in str(caught.value)


def test_unknown_key_suggests_the_closest_one(project: Path) -> None:
    text = (
        (case(project) / "experiment.yaml").read_text().replace("    mappings:", "    mapings:", 1)
    )
    write(case(project) / "experiment.yaml", text)
    with pytest.raises(LLMOpsError) as caught:
        load_experiment(case(project), None)
    message = str(caught.value)
    assert "use_cases/demo/experiment.yaml: datasets[0].mapings: unknown key" in message
    assert "did you mean 'mappings'?" in message


def test_error_names_the_overlay_when_the_key_came_from_it(project: Path) -> None:
    write(case(project) / "experiment.pr.yaml", "datasets: []\n")
    with pytest.raises(LLMOpsError) as caught:
        load_experiment(case(project), "pr")
    assert str(caught.value).startswith("use_cases/demo/experiment.pr.yaml: datasets:")


def test_yaml_syntax_error_names_file_and_line(project: Path) -> None:
    write(case(project) / "experiment.yaml", "name: demo\ndatasets:\n  - name: [unclosed\n")
    with pytest.raises(LLMOpsError, match=r"use_cases/demo/experiment\.yaml:\d+: invalid YAML"):
        load_experiment(case(project), None)


def test_connections_file_rejects_unknown_type(project: Path) -> None:
    write(project / "config" / "connections.yaml", "connections:\n  - {name: x, type: azure}\n")
    with pytest.raises(LLMOpsError) as caught:
        load_connections(project)
    message = str(caught.value)
    assert "config/connections.yaml: connections[0].type:" in message
    assert "config/connections.yaml: connections[0].deployment: required key is missing" in message


def test_a_key_in_connections_says_where_secrets_belong(project: Path) -> None:
    """config/connections.yaml is committed: a key there must be refused with the reason."""
    write(
        project / "config" / "connections.yaml",
        "connections:\n  - {name: aoai, type: azure_openai, deployment: d, api_key: sk-live}\n",
    )
    with pytest.raises(LLMOpsError) as caught:
        load_connections(project)
    assert str(caught.value) == (
        "config/connections.yaml: connections[0]: api_key: secrets never go in this tracked "
        "file; set AOAI_API_KEY and AOAI_API_BASE in .env (git-ignored) or as pipeline secrets"
    )
    assert "sk-live" not in str(caught.value)


def gate_errors(project: Path, env: str | None = None) -> list[str]:
    with pytest.raises(LLMOpsError) as caught:
        load_experiment(case(project), env)
    return str(caught.value).splitlines()


def test_malformed_gate_is_reported_at_its_own_key(project: Path) -> None:
    text = (case(project) / "experiment.yaml").read_text()
    text = text.replace(
        "    flow: flows/evaluation\n", '    flow: flows/evaluation\n    gates:\n      f1: "high"\n'
    )
    write(
        case(project) / "experiment.yaml",
        text + 'gates:\n  match.f1: ">= 0.5"\n  match.recall: "at least 0.5"\n  f1: "> 0"\n',
    )
    assert gate_errors(project) == [
        "use_cases/demo/experiment.yaml: evaluators[0].gates.f1: 'high' is not a gate "
        'condition: write an operator and a number, for example ">= 0.7" '
        "(operators: >=, >, <=, <, ==)",
        "use_cases/demo/experiment.yaml: gates.match.recall: 'at least 0.5' is not a gate "
        'condition: write an operator and a number, for example ">= 0.7" '
        "(operators: >=, >, <=, <, ==)",
        "use_cases/demo/experiment.yaml: gates.f1: gate key 'f1' must be "
        "<evaluator>.<metric>, for example ner_match.exact_match_rate",
    ]


def test_malformed_gate_names_the_file_that_set_it(project: Path) -> None:
    """Gates merge across files, so the overlay's other gate does not move the blame."""
    base = (case(project) / "experiment.yaml").read_text()
    write(case(project) / "experiment.yaml", base + 'gates:\n  match.f1: "=> 0.5"\n')
    write(case(project) / "experiment.pr.yaml", 'gates:\n  match.recall: ">= 0.2"\n')
    (error,) = gate_errors(project, "pr")
    assert error.startswith("use_cases/demo/experiment.yaml: gates.match.f1: '=> 0.5' is not")
