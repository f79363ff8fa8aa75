"""Managed by the LLMOps template. Gate stage: metric thresholds that pass or fail a build.

Gates live in experiment.yaml, at the top level keyed ``<evaluator>.<metric>`` or in
an evaluator's own ``gates`` keyed ``<metric>``; a condition is an operator and a
number (``">= 0.7"``). Every gate is checked against every evaluation run of its
evaluator, i.e. for every variant and evaluator dataset: the gate passes only when all
of them meet the condition. To gate only the flow you ship, run ``variants: defaults``
in the environment's overlay. A missing metric, or an evaluation run that failed or
was skipped, fails the gate.

The gate reads the run record only (metrics are stored there by ``llmops evaluate``),
so it is instant and needs no flow engine.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llmops.config import ExperimentConfig, load_experiment, parse_condition
from llmops.engine.base import COMPLETED
from llmops.paths import use_case_dir
from llmops.state import RunRecord, load_record

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
PASS, FAIL = "PASS", "FAIL"


@dataclass(frozen=True)
class GateResult:
    """One gate checked against one evaluation run."""

    evaluator: str
    metric: str
    condition: str
    variant: str
    dataset: str
    value: float | None
    passed: bool
    note: str = ""


def check_gates(config: ExperimentConfig, record: RunRecord) -> list[GateResult]:
    """Every gate x every evaluation run of its evaluator."""
    results: list[GateResult] = []
    for (evaluator, metric), (condition, _key) in sorted(config.all_gates().items()):
        op, threshold = parse_condition(condition)
        runs = [run for run in record.evaluation_runs if run.evaluator == evaluator]
        if not runs:
            note = "no evaluation run recorded: run `llmops evaluate`"
            results.append(GateResult(evaluator, metric, condition, "-", "-", None, False, note))
        for run in runs:
            value = run.metrics.get(metric)
            if run.status != COMPLETED:
                note, passed = f"evaluation run {run.status}", False
            elif value is None:
                produced = ", ".join(sorted(run.metrics)) or "none"
                note, passed = f"metric not produced (metrics: {produced})", False
            else:
                passed = OPERATORS[op](value, threshold)
                note = ""
            results.append(
                GateResult(
                    evaluator, metric, condition, run.variant, run.dataset, value, passed, note
                )
            )
    return results


def gate_use_case(root: Path, use_case: str, env: str | None) -> list[GateResult]:
    """Gates of a use case checked against its recorded evaluation runs."""
    record = load_record(root, use_case)
    config = load_experiment(use_case_dir(root, use_case), env if env else record.env)
    return check_gates(config, record)


TABLE_HEADER = ("result", "gate", "condition", "value", "variant", "dataset", "note")


def table_rows(results: list[GateResult]) -> list[tuple[str, ...]]:
    """One row of cells per gate check, in the order of ``TABLE_HEADER``."""
    return [
        (
            PASS if item.passed else FAIL,
            f"{item.evaluator}.{item.metric}",
            item.condition,
            "-" if item.value is None else f"{item.value:.4g}",
            item.variant,
            item.dataset,
            item.note,
        )
        for item in results
    ]


def format_table(results: list[GateResult]) -> str:
    """A fixed-width table that reads the same in a terminal and a CI log."""
    rows = table_rows(results)
    widths = [max(len(row[i]) for row in [TABLE_HEADER, *rows]) for i in range(len(TABLE_HEADER))]
    cells = zip(TABLE_HEADER, widths, strict=True)
    lines = ["  ".join(cell.ljust(width) for cell, width in cells).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def format_markdown(use_case: str, results: list[GateResult]) -> str:
    """The same table in Markdown, under a heading, for a pipeline run's summary page."""
    lines = [f"### Quality gates: {use_case}", "", summary(results)]
    if results:
        lines += ["", "| " + " | ".join(TABLE_HEADER) + " |"]
        lines.append("|" + "---|" * len(TABLE_HEADER))
        for row in table_rows(results):
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def summary(results: list[GateResult]) -> str:
    """One closing line: how many checks failed, for which gates and variants."""
    failed = [item for item in results if not item.passed]
    if not results:
        return "no gates configured (add `gates:` to experiment.yaml)"
    if not failed:
        return f"all {len(results)} gate check(s) passed"
    which = sorted({f"{item.evaluator}.{item.metric} ({item.variant})" for item in failed})
    return f"{len(failed)} of {len(results)} gate check(s) failed: {', '.join(which)}"
