"""Managed by the LLMOps template. The Agent Framework engine on literal use cases.

Checks that read manifests and prompts (validate) need no engine package and run in
every project; runs need agent-framework (and azure-ai-evaluation for built-ins) and
are skipped where the project installs prompt flow instead.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import write

from llmops import cli
from llmops.engine import get_engine
from llmops.validate import validate_use_case

AF_EXPERIMENT = """\
name: af
flow: flows/standard
connections:
  - aoai
variants: one_factor
runtime:
  workers: 2
datasets:
  - name: train
    source: data/train.jsonl
    mappings:
      title: ${data.title}
evaluators:
  - name: accuracy
    flow: flows/evaluation
    datasets:
      - name: train
        mappings:
          prediction: ${run.outputs.category}
          label: ${data.label}
    gates:
      accuracy: ">= 0.5"
"""

WORKFLOW_YAML = """\
workflow: workflow.py:build_workflow
inputs:
  title: {type: string}
  tone: {type: string, default: plain}
outputs:
  category: the category picked
nodes:
  classify:
    connection: aoai
    prompt: classify.jinja2
    options: {temperature: 0, max_tokens: 5}
    default_variant: v0
    variants:
      v0: {}
      v1: {prompt: classify_brief.jinja2, options: {temperature: 0.5}}
"""

WORKFLOW_PY = """\
from typing import Any

from agent_framework import Workflow, WorkflowBuilder, WorkflowContext, executor
from typing_extensions import Never

from llmops.workflow import LineContext


def build_workflow(line: LineContext) -> Workflow:
    @executor(id="classify")
    async def classify(inputs: dict[str, Any], ctx: WorkflowContext[str]) -> None:
        if inputs["title"] == "explode":
            raise ValueError("this title breaks the flow")
        await ctx.send_message(await line.complete("classify", title=inputs["title"]))

    @executor(id="tidy")
    async def tidy(answer: str, ctx: WorkflowContext[Never, dict[str, Any]]) -> None:
        await ctx.yield_output({"category": answer.strip().title()})

    return WorkflowBuilder(name="af", start_executor=classify).add_edge(classify, tidy).build()
"""

PROMPT = "# system:\nPick a category.\n\n# user:\nTitle: {{ title }}\n"
PROMPT_BRIEF = "# system:\nCategory?\n\n# user:\n{{ title }}\n"

EVALUATOR_YAML = """\
function: score.py:score
inputs:
  prediction: {type: string}
  label: {type: string}
outputs: [correct]
aggregate:
  function: score.py:aggregate
  metrics: [accuracy]
"""

SCORE_PY = """\
def score(prediction: str, label: str) -> dict[str, int]:
    return {"correct": int(prediction.lower() == label.lower())}


def aggregate(rows: list[dict[str, int]]) -> dict[str, float]:
    return {"accuracy": round(sum(row["correct"] for row in rows) / max(len(rows), 1), 4)}
