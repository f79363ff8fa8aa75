"""Managed by the LLMOps template. Validation finds mistakes before any LLM call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EVALUATION_FLOW, EXPERIMENT, FakeEngine, write

from llmops import cli, cli_azure
from llmops.engine import get_engine
from llmops.errors import ValidationFailed
from llmops.run import run_use_case
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


FLEX_ENTRY = "def extract(text: str, entity_type: str) -> dict:\n    return {'entities': []}\n"


@pytest.mark.parametrize(
    ("flex_yaml", "expected"),
    [
        ("entry: extract:extract\n", []),  # outputs not declared: unknown, not an error
        (
            "entry: extract:extract\noutputs:\n  found:\n    type: list\n",
            ["'entities' is not an output of the standard flow"],
        ),
    ],
)
def test_flex_flow_outputs_are_checked_only_when_declared(
    project: Path, flex_yaml: str, expected: list[str]
) -> None:
    """A flex flow returning a dict without declaring outputs must not fail validation."""
    standard = project / "use_cases" / "demo" / "flows" / "standard"
    (standard / "flow.dag.yaml").unlink()
    write(standard / "flow.flex.yaml", flex_yaml)
    write(standard / "extract.py", FLEX_ENTRY)
    found = problems(project)
    assert len(found) == len(expected), found
    for problem, fragment in zip(found, expected, strict=True):
        assert fragment in problem


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


def jsonl(*items: dict[str, object]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


GOOD = {"text": "Lisbon is sunny.", "entity_type": "location", "results": ["Lisbon"]}


def test_every_line_is_checked_for_every_mapped_column(project: Path) -> None:
    """A line without a mapped column would feed `nan` to the flow; line 812 is past any sample."""
    lines = [GOOD] * 1000
    lines[811] = {"entity_type": "location", "results": []}  # line 812: no text
    lines[899] = {"text": "Tom Lee.", "entity_type": "person"}  # line 900: no results
    write(project / "use_cases/demo/data/train.jsonl", jsonl(*lines))
    assert problems(project) == [
        "use_cases/demo/data/train.jsonl:812: no column 'text' (mapped by flow input 'text')",
        "use_cases/demo/data/train.jsonl:900: no column 'results' "
        "(mapped by evaluator 'match' input 'ground_truth')",
    ]


def test_line_problems_are_capped_per_file_and_reading_goes_on(project: Path) -> None:
    """Past a malformed line the file is still read; five problems shown, the rest counted."""
    lines = [json.dumps(GOOD if number % 2 else {"text": "x"}) for number in range(1, 201)]
    lines[2] = "{oops"
    write(project / "use_cases/demo/data/extra.jsonl", "\n".join(lines) + "\n")
    assert problems(project) == [
        "use_cases/demo/data/extra.jsonl:2: no column 'entity_type' "
        "(mapped by flow input 'entity_type')",
        "use_cases/demo/data/extra.jsonl:3: not valid JSON (Expecting property name enclosed "
        "in double quotes)",
        "use_cases/demo/data/extra.jsonl:4: no column 'entity_type' "
        "(mapped by flow input 'entity_type')",
        "use_cases/demo/data/extra.jsonl:6: no column 'entity_type' "
        "(mapped by flow input 'entity_type')",
        "use_cases/demo/data/extra.jsonl:8: no column 'entity_type' "
        "(mapped by flow input 'entity_type')",
        "use_cases/demo/data/extra.jsonl: and 96 more line(s) with problems",
    ]


def test_a_line_that_is_not_utf8_is_named(project: Path) -> None:
    good = jsonl(GOOD).encode()
    latin1 = '{"text": "Café", "entity_type": "place", "results": []}\n'.encode("latin-1")
    (project / "use_cases/demo/data/train.jsonl").write_bytes(good + latin1 + good)
    assert problems(project) == ["use_cases/demo/data/train.jsonl:2: not UTF-8 text"]


FLOW_WITH_AGGREGATION = (
    EVALUATION_FLOW
    + """\
  - name: aggregate
    type: python
    source: {type: code, path: aggregate.py}
    inputs:
      scores: ${score.output}
    aggregation: true
"""
)


def test_syntax_error_in_a_flow_names_file_and_line(project: Path) -> None:
    flows = project / "use_cases/demo/flows"
    write(flows / "standard/cleanse.py", "def cleanse(raw):\n    return raw\n")
    write(flows / "evaluation/flow.dag.yaml", FLOW_WITH_AGGREGATION)
    write(flows / "evaluation/score.py", 'PATTERN = "\\d+"  # a SyntaxWarning only\n')
    write(flows / "evaluation/aggregate.py", "def aggregate(scores)\n    return scores\n")
    write(flows / "evaluation/lib/helpers.py", "def helper():\nreturn 1\n")
    write(flows / "evaluation/.hidden/scratch.py", "not python\n")
    assert problems(project) == [
        "use_cases/demo/flows/evaluation/aggregate.py:1: syntax error: expected ':'",
        "use_cases/demo/flows/evaluation/lib/helpers.py:2: syntax error: expected an "
        "indented block after function definition on line 1",
    ]


@pytest.mark.usefixtures("secrets")
def test_experiment_stops_at_a_syntax_error_before_any_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / "use_cases/demo/flows/standard/cleanse.py", "def cleanse(raw:\n")
    fake = FakeEngine()
    monkeypatch.setattr(cli, "get_engine", lambda **_kwargs: fake)
    monkeypatch.setattr(cli_azure, "get_engine", lambda **_kwargs: fake)
    assert cli.main(["experiment"]) == 2
    assert (
        "error: use_cases/demo/flows/standard/cleanse.py:1: syntax error: '(' was never closed"
        in capsys.readouterr().err
    )
    assert fake.requests == []
    with pytest.raises(ValidationFailed):
        run_use_case(project, "demo", None, fake)
    assert fake.requests == []


@pytest.mark.parametrize(
    "call",
    ['log_metric(key="f1", value=f1)', 'log_metric(value=f1, key="f1")', 'log_metric("f1", f1)'],
)
def test_gate_metrics_are_read_from_keyword_and_positional_log_metric(
    project: Path, call: str
) -> None:
    flows = project / "use_cases/demo/flows"
    write(flows / "evaluation/flow.dag.yaml", FLOW_WITH_AGGREGATION)
    write(
        flows / "evaluation/aggregate.py",
        "from promptflow.core import log_metric\n\n\ndef aggregate(scores):\n"
        f"    f1 = sum(scores) / len(scores)\n    {call}\n"
        '    log_metric(key="recall", value=1.0)\n',
    )
    edit_experiment(
        project,
        "ground_truth: ${data.results}\n",
        "ground_truth: ${data.results}\n"
        'gates:\n  match.f1: ">= 0.5"\n  match.precision: ">= 0.5"\n',
    )
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: gates.match.precision: evaluator 'match' does not "
        "produce metric 'precision' (its flow logs: f1, recall)"
    ]
