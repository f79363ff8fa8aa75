"""Managed by the LLMOps template. Run stage: the standard flow over every dataset and variant.

Validation runs first so a typo fails in milliseconds, not after a batch run. Each
dataset runs once per selected variant combination (see ``llmops.plan``), as a run
named ``<experiment>_<variant>_<dataset>_<YYYYmmdd_HHMMSS>``. A failed run is
recorded and reported by name; the other runs still execute and keep their results.

Concurrency: ``--workers`` (command line) or ``runtime.workers`` (experiment.yaml)
sets how many lines of a run execute in parallel (prompt flow's ``PF_WORKER_COUNT``);
``runtime.concurrent_runs`` how many runs of a stage execute at the same time, when
the engine allows it. Results are recorded in plan order whatever order runs end in.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from llmops.config import ExperimentConfig, load_experiment
from llmops.engine import prepare_connections
from llmops.engine.base import FAILED, FlowEngine, Progress, RunOutcome, RunRequest
from llmops.errors import ValidationFailed
from llmops.paths import use_case_dir
from llmops.plan import make_plan
from llmops.progress import Reporter, plain
from llmops.state import RunRecord, StandardRun, save_record
from llmops.validate import validate_use_case

Echo = Callable[[str], None]
T = TypeVar("T")


def run_stamp() -> str:
    """UTC time stamp that makes run names unique and sortable."""
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime())


def submit(engine: FlowEngine, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
    """Run one flow; an unexpected engine error becomes a failed outcome, not a crash."""
    try:
        return engine.run(request, progress)
    except Exception as error:  # one broken run must not stop the others
        return RunOutcome(run_name=request.name, status=FAILED, error=f"{error}" or repr(error))


def outcome_line(stage: str, outcome: RunOutcome, seconds: float | None = None) -> str:
    """One line per finished run; the error and log file when it failed."""
    details = outcome.details
    line = f"[{stage}] {outcome.run_name}: {outcome.status}"
    if "lines_completed" in details:
        total = details["lines_completed"] + details.get("lines_failed", 0)
        line += f" ({details['lines_completed']}/{total} lines"
        line += f", {seconds:.1f} s)" if seconds is not None else ")"
    if outcome.error:
        line += f"\n[{stage}]   error: {outcome.error}"
    if outcome.error and details.get("log"):
        line += f"\n[{stage}]   log: {details['log']}"
    return line


def runs_at_once(engine: FlowEngine, config: ExperimentConfig) -> int:
    """``runtime.concurrent_runs`` when the engine allows it for the executor, otherwise 1."""
    if engine.allows_concurrent_runs(config.runtime.executor):
        return config.runtime.concurrent_runs
    return 1


def run_in_plan_order(count: int, execute: Callable[[int], T], at_once: int) -> Iterator[list[T]]:
    """Run ``execute(index)`` for ``range(count)``, ``at_once`` at a time.

    After each run ends, yields the results so far in plan order, whatever order the
    runs end in, so a stage can save its record as it goes. One at a time runs in the
    calling thread; otherwise each run has a daemon thread, so Ctrl+C ends the command
    at once instead of waiting for the runs in flight.
    """
    done: list[T | None] = [None] * count

    def finished() -> list[T]:
        return [result for result in done if result is not None]

    if at_once <= 1 or count <= 1:
        for index in range(count):
            done[index] = execute(index)
            yield finished()
        return
    ended: queue.Queue[tuple[int, T | None, BaseException | None]] = queue.Queue()
    slots = threading.Semaphore(at_once)

    def worker(index: int) -> None:
        with slots:
            try:
                ended.put((index, execute(index), None))
            except BaseException as error:  # re-raised by the consumer
                ended.put((index, None, error))

    for index in range(count):
        threading.Thread(
            target=worker, args=(index,), name=f"llmops-run-{index}", daemon=True
        ).start()
    for _ in range(count):
        index, result, error = ended.get()
        if error is not None:
            raise error
        done[index] = result
        yield finished()


def count_lines(path: Path) -> int:
    """Data lines of a JSONL file (blank lines do not count)."""
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def check_and_load(
    root: Path, use_case: str, env: str | None, engine: FlowEngine
) -> ExperimentConfig:
    """Validate (all problems at once) and return the experiment config."""
    problems = validate_use_case(root, use_case, env, engine)
    if problems:
        raise ValidationFailed(problems)
    return load_experiment(use_case_dir(root, use_case), env)


def run_use_case(
    root: Path,
    use_case: str,
    env: str | None,
    engine: FlowEngine,
    echo: Echo = print,
    stamp: str | None = None,
    workers: int | None = None,
    reporter: Reporter | None = None,
) -> RunRecord:
    """Validate, create connections, run every dataset x variant, save the run record."""
    reporter = reporter or plain(echo)
    config = check_and_load(root, use_case, env, engine)
    plan = make_plan(config, engine.describe(config.path(config.flow)))
    prepare_connections(engine, config.connections, root)
    stamp = stamp or run_stamp()
    workers = workers or config.runtime.workers
    record = RunRecord(use_case=use_case, experiment=config.name, env=env, engine=engine.name)
    sizes = {dataset.name: count_lines(config.path(dataset.source)) for dataset in config.datasets}
    total = sum(sizes[step.dataset] for step in plan.standard)
    labels = ", ".join(variant.label for variant in plan.variants)
    at_once = runs_at_once(engine, config)
    reporter.echo(
        f"[run] {len(plan.standard)} run(s): {len(config.datasets)} dataset(s) x "
        f"{len(plan.variants)} variant(s) ({labels}); workers {workers or 'default'}"
        + (f"; {at_once} runs at a time" if at_once > 1 else "")
    )

    def execute(index: int) -> StandardRun:
        step = plan.standard[index]
        dataset = config.dataset(step.dataset)
        assert dataset is not None  # the plan only names configured datasets
        request = RunRequest(
            flow_dir=config.path(config.flow),
            data=config.path(dataset.source),
            column_mapping=dict(dataset.mappings),
            name=step.run_name(config.name, stamp),
            variant=dict(step.variant.overrides),
            workers=workers,
            line_timeout=config.runtime.line_timeout,
            executor=config.runtime.executor,
        )
        started = time.monotonic()
        with reporter.run(request.name, sizes[step.dataset]) as progress:
            outcome = submit(engine, request, progress)
        seconds = time.monotonic() - started
        reporter.echo(outcome_line("run", outcome, seconds))
        return StandardRun(
            dataset=step.dataset,
            run_name=outcome.run_name,
            status=outcome.status,
            error=outcome.error,
            variant=step.variant.label,
            overrides=dict(step.variant.overrides),
            lines_completed=int(outcome.details.get("lines_completed", 0)),
            lines_failed=int(outcome.details.get("lines_failed", 0)),
            seconds=round(seconds, 3),
        )

    with reporter.stage("run", len(plan.standard), total):
        for finished in run_in_plan_order(len(plan.standard), execute, at_once):
            record.standard_runs = finished
            save_record(root, record)  # a crash later keeps the runs made so far
    save_record(root, record)
    return record
