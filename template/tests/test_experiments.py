"""Managed by the LLMOps template. Variants, many-to-many evaluation, gates, overlays, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXPERIMENT, STANDARD_FLOW, FakeEngine, gated_record, write

from llmops import cli
from llmops.config import load_experiment
from llmops.engine import get_engine
from llmops.engine.base import COMPLETED, FAILED, NodeVariants
from llmops.errors import LLMOpsError
from llmops.evaluate import evaluate_use_case
from llmops.gate import check_gates, format_table
from llmops.new_flow import list_samples, new_flow
from llmops.paths import SCHEMA_FILE
from llmops.plan import VariantError, select_variants
from llmops.run import run_use_case
from llmops.validate import validate_use_case

NODES = {
    "extract": NodeVariants(default="v0", ids=("v0", "v1", "v2")),
    "cleanse": NodeVariants(default="plain", ids=("plain", "strict")),
}
VARIANT_NODE = """\
      {name}:
        node:
          type: llm
          source:
            type: code
            path: {name}.jinja2
          inputs:
            deployment_name: gpt-4o-mini
            text: ${{inputs.text}}
          connection: aoai
          api: chat
"""
VARIANT_FLOW = (
    STANDARD_FLOW.split("  - name: extract")[0]
    + "  - name: extract\n    use_variants: true\n  - name: cleanse"
    + STANDARD_FLOW.split("  - name: cleanse")[1]
    + "node_variants:\n  extract:\n    default_variant_id: v0\n    variants:\n"
    + VARIANT_NODE.format(name="v0")
    + VARIANT_NODE.format(name="v1")
)


def quiet(_line: str) -> None:
    """Progress lines are not under test here."""


def case(root: Path) -> Path:
    return root / "use_cases" / "demo"


def problems(root: Path, env: str | None = None) -> list[str]:
    return validate_use_case(root, "demo", env, get_engine(root=root))


def set_experiment(root: Path, text: str) -> None:
    write(case(root) / "experiment.yaml", text)


# --- variant selection -------------------------------------------------------------


def labels(mode: object, cap: int = 25) -> list[str]:
    return [variant.label for variant in select_variants(mode, NODES, cap)]  # type: ignore[arg-type]


def test_defaults_is_one_run() -> None:
    assert labels("defaults") == ["default"]


def test_one_factor_varies_one_node_at_a_time() -> None:
    assert labels("one_factor") == ["default", "extract.v1", "extract.v2", "cleanse.strict"]


def test_grid_is_the_cartesian_product() -> None:
    found = labels("grid")
    assert len(found) == 6
    assert found[0] == "default"
    assert "extract.v2+cleanse.strict" in found


def test_grid_above_the_cap_is_refused_with_advice() -> None:
    with pytest.raises(VariantError, match=r"grid makes 6 variant combinations .*max_variants"):
        labels("grid", cap=5)


def test_explicit_list_is_deduplicated_and_keeps_order() -> None:
    chosen = ["extract.v1", {"extract": "v0", "cleanse": "strict"}, "extract.v1", "extract.v0"]
    assert labels(chosen) == ["extract.v1", "cleanse.strict", "default"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("extract.v9", "node 'extract' has no variant 'v9' (variants: v0, v1, v2)"),
        ("summary.v1", "no node 'summary' has variants (extract, cleanse)"),
    ],
)
def test_unknown_variant_is_named(item: str, message: str) -> None:
    with pytest.raises(VariantError, match=message.replace("(", r"\(").replace(")", r"\)")):
        labels([item])


# --- runs: variants x datasets, evaluation binding -----------------------------------


@pytest.mark.usefixtures("secrets")
def test_every_dataset_runs_once_per_variant_and_carries_the_variant(project: Path) -> None:
    set_experiment(project, EXPERIMENT + "variants: one_factor\n")
    engine = FakeEngine(variants={"extract": NodeVariants("v0", ("v0", "v1"))})
    record = run_use_case(project, "demo", None, engine, echo=quiet, stamp="1", workers=3)
    assert [(r.dataset, r.variant) for r in record.standard_runs] == [
        ("train", "default"),
        ("train", "extract.v1"),
        ("extra", "default"),
        ("extra", "extract.v1"),
    ]
    assert [dict(request.variant) for request in engine.requests] == [{}, {"extract": "v1"}] * 2
    assert {request.workers for request in engine.requests} == {3}
    assert engine.requests[1].name == "demo_extract-v1_train_1"


@pytest.mark.usefixtures("secrets")
def test_evaluators_bind_each_variant_run_and_referenced_datasets(project: Path) -> None:
    write(case(project) / "data/truth.jsonl", '{"gold": ["a"]}\n{"gold": ["b"]}\n')
    text = EXPERIMENT.replace("- aoai\n", "- aoai\nvariants: one_factor\n") + (
        "  - name: judge\n"
        "    flow: flows/evaluation\n"
        "    datasets:\n"
        "      - name: train_truth\n"
        "        source: data/truth.jsonl\n"
        "        reference: train\n"
        "        mappings:\n"
        "          entities: ${run.outputs.entities}\n"
        "          ground_truth: ${data.gold}\n"
    )
    set_experiment(project, text)
    variants = {"extract": NodeVariants("v0", ("v0", "v1"))}
    run_use_case(project, "demo", None, FakeEngine(variants=variants), echo=quiet, stamp="1")
    engine = FakeEngine(variants=variants, scores={"_match_": {"f1": 0.9}})
    record = evaluate_use_case(project, "demo", None, engine, echo=quiet, stamp="2")
    bound = [(r.evaluator, r.dataset, r.variant, r.base_run) for r in record.evaluation_runs]
    assert bound == [
        ("match", "train", "default", "demo_train_1"),
        ("match", "train", "extract.v1", "demo_extract-v1_train_1"),
        ("judge", "train_truth", "default", "demo_train_1"),
        ("judge", "train_truth", "extract.v1", "demo_extract-v1_train_1"),
    ]
    assert engine.requests[2].data.name == "truth.jsonl"  # its own file
    assert record.evaluation_runs[0].metrics == {"f1": 0.9}


@pytest.mark.usefixtures("secrets")
def test_a_failed_run_is_named_and_the_others_keep_their_results(project: Path) -> None:
    run_use_case(project, "demo", None, FakeEngine(fail={"_train_"}), echo=quiet, stamp="1")
    lines: list[str] = []
    record = evaluate_use_case(project, "demo", None, FakeEngine(), echo=lines.append, stamp="2")
    assert record.standard_runs[0].status == FAILED
    assert record.standard_runs[1].status == COMPLETED
    assert any("demo_match_train_2: Skipped" in line for line in lines)


# --- validation before any LLM call ----------------------------------------------------


def test_unknown_variant_in_experiment_is_a_validation_error(project: Path) -> None:
    write(case(project) / "flows/standard/flow.dag.yaml", VARIANT_FLOW)
    set_experiment(project, EXPERIMENT + "variants: [extract.v7]\n")
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: variants: 'extract.v7': node 'extract' has no "
        "variant 'v7' (variants: v0, v1)"
    ]


def test_unknown_variant_mode_lists_the_modes(project: Path) -> None:
    set_experiment(project, EXPERIMENT + "variants: all\n")
    (problem,) = problems(project)
    assert "variants: use one of defaults, one_factor, grid or a list" in problem


def test_unknown_evaluator_dataset_reference(project: Path) -> None:
    text = EXPERIMENT.replace(
        "      - name: train\n        mappings:",
        "      - name: gold\n        source: data/train.jsonl\n        reference: trian\n"
        "        mappings:",
    )
    set_experiment(project, text)
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: evaluators[0].datasets[0].reference: 'trian' is not a "
        "dataset of this experiment (datasets: train, extra)"
    ]


def test_reference_without_source_is_explained(project: Path) -> None:
    text = EXPERIMENT.replace(
        "      - name: train\n        mappings:",
        "      - name: gold\n        reference: train\n        mappings:",
    )
    set_experiment(project, text)
    (problem,) = problems(project)
    assert "sets reference: train but no source" in problem


def test_gate_on_a_metric_the_evaluator_does_not_produce(project: Path) -> None:
    write(
        case(project) / "flows/evaluation/aggregate.py",
        "from promptflow.core import log_metric\n\n\ndef aggregate(x):\n"
        '    log_metric("f1", 1.0)\n',
    )
    flow = (case(project) / "flows/evaluation/flow.dag.yaml").read_text()
    flow += (
        "  - name: aggregate\n    type: python\n    source: {type: code, path: aggregate.py}\n"
        "    inputs:\n      x: ${score.output}\n    aggregation: true\n"
    )
    write(case(project) / "flows/evaluation/flow.dag.yaml", flow)
    set_experiment(project, EXPERIMENT + 'gates:\n  match.recall: ">= 0.5"\n  match.f1: "> 0"\n')
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: gates.match.recall: evaluator 'match' does not produce "
        "metric 'recall' (its flow logs: f1)"
    ]


def test_gate_on_an_unknown_evaluator_and_a_bad_condition(project: Path) -> None:
    set_experiment(project, EXPERIMENT + 'gates:\n  judge.f1: ">= 0.5"\n')
    assert problems(project) == [
        "use_cases/demo/experiment.yaml: gates.judge.f1: no evaluator 'judge' in this "
        "experiment (evaluators: match)"
    ]
    set_experiment(project, EXPERIMENT + 'gates:\n  match.f1: "at least 0.5"\n')
    (problem,) = problems(project)
    assert "'at least 0.5' is not a gate condition" in problem


def test_flex_flow_cannot_select_variants(project: Path) -> None:
    folder = case(project) / "flows/flex"
    write(folder / "flow.flex.yaml", "entry: app:main\n")
    write(
        folder / "app.py", "def main(text: str, entity_type: str = 'x') -> str:\n    return text\n"
    )
    signature = get_engine(root=project).describe(folder)
    assert signature.kind == "flex"
    assert signature.inputs == {"text": False, "entity_type": True}
    text = EXPERIMENT.replace("flow: flows/standard", "flow: flows/flex", 1)
    set_experiment(project, text.split("evaluators:")[0] + "variants: one_factor\n")
    found = "\n".join(problems(project))
    assert "is a flex flow and has no node variants" in found


def test_engine_reads_node_variants(project: Path) -> None:
    write(case(project) / "flows/standard/flow.dag.yaml", VARIANT_FLOW)
    signature = get_engine(root=project).describe(case(project) / "flows/standard")
    assert signature.variants == {"extract": NodeVariants("v0", ("v0", "v1"))}


# --- overlays ------------------------------------------------------------------------


def test_overlay_merges_gates_by_metric_and_runtime_by_key(project: Path) -> None:
    set_experiment(
        project,
        EXPERIMENT + "runtime:\n  workers: 2\n  max_variants: 9\n"
        'gates:\n  match.f1: ">= 0.5"\n  match.exact_match_rate: ">= 0.2"\n'
        "variants: [extract.v1]\n",
    )
    write(
        case(project) / "experiment.dev.yaml",
        'runtime:\n  workers: 8\ngates:\n  match.f1: ">= 0.9"\n  match.exact_match_rate: null\n'
        "variants: defaults\n",
    )
    config = load_experiment(case(project), "dev")
    assert config.runtime.workers == 8 and config.runtime.max_variants == 9
    assert config.gates == {"match.f1": ">= 0.9"}
    assert config.variants == "defaults"  # replaced, not merged


def test_overlay_may_not_rename_the_experiment(project: Path) -> None:
    write(case(project) / "experiment.dev.yaml", "name: renamed\n")
    with pytest.raises(LLMOpsError, match=r"experiment\.dev\.yaml: name: an overlay may not set"):
        load_experiment(case(project), "dev")


def test_unknown_runtime_key_suggests_the_right_one(project: Path) -> None:
    set_experiment(project, EXPERIMENT + "runtime:\n  worker: 4\n")
    with pytest.raises(LLMOpsError, match=r"runtime\.worker: unknown key; did you mean 'workers'"):
        load_experiment(case(project), None)


# --- gate ----------------------------------------------------------------------------


def test_gate_fails_per_variant_with_a_readable_table(project: Path) -> None:
    set_experiment(project, EXPERIMENT + 'gates:\n  match.f1: ">= 0.7"\n')
    config = load_experiment(case(project), None)
    results = check_gates(config, gated_record(0.8, 0.4))
    assert [(r.variant, r.passed) for r in results] == [("default", True), ("extract.v1", False)]
    table = format_table(results).splitlines()
    assert table[0].split() == [
        "result",
        "gate",
        "condition",
        "value",
        "variant",
        "dataset",
        "note",
    ]
    assert table[3].split()[:2] == ["FAIL", "match.f1"] and "extract.v1" in table[3]


def test_gate_command_exit_codes(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmops.state import save_record

    set_experiment(project, EXPERIMENT + 'gates:\n  match.f1: ">= 0.7"\n')
    save_record(project, gated_record(0.8, 0.4))
    assert cli.main(["gate"]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out
    assert "1 of 2 gate check(s) failed: match.f1 (extract.v1)" in captured.err
    save_record(project, gated_record(0.8, 0.9))
    assert cli.main(["gate"]) == 0
    assert "all 2 gate check(s) passed" in capsys.readouterr().out


def test_missing_metric_fails_the_gate(project: Path) -> None:
    set_experiment(project, EXPERIMENT + 'gates:\n  match.precision: ">= 0.1"\n')
    config = load_experiment(case(project), None)
    results = check_gates(config, gated_record(0.8, 0.9))
    assert not any(result.passed for result in results)
    assert "metric not produced (metrics: f1)" in results[0].note


# --- schema and new-flow -------------------------------------------------------------


def test_committed_schemas_equal_the_models(pytestconfig: pytest.Config) -> None:
    from llmops.schemas import schema_texts

    for relative_path, text in schema_texts().items():
        committed = pytestconfig.rootpath / relative_path
        assert committed.is_file(), f"run `llmops schema` to create {relative_path}"
        assert committed.read_text(encoding="utf-8") == text, "run `llmops schema`"


def test_schema_command_writes_the_file(project: Path) -> None:
    assert cli.main(["schema"]) == 0
    schema = json.loads((project / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    assert {"variants", "gates", "runtime", "datasets"} <= set(schema["properties"])


def test_every_sample_experiment_points_at_the_schema(pytestconfig: pytest.Config) -> None:
    root = pytestconfig.rootpath
    files = [*root.glob("use_cases/*/experiment*.yaml"), *root.glob("llmops/samples/*/exp*.yaml")]
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path


def test_new_flow_copies_a_sample_and_renames_the_experiment(project: Path) -> None:
    samples = list_samples()
    assert "named_entity_recognition" in samples
    folder = new_flow(project, "my_ner", "named_entity_recognition")
    config = load_experiment(folder, None)
    assert config.name == "my_ner"
    assert (folder / "mock" / "responses.jsonl").is_file()
    assert "my_ner" in [p.name for p in (project / "use_cases").iterdir()]


def test_new_flow_from_a_use_case_and_bad_names(project: Path) -> None:
    folder = new_flow(project, "demo2", "demo")
    assert load_experiment(folder, None).name == "demo2"
    assert problems(project) == []
    with pytest.raises(LLMOpsError, match="already exists"):
        new_flow(project, "demo2", "demo")
    with pytest.raises(LLMOpsError, match="no sample or use case named 'nope'"):
        new_flow(project, "x", "nope")
    with pytest.raises(LLMOpsError, match="not usable as a use-case name"):
        new_flow(project, "bad name", "demo")