"""

TRAIN = """\
{"title": "Berlin marathon record", "label": "Sports"}
{"title": "New phone chip", "label": "Technology"}
{"title": "Stocks rally", "label": "Finance"}
"""

FIXTURES = """\
{"match": "Berlin marathon", "reply": "sports"}
{"match": "phone chip", "reply": "technology"}
{"match": "Stocks rally", "reply": "travel"}
"""


@pytest.fixture
def af_case(project: Path) -> Path:
    """``use_cases/af``: a two-executor workflow with variants and a code evaluator."""
    case = project / "use_cases" / "af"
    write(case / "experiment.yaml", AF_EXPERIMENT)
    write(case / "flows" / "standard" / "workflow.yaml", WORKFLOW_YAML)
    write(case / "flows" / "standard" / "workflow.py", WORKFLOW_PY)
    write(case / "flows" / "standard" / "classify.jinja2", PROMPT)
    write(case / "flows" / "standard" / "classify_brief.jinja2", PROMPT_BRIEF)
    write(case / "flows" / "evaluation" / "evaluator.yaml", EVALUATOR_YAML)
    write(case / "flows" / "evaluation" / "score.py", SCORE_PY)
    write(case / "data" / "train.jsonl", TRAIN)
    write(case / "mock" / "responses.jsonl", FIXTURES)
    return case


def problems(project: Path) -> list[str]:
    return validate_use_case(project, "af", None, get_engine(root=project))


def test_a_valid_agent_framework_use_case_validates(af_case: Path) -> None:
    assert problems(af_case.parent.parent) == []


def test_a_manifest_key_typo_names_file_and_key(af_case: Path) -> None:
    manifest = af_case / "flows" / "standard" / "workflow.yaml"
    manifest.write_text(WORKFLOW_YAML.replace("options: {temperature: 0,", "option: {t: 0,"))
    found = problems(af_case.parent.parent)
    assert any(
        "use_cases/af/flows/standard/workflow.yaml: nodes.classify.option" in line
        and "unknown key" in line
        for line in found
    ), found


def test_a_mapping_to_an_input_the_manifest_lacks_is_refused(af_case: Path) -> None:
    experiment = af_case / "experiment.yaml"
    experiment.write_text(AF_EXPERIMENT.replace("title: ${data.title}", "heading: ${data.title}"))
    found = "\n".join(problems(af_case.parent.parent))
    assert "flow input 'title' has no default and is not mapped" in found
    assert "heading" in found


def test_a_variant_naming_a_missing_prompt_file_is_refused(af_case: Path) -> None:
    manifest = af_case / "flows" / "standard" / "workflow.yaml"
    manifest.write_text(WORKFLOW_YAML.replace("classify_brief.jinja2", "brief.jinja2"))
    found = "\n".join(problems(af_case.parent.parent))
    assert "use_cases/af/flows/standard/brief.jinja2: prompt file not found" in found


def test_an_experiment_variant_of_an_unknown_node_is_refused(af_case: Path) -> None:
    experiment = af_case / "experiment.yaml"
    experiment.write_text(AF_EXPERIMENT.replace("variants: one_factor", "variants: [summary.v1]"))
    found = "\n".join(problems(af_case.parent.parent))
    assert "summary" in found and "variants" in found


def test_a_prompt_syntax_error_names_the_file_and_line(af_case: Path) -> None:
    prompt = af_case / "flows" / "standard" / "classify.jinja2"
    prompt.write_text("# system:\nPick one.\n\n# user:\nTitle: {{ title }\n")
    found = "\n".join(problems(af_case.parent.parent))
    assert "use_cases/af/flows/standard/classify.jinja2:5: Jinja2 syntax error" in found


def test_a_prompty_syntax_error_counts_front_matter_lines(af_case: Path) -> None:
    folder = af_case / "flows" / "standard"
    write(
        folder / "classify.prompty", "---\nmodel:\n  parameters: {max_tokens: 5}\n---\n{% if %}\n"
    )
    manifest = folder / "workflow.yaml"
    manifest.write_text(
        WORKFLOW_YAML.replace("prompt: classify.jinja2", "prompt: classify.prompty")
    )
    found = "\n".join(problems(af_case.parent.parent))
    assert "use_cases/af/flows/standard/classify.prompty:5: Jinja2 syntax error" in found


def test_a_judge_without_a_judge_connection_is_refused(af_case: Path) -> None:
    write(af_case / "flows" / "evaluation" / "evaluator.yaml", "builtin: relevance\n")
    found = "\n".join(problems(af_case.parent.parent))
    assert "use_cases/af/flows/evaluation/evaluator.yaml" in found
    assert "builtin relevance is an LLM judge: set `judge: <connection>`" in found


def test_a_judge_connection_must_be_listed_by_the_experiment(af_case: Path) -> None:
    write(af_case / "flows" / "evaluation" / "evaluator.yaml", "builtin: relevance\njudge: oai\n")
    found = "\n".join(problems(af_case.parent.parent))
    assert "connection(s) oai" in found


def test_a_gate_on_a_metric_the_evaluator_does_not_produce_is_refused(af_case: Path) -> None:
    experiment = af_case / "experiment.yaml"
    experiment.write_text(AF_EXPERIMENT.replace('accuracy: ">= 0.5"', 'acuracy: ">= 0.5"'))
    found = "\n".join(problems(af_case.parent.parent))
    assert "acuracy" in found and "accuracy" in found


# --- runs (need the Agent Framework packages) -----------------------------------------


def experiment(project: Path) -> tuple[int, list[dict[str, str]]]:
    code = cli.main(["experiment", "--offline", "--use-case", "af"])
    path = project / "reports" / "af" / "metrics.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8"))) if path.is_file() else []
    return code, rows


def lines_of(project: Path, prefix: str) -> list[dict]:
    (folder,) = [
        path for path in (project / ".llmops" / "af-runs").iterdir() if path.name.startswith(prefix)
    ]
    return [json.loads(line) for line in (folder / "lines.jsonl").read_text().splitlines()]


def test_an_experiment_runs_variants_evaluates_and_gates(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    code, rows = experiment(project)
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    accuracy = {row["variant"]: float(row["value"]) for row in rows if row["metric"] == "accuracy"}
    assert accuracy == {"default": 0.6667, "classify.v1": 0.6667}
    line = lines_of(project, "af_classify-v1_train")[0]
    assert line["outputs"] == {"category": "Sports"}
    assert line["usage"]["llm_calls"] == 1 and line["usage"]["prompt_tokens"] > 0
    assert line["usage"]["completion_tokens"] == 1
    usage_csv = project / "reports" / "af" / "usage.csv"
    usage = {row["variant"]: row for row in csv.DictReader(usage_csv.open(encoding="utf-8"))}
    assert set(usage) == {"default", "classify.v1"}
    assert usage["default"]["lines"] == "3" and usage["default"]["completion_tokens"] == "3"
    assert float(usage["default"]["latency_p95"]) >= float(usage["default"]["latency_p50"]) > 0
    assert "Tokens and latency" in (project / "reports" / "af" / "report.html").read_text()


def test_a_failing_line_is_recorded_and_the_run_goes_on(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    data = af_case / "data" / "train.jsonl"
    data.write_text(TRAIN + '{"title": "explode", "label": "Sports"}\n')
    experiment(project)
    output = capsys.readouterr().out
    assert "(3/4 lines" in output
    assert "line 3: use_cases/af/flows/standard/workflow.py:13: ValueError: this title breaks" in (
        output
    )


def test_a_factory_that_raises_names_the_user_code_line(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    code_file = af_case / "flows" / "standard" / "workflow.py"
    code_file.write_text(
        WORKFLOW_PY.replace(
            '    @executor(id="classify")',
            '    raise RuntimeError("no workflow today")\n\n    @executor(id="classify")',
        )
    )
    code, _ = experiment(project)
    output = capsys.readouterr()
    assert code != 0
    text = output.out + output.err
    assert "af_train_" in text and "Failed" in text
    assert (
        "3 of 3 line(s) failed: lines 0, 1, 2: the workflow factory failed: "
        "use_cases/af/flows/standard/workflow.py:10: RuntimeError: no workflow today" in text
    )
    assert "Traceback" not in text


def test_a_workflow_without_a_declared_output_fails_its_lines(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    code_file = af_case / "flows" / "standard" / "workflow.py"
    code_file.write_text(WORKFLOW_PY.replace('{"category":', '{"label":'))
    experiment(project)
    text = capsys.readouterr().out
    assert "the workflow's output lacks category (workflow.yaml declares it)" in text


def test_an_unreadable_judge_answer_fails_the_line_loudly(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("azure.ai.evaluation")
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    write(af_case / "flows" / "evaluation" / "evaluator.yaml", "builtin: relevance\njudge: aoai\n")
    experiment_file = af_case / "experiment.yaml"
    experiment_file.write_text(
        AF_EXPERIMENT.replace(
            "prediction: ${run.outputs.category}", "response: ${run.outputs.category}"
        )
        .replace("label: ${data.label}", "query: ${data.title}")
        .replace('accuracy: ">= 0.5"', 'relevance: ">= 1"')
    )
    fixtures = af_case / "mock" / "responses.jsonl"
    # A JSON reply pins the judge's verdict: here one without a score.
    fixtures.write_text(
        FIXTURES + '{"match": "Stocks rally", "reply": "{\\"reason\\": \\"hm\\"}"}\n'
    )
    experiment(project)
    text = capsys.readouterr().out
    assert "relevance: the score is" in text and "not a number from 1 to 5" in text
    assert "(2/3 lines" in text


def test_a_prompt_flow_venv_runs_agent_framework_use_cases_in_the_side_venv(
    af_case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the packages here, each run goes to ``.venv-af``'s Python (here: this one)."""
    import sys

    from llmops.engine import agent_framework

    project = af_case.parent.parent
    side = write(
        project / ".venv-af" / "bin" / "python", f'#!/bin/sh\nexec {sys.executable} "$@"\n'
    )
    side.chmod(0o755)
    here = agent_framework.packages_installed()
    monkeypatch.setattr(agent_framework, "packages_installed", lambda: False)
    experiment_file = af_case / "experiment.yaml"
    experiment_file.write_text(AF_EXPERIMENT.replace("variants: one_factor", "variants: defaults"))
    from llmops.mock_llm import offline_connections

    with offline_connections(project):
        code = cli.main(["run", "--use-case", "af"])
    text = capsys.readouterr().out
    if here:  # the child has the packages: the run works through it
        assert code == 0, text
        assert "Completed (3/3 lines" in text
        assert lines_of(project, "af_train")[0]["outputs"] == {"category": "Sports"}
    else:  # the child lacks them too: its answer comes back as the run's error
        assert "cannot import agent_framework" in text
    assert "Traceback" not in text


