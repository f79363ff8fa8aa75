"""Managed by the LLMOps template. benchmarks/experiment_bench.py: options, figures, use case.

The benchmark is only read when someone needs it, so a change that breaks it would go
unnoticed; these tests run its parsing, its table and its throw-away use case without
timing anything (no speed is asserted).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from llmops.engine.af_manifest import EvaluatorManifest, WorkflowManifest, load_manifest
from llmops.engine.agent_framework import AgentFrameworkEngine

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """The script as a module (its import puts benchmarks/ on sys.path: undone after)."""
    saved = list(sys.path)
    try:
        yield _load("experiment_bench")
    finally:
        sys.path[:] = saved


def figures(run: float, **changes: Any) -> dict[str, Any]:
    """What a child prints for 3 variants x 100 lines."""
    values = {
        "engine": "agent_framework",
        "version": "1.0",
        "pyc": True,
        "standard_runs": 3,
        "evaluation_runs": 3,
        "failed_runs": [],
        "failed_lines": 0,
        "lines": 300,
        "start": 1.0,
        "start_cpu": 0.5,
        "run": run,
        "run_cpu": 0.9,
        "evaluate": 0.2,
        "evaluate_cpu": 0.1,
    }
    return {**values, **changes}


def test_defaults_measure_both_engines(bench: ModuleType) -> None:
    args = bench.parse_args([])
    assert (args.lines, args.variants, args.latency, args.workers) == (100, 3, 0.05, 8)
    assert args.engines == ("promptflow", "agent_framework")
    assert args.child is None


def test_engines_and_counts_are_checked(bench: ModuleType) -> None:
    assert bench.parse_args(["--engines", "agent_framework"]).engines == ("agent_framework",)
    for argv in (["--engines", "promptflow,dag"], ["--lines", "0"], ["--workers", "-1"]):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)


def test_report_puts_engines_side_by_side_and_the_ratio_last(bench: ModuleType) -> None:
    args = bench.parse_args([])
    pythons = {"promptflow": ("/pf/python", "this interpreter"), "agent_framework": ("/af", "x")}
    results = {
        "promptflow": figures(10.0, engine="promptflow", failed_lines=2),
        "agent_framework": figures(2.8125),
    }
    lines = bench.report(args, pythons, results)
    text = "\n".join(lines)
    assert "runs: 3 standard + 3 evaluation, 0 failed; 2 failed line(s)" in text
    assert any(line.split() == ["promptflow", "agent_framework"] for line in lines)
    run_row = next(line for line in lines if line.startswith("run stage:"))
    assert run_row.split()[2:] == ["10.00", "s", "2.81", "s"]
    assert "5.33x ideal" in text and "1.50x ideal" in text
    assert "CPU ms/line:" in text and "3.00" in text  # 0.9 s over 300 lines
    assert "= 100 x 3 x 0.05 / 8 = 1.88 s" in text
    assert lines[-1] == "agent_framework_run_ratio=1.50"
    assert bench.failed(results["promptflow"]) and not bench.failed(results["agent_framework"])


def test_an_engine_without_python_is_skipped_with_its_reason(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bench.MODULES, "agent_framework", "no_such_module_for_the_bench")
    python, why = bench.find_python("agent_framework", None, tmp_path)
    assert python is None and ".venv-af" in why and "--python-agent-framework" in why
    missing = tmp_path / "missing" / "python"
    assert bench.find_python("promptflow", str(missing), tmp_path) == (
        None,
        f"--python-promptflow {missing}: not found",
    )
    monkeypatch.setitem(bench.MODULES, "promptflow", "json")
    assert bench.find_python("promptflow", None, tmp_path) == (sys.executable, "this interpreter")

    args = bench.parse_args(["--lines", "5", "--variants", "2", "--latency", "0.01"])
    pythons = {"promptflow": ("/pf", "this interpreter"), "agent_framework": (None, why)}
    results = {"promptflow": figures(1.0, lines=10, standard_runs=2), "agent_framework": why}
    lines = bench.report(args, pythons, {**results, "agent_framework": f"skipped: {why}"})
    assert any(line.startswith("agent_framework: skipped: no Python") for line in lines)
    assert "= 5 x 2 x 0.01 / 8 = 0.01 s" in lines[-2]
    assert lines[-1] == "agent_framework_run_ratio=skipped"
    assert not bench.failed(f"skipped: {why}") and bench.failed("failed (exit 1): boom")


@pytest.mark.parametrize("engine", ["promptflow", "agent_framework"])
def test_the_use_case_has_the_same_shape_for_both_engines(
    bench: ModuleType, engine: str, tmp_path: Path
) -> None:
    use_cases = _load("bench_use_cases")
    use_cases.build(
        ROOT,
        tmp_path,
        engine,
        lines=4,
        variants=3,
        workers=2,
        executor="threads",
        concurrent_runs=1,
    )
    case = tmp_path / "use_cases" / "bench"
    experiment = yaml.safe_load((case / "experiment.yaml").read_text())
    assert experiment["runtime"]["workers"] == 2
    assert len((case / "data" / "lines.jsonl").read_text().splitlines()) == 4
    flows = case / "flows"
    if engine == "promptflow":
        dag = yaml.safe_load((flows / "standard" / "flow.dag.yaml").read_text())
        assert list(dag["node_variants"]["ask"]["variants"]) == ["v0", "v1", "v2"]
        assert (flows / "evaluation" / "flow.dag.yaml").is_file()
        return
    manifest = load_manifest(flows / "standard" / "workflow.yaml", tmp_path, WorkflowManifest)
    assert manifest.nodes["ask"].variant_ids == ("v0", "v1", "v2")
    assert manifest.nodes["ask"].settings("v2").options == {"temperature": 0.2}
    load_manifest(flows / "evaluation" / "evaluator.yaml", tmp_path, EvaluatorManifest)
    signature = AgentFrameworkEngine(tmp_path).describe(flows / "evaluation")
    assert signature.metrics == frozenset({"match_rate"})
