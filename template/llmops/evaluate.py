"""Managed by the LLMOps template. Evaluate stage: score the standard runs.

Many-to-many: for every evaluator and each dataset it lists, the evaluation flow runs
once per standard run of the matching standard dataset, i.e. once per variant. The
dataset is either the standard dataset itself or a file of its own that names the
standard dataset in ``reference:``; its lines are paired with the standard run's
lines by position, so mappings can read ``${data.<column>}`` and
``${run.outputs.<output>}``. The metrics of each evaluation run are stored in the run
record, where ``llmops report`` and ``llmops gate`` read them.
"""

from __future__ import annotations

import time
from pathlib import Path

from llmops.config import ExperimentConfig
from llmops.engine import prepare_connections, target_of
from llmops.engine.base import COMPLETED, SKIPPED, FlowEngine, Progress, RunRequest
from llmops.errors import LLMOpsError
from llmops.plan import EvaluationStep, make_plan
from llmops.progress import Reporter, plain
from llmops.run import (
    Echo,
    check_and_load,
    count_lines,
    outcome_line,
    run_in_plan_order,
    run_stamp,
    runs_at_once,
    submit,
)
from llmops.state import EvaluationRun, RunRecord, load_record, save_record


def evaluate_use_case(
    root: Path,
    use_case: str,
    env: str | None,
    engine: FlowEngine,
    echo: Echo = print,
    stamp: str | None = None,
    workers: int | None = None,
    reporter: Reporter | None = None,
) -> RunRecord:
    """Run every evaluator against the recorded standard runs; save them in the record."""
    reporter = reporter or plain(echo)
    record = load_record(root, use_case)
    env = _same_env(record, env)
    _same_engine(record, engine)
    config = check_and_load(root, use_case, env, engine)
    plan = make_plan(config, engine.describe(config.path(config.flow)))
    if not config.evaluators:
        reporter.echo(f"[evaluate] {use_case}: the experiment has no evaluators")
    needed: set[str] = set()
    for evaluator in config.evaluators:
        needed |= engine.describe(config.path(evaluator.flow)).connections
    used = [name for name in config.connections if name in needed]
    prepare_connections(engine, used, root)
    stamp = stamp or run_stamp()
    workers = workers or config.runtime.workers
    record.evaluation_runs = []
    sizes = [count_lines(_data_file(config, step)) for step in plan.evaluations]

    def execute(index: int) -> EvaluationRun:
        step = plan.evaluations[index]
        name = step.run_name(config.name, stamp)
        with reporter.run(name, sizes[index]) as progress:
            return _evaluate_one(config, record, step, name, engine, reporter, workers, progress)

    at_once = runs_at_once(engine, config)
    with reporter.stage("evaluate", len(plan.evaluations), sum(sizes)):
        for finished in run_in_plan_order(len(plan.evaluations), execute, at_once):
            record.evaluation_runs = finished
            save_record(root, record)
    save_record(root, record)
    return record


def _data_file(config: ExperimentConfig, step: EvaluationStep) -> Path:
    """The evaluator dataset's own file, or the standard dataset's file."""
    if step.item.source:
        return config.path(step.item.source)
    dataset = config.dataset(step.item.standard_dataset)
    assert dataset is not None  # validated before planning
    return config.path(dataset.source)


def _evaluate_one(
    config: ExperimentConfig,
    record: RunRecord,
    step: EvaluationStep,
    name: str,
    engine: FlowEngine,
    reporter: Reporter,
    workers: int | None,
    progress: Progress,
) -> EvaluationRun:
    """One evaluation run, or a Skipped entry when its standard run did not complete."""
    evaluator, item, variant = step.evaluator, step.item, step.standard.variant.label
    base = record.standard_run(item.standard_dataset, variant)
    entry = EvaluationRun(
        evaluator=evaluator.name,
        dataset=item.name,
        base_run=base.run_name if base else "",
        run_name=name,
        status=SKIPPED,
        variant=variant,
        standard_dataset=item.standard_dataset,
    )
    if base is None or base.status != COMPLETED:
        entry.error = f"standard run of dataset '{item.standard_dataset}', variant {variant} " + (
            "is missing: run `llmops run` again" if base is None else f"is {base.status}"
        )
        reporter.echo(f"[evaluate] {name}: {SKIPPED}: {entry.error}")
        return entry
    request = RunRequest(
        flow_dir=config.path(evaluator.flow),
        data=_data_file(config, step),
        column_mapping=dict(item.mappings),
        name=name,
        base_run=base.run_name,
        workers=workers,
        line_timeout=config.runtime.line_timeout,
        executor=config.runtime.executor,
    )
    started = time.monotonic()
    outcome = submit(engine, request, progress)
    entry.seconds = round(time.monotonic() - started, 3)
    entry.run_name, entry.status, entry.error = outcome.run_name, outcome.status, outcome.error
    if outcome.succeeded:
        try:
            entry.metrics = engine.metrics(outcome.run_name)
        except Exception as error:  # the run completed; say why its metrics are missing
            entry.error = f"metrics unreadable: {error}"
    reporter.echo(outcome_line("evaluate", outcome, entry.seconds))
    return entry


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


def _same_engine(record: RunRecord, engine: FlowEngine) -> None:
    """Evaluate where the runs were made: an Azure run cannot be a local base run."""
    if target_of(record.engine) == target_of(engine.name):
        return
    raise LLMOpsError(
        f"the recorded runs of '{record.use_case}' were made by engine {record.engine} and this "
        f"command uses {engine.name}: pass the same --target as `llmops run` did, or run again"
    )
