"""Managed by the LLMOps template. Evaluate stage: score the standard runs.

For every evaluator and each dataset it lists, the evaluation flow runs over the same
data with the dataset's standard run bound as base run, so mappings can read both
``${data.<column>}`` and ``${run.outputs.<output>}``.
"""

from __future__ import annotations

from pathlib import Path

from llmops.config import (
    Evaluator,
    EvaluatorDataset,
    ExperimentConfig,
    load_connections,
    load_experiment,
)
from llmops.connections import resolve_connections
from llmops.engine.base import COMPLETED, SKIPPED, FlowEngine, RunRequest
from llmops.errors import LLMOpsError, ValidationFailed
from llmops.paths import use_case_dir
from llmops.run import Echo, outcome_line, run_stamp, submit
from llmops.state import EvaluationRun, RunRecord, load_record, save_record
from llmops.validate import validate_use_case


def evaluate_use_case(
    root: Path,
    use_case: str,
    env: str | None,
    engine: FlowEngine,
    echo: Echo = print,
    stamp: str | None = None,
) -> RunRecord:
    """Run every evaluator against the recorded standard runs; save them in the record."""
    record = load_record(root, use_case)
    env = _same_env(record, env)
    problems = validate_use_case(root, use_case, env, engine)
    if problems:
        raise ValidationFailed(problems)
    config = load_experiment(use_case_dir(root, use_case), env)
    if not config.evaluators:
        echo(f"[evaluate] {use_case}: the experiment has no evaluators")
    needed: set[str] = set()
    for evaluator in config.evaluators:
        needed |= engine.describe(config.path(evaluator.flow)).connections
    used = [name for name in config.connections if name in needed]
    engine.ensure_connections(resolve_connections(used, load_connections(root)))
    stamp = stamp or run_stamp()
    record.evaluation_runs = []
    for evaluator in config.evaluators:
        for item in evaluator.datasets:
            name = f"{config.name}_{evaluator.name}_{item.name}_{stamp}"
            record.evaluation_runs.append(
                _evaluate_one(config, record, evaluator, item, name, engine, echo)
            )
    save_record(root, record)
    return record


def _evaluate_one(
    config: ExperimentConfig,
    record: RunRecord,
    evaluator: Evaluator,
    item: EvaluatorDataset,
    name: str,
    engine: FlowEngine,
    echo: Echo,
) -> EvaluationRun:
    """One evaluation run, or a Skipped entry when its standard run did not complete."""
    dataset = config.dataset(item.name)
    base = record.standard_run(item.name)
    if dataset is None or base is None or base.status != COMPLETED:
        reason = f"standard run for dataset '{item.name}' " + (
            "is missing" if base is None else f"is {base.status} ({base.run_name})"
        )
        echo(f"[evaluate] {name}: {SKIPPED}: {reason}")
        return EvaluationRun(
            evaluator=evaluator.name,
            dataset=item.name,
            base_run=base.run_name if base else "",
            run_name=name,
            status=SKIPPED,
            error=reason,
        )
    request = RunRequest(
        flow_dir=config.path(evaluator.flow),
        data=config.path(dataset.source),
        column_mapping=dict(item.mappings),
        name=name,
        base_run=base.run_name,
    )
    echo(f"[evaluate] {name}: flow {evaluator.flow} on run {base.run_name}")
    outcome = submit(engine, request)
    echo(outcome_line("evaluate", outcome))
    return EvaluationRun(
        evaluator=evaluator.name,
        dataset=item.name,
        base_run=base.run_name,
        run_name=outcome.run_name,
        status=outcome.status,
        error=outcome.error,
    )


def _same_env(record: RunRecord, env: str | None) -> str | None:
    """Evaluate with the environment the runs were made with (datasets differ per env)."""
    if env is None or env == record.env:
        return record.env
    made_with = f"--env {record.env}" if record.env else "no --env (and ENV_NAME unset)"
    raise LLMOpsError(
        f"the recorded runs of '{record.use_case}' were made with {made_with} but this command "
        f"uses env '{env}': use the same env, or run "
        f"`llmops run --use-case {record.use_case} --env {env}` first"
    )
