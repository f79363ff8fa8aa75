"""Managed by the LLMOps template. Validation finds mistakes before any LLM call."""

from __future__ import annotations

from pathlib import Path

from conftest import EXPERIMENT, write

from llmops.engine import get_engine
from llmops.validate import validate_use_case


def problems(root: Path, env: str | None = None) -> list[str]:
    return validate_use_case(root, "demo", env, get_engine(root=root))


def edit_experiment(root: Path, old: str, new: str) -> None:
    assert old in EXPERIMENT
    write(root / "use_cases" / "demo" / "experiment.yaml", EXPERIMENT.replace(old, new, 1))


def test_sample_is_valid(project: Path) -> None:
    assert problems(project) == []
    assert problems(project, "pr") == []


def test_missing_column_names_file_key_and_columns(project: Path) -> None:
    edit_experiment(project, "text: ${data.text}", "text: ${data.txt}")
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: datasets[0].mappings.text: column 'txt' is not in "
        "use_cases/demo/data/train.jsonl (columns found: entity_type, results, text)"
    ]


def test_malformed_jsonl_reports_the_line_number(project: Path) -> None:
    write(project / "use_cases/demo/data/train.jsonl", '{"text": "a", "entity_type": "b"}\n{oops\n')
    found = problems(project)
    assert any(p.startswith("use_cases/demo/data/train.jsonl:2: not valid JSON") for p in found)


def test_unmapped_required_input_is_reported(project: Path) -> None:
    edit_experiment(project, "      entity_type: ${data.entity_type}\n", "")
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: datasets[0].mappings: flow input 'entity_type' has "
        "no default and is not mapped (add entity_type: ${data.<column>})"
    ]


def test_mapping_key_that_is_not_a_flow_input(project: Path) -> None:
    edit_experiment(project, "text: ${data.text}", "text: ${data.text}\n      tone: ${data.text}")
    (problem,) = problems(project)
    assert "datasets[0].mappings.tone: 'tone' is not an input of the flow" in problem


def test_unknown_run_output_in_evaluator(project: Path) -> None:
    edit_experiment(project, "${run.outputs.entities}", "${run.outputs.entity}")
    (problem,) = problems(project)
    assert problem.startswith(
        "use_cases/demo/experiment.yaml: evaluators[0].datasets[0].mappings.entities: "
        "'entity' is not an output of the standard flow"
    )
    assert "(outputs: entities)" in problem


def test_evaluator_dataset_must_be_a_standard_dataset(project: Path) -> None:
    edit_experiment(
        project, "      - name: train\n        mappings", "      - name: tran\n        mappings"
    )
    (problem,) = problems(project)
    assert "evaluators[0].datasets[0].name: 'tran' is not a dataset" in problem


def test_missing_files_and_connections_are_all_reported(project: Path) -> None:
    text = EXPERIMENT.replace("data/extra.jsonl", "data/nope.jsonl").replace("- aoai", "- azure")
    text = text.replace("flow: flows/evaluation", "flow: flows/eval")
    write(project / "use_cases/demo/experiment.yaml", text)
    found = "\n".join(problems(project))
    assert "datasets[1].source: file use_cases/demo/data/nope.jsonl does not exist" in found
    assert "connections[0]: 'azure' is not in config/connections.yaml" in found
    assert "evaluators[0].flow: folder use_cases/demo/flows/eval does not exist" in found
    assert "uses connection(s) aoai that the experiment's 'connections' does not list" in found


def test_config_errors_come_back_as_problems(project: Path) -> None:
    write(project / "use_cases/demo/experiment.yaml", "name: demo\n")
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: datasets: required key is missing"
    ]


def test_dataset_names_must_be_unique(project: Path) -> None:
    edit_experiment(project, "  - name: extra\n", "  - name: train\n")
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: datasets[1].name: 'train' is used twice "
        "(names must be unique; they become run names)"
    ]
