"""Managed by the LLMOps template. Run stage: the standard flow over every dataset.

Validation runs first so a typo fails in milliseconds, not after a batch run. Each
dataset gets its own run named ``<experiment>_<dataset>_<YYYYmmdd_HHMMSS>``; a failed
run is recorded and reported by name and the other datasets still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from llmops.config import load_connections, load_experiment
from llmops.connections import resolve_connections
from llmops.engine.base import FAILED, FlowEngine, RunOutcome, RunRequest
from llmops.errors import ValidationFailed
from llmops.paths import use_case_dir
from llmops.state import RunRecord, StandardRun, save_record
from llmops.validate import validate_use_case

Echo = Callable[[str], None]


def run_stamp() -> str:
    """UTC time stamp that makes run names unique and sortable."""
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime())


def submit(engine: FlowEngine, request: RunRequest) -> RunOutcome:
    """Run one flow; an unexpected engine error becomes a failed outcome, not a crash."""
    try:
        return engine.run(request)
    except Exception as error:  # one broken run must not stop the others
        return RunOutcome(run_name=request.name, status=FAILED, error=f"{error}" or repr(error))


def outcome_line(stage: str, outcome: RunOutcome) -> str:
    """One progress line per finished run; the error and log file when it failed."""
    details = outcome.details
    line = f"[{stage}] {outcome.run_name}: {outcome.status}"
    if "lines_completed" in details:
        total = details["lines_completed"] + details.get("lines_failed", 0)
        line += f" ({details['lines_completed']}/{total} lines)"
    if outcome.error:
        line += f"\n[{stage}]   error: {outcome.error}"
    if outcome.error and details.get("log"):
        line += f"\n[{stage}]   log: {details['log']}"
    return line


def run_use_case(
    root: Path,
    use_case: str,
    env: str | None,
    engine: FlowEngine,
    echo: Echo = print,
    stamp: str | None = None,
) -> RunRecord:
    """Validate, create connections, run every dataset, and save the run record."""
    problems = validate_use_case(root, use_case, env, engine)
    if problems:
        raise ValidationFailed(problems)
    config = load_experiment(use_case_dir(root, use_case), env)
    engine.ensure_connections(resolve_connections(config.connections, load_connections(root)))
    stamp = stamp or run_stamp()
    record = RunRecord(use_case=use_case, experiment=config.name, env=env, engine=engine.name)
    for dataset in config.datasets:
        request = RunRequest(
            flow_dir=config.path(config.flow),
            data=config.path(dataset.source),
            column_mapping=dict(dataset.mappings),
            name=f"{config.name}_{dataset.name}_{stamp}",
        )
        echo(f"[run] {request.name}: flow {config.flow} on {dataset.source}")
        outcome = submit(engine, request)
        echo(outcome_line("run", outcome))
        record.standard_runs.append(
            StandardRun(
                dataset=dataset.name,
                run_name=outcome.run_name,
                status=outcome.status,
                error=outcome.error,
            )
        )
    save_record(root, record)
    return record