def test_an_azure_target_refuses_agent_framework_flows_by_name(af_case: Path) -> None:
    project = af_case.parent.parent
    engine = get_engine(root=project, target="azure", env="dev")
    found = "\n".join(validate_use_case(project, "af", None, engine))
    assert "use_cases/af/flows/standard is an Agent Framework flow: `--target azure`" in found


def test_a_workflow_reading_an_undeclared_input_names_the_manifest(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    code_file = af_case / "flows" / "standard" / "workflow.py"
    code_file.write_text(WORKFLOW_PY.replace('title=inputs["title"]', 'title=inputs["heading"]'))
    experiment(project)
    text = capsys.readouterr().out
    assert (
        "use_cases/af/flows/standard/workflow.py:14: input 'heading' is not declared in "
        "workflow.yaml `inputs` (declared: title, tone)" in text
    ), text


def test_a_variant_overrides_prompt_and_merges_options_key_by_key() -> None:
    import yaml

    from llmops.engine.af_manifest import WorkflowManifest

    manifest = WorkflowManifest.model_validate(yaml.safe_load(WORKFLOW_YAML))
    node = manifest.nodes["classify"]
    assert node.variant_ids == ("v0", "v1")
    default, brief = node.settings(), node.settings("v1")
    assert (default.prompt, default.options) == (
        "classify.jinja2",
        {"temperature": 0, "max_tokens": 5},
    )
    assert (brief.prompt, brief.options) == (
        "classify_brief.jinja2",
        {"temperature": 0.5, "max_tokens": 5},
    )


def test_a_grid_over_two_nodes_runs_every_combination(
    af_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("agent_framework")
    project = af_case.parent.parent
    manifest = af_case / "flows" / "standard" / "workflow.yaml"
    manifest.write_text(
        WORKFLOW_YAML
        + "  second:\n    connection: aoai\n    prompt: classify.jinja2\n"
        + "    default_variant: a\n    variants: {a: {}, b: {options: {temperature: 1}}}\n"
    )
    experiment_file = af_case / "experiment.yaml"
    experiment_file.write_text(AF_EXPERIMENT.replace("variants: one_factor", "variants: grid"))
    code, rows = experiment(project)
    assert code == 0, capsys.readouterr().out
    assert len({row["variant"] for row in rows}) == 4


def test_an_embedding_node_names_its_deployment_and_no_prompt() -> None:
    from pydantic import ValidationError

    from llmops.engine.af_manifest import LLMNode

    node = LLMNode.model_validate(
        {"kind": "embedding", "connection": "aoai", "deployment": "text-embedding-3-small"}
    )
    assert node.settings().deployment == "text-embedding-3-small"
    for bad in ({"deployment": "e", "prompt": "p.jinja2"}, {}):
        with pytest.raises(ValidationError, match="an embedding node names its `deployment`"):
            LLMNode.model_validate({"kind": "embedding", "connection": "aoai", **bad})


def test_prompts_render_like_prompt_flow_without_blank_lines_from_block_tags(
    tmp_path: Path,
) -> None:
    from llmops.engine.af_prompts import load_prompt

    path = write(
        tmp_path / "items.jinja2",
        "# system:\nList them.\n# user:\nItems:\n{% for x in items %}\n- {{x}}\n{% endfor %}\n",
    )
    messages = load_prompt(path, tmp_path).messages({"items": ["a", "b"]})
    assert messages == [("system", "List them."), ("user", "Items:\n- a\n- b")]


def test_an_unmapped_evaluator_input_gets_its_default(af_case: Path) -> None:
    import asyncio

    from llmops.engine.af_code import flow_package
    from llmops.engine.af_manifest import EvaluatorManifest, load_manifest
    from llmops.engine.af_runner import EvaluationRunner

    project = af_case.parent.parent
    folder = af_case / "flows" / "evaluation"
    write(
        folder / "evaluator.yaml",
        EVALUATOR_YAML.replace(
            "  label: {type: string}",
            "  label: {type: string}\n  strict: {type: bool, default: true}",
        ),
    )
    write(
        folder / "score.py",
        SCORE_PY.replace(
            "def score(prediction: str, label: str)",
            "def score(prediction: str, label: str, strict: bool)",
        ).replace('{"correct":', '{"strict": strict, "correct":'),
    )
    manifest = load_manifest(folder / "evaluator.yaml", project, EvaluatorManifest)
    with flow_package(folder) as package:
        runner = EvaluationRunner(manifest, folder, project, package, {})
        line = asyncio.run(runner({"prediction": "a", "label": "a"}, None))
    assert line["outputs"] == {"strict": True, "correct": 1}


def test_register_flow_and_deploy_name_an_agent_framework_flow_instead_of_failing_late(
    af_case: Path,
) -> None:
    from llmops.config import load_experiment
    from llmops.engine.agent_framework import refuse_outside_local_runs
    from llmops.errors import LLMOpsError
    from llmops.register import register_flow

    config = load_experiment(af_case, None)
    with pytest.raises(LLMOpsError, match="af: flows/standard is an Agent Framework flow"):
        register_flow(None, config, "dev")  # type: ignore[arg-type]  # refused before Azure
    with pytest.raises(LLMOpsError, match="`llmops deploy` handles prompt flow use cases only"):
        refuse_outside_local_runs(af_case / "flows" / "standard", "flows/standard", "deploy")
