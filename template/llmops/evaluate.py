"""Managed by the LLMOps template. Evaluate stage: score the standard runs.

For every evaluator and each dataset it lists, the evaluation flow runs over the same
data with the dataset's standard run bound as base run, so mappings can read both
``${data.<column>}`` and ``${run.outputs.<output>}``.
"""

from __future__ import annotations

from pathlib import Path

from llmops.config import load_connections, load_experiment
from llmops.connections import resolve_connections
from llmops.engine.base import SKIPPED, FlowEngine, RunRequest
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
            dataset = config.dataset(item.name)
            base = record.standard_run(item.name)
            name = f"{config.name}_{evaluator.name}_{item.name}_{stamp}"
            if dataset is None or base is None or base.status != "Completed":
                reason = f"standard run for dataset '{item.name}' " + (
                    "is missing" if base is None else f"is {base.status} ({base.run_name})"
                )
                echo(f"[evaluate] {name}: {SKIPPED}: {reason}")
                record.evaluation_runs.append(
                    EvaluationRun(
                        evaluator=evaluator.name,
                        dataset=item.name,
                        base_run=base.run_name if base else "",
                        run_name=name,
                        status=SKIPPED,
                        error=reason,
                    )
                )
                continue
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
            record.evaluation_runs.append(
                EvaluationRun(
                    evaluator=evaluator.name,
                    dataset=item.name,
                    base_run=base.run_name,
                    run_name=outcome.run_name,
                    status=outcome.status,
                    error=outcome.error,
                )
            )
    save_record(root, record)
    return record


def _same_env(record: RunRecord, env: str | None) -> str | None:
    """Evaluate with the environment the runs were made with (datasets differ per env)."""
    if env is None or env == record.env:
        return record.env
    raise LLMOpsError(
        f"the recorded runs of '{record.use_case}' used env '{record.env or 'none'}' but this "
        f"command uses '{env}': pass --env {record.env or '<nothing>'} or run "
        f"`llmops run --use-case {record.use_case} --env {env}` first"
    )
