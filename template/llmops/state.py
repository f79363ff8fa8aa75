"""Managed by the LLMOps template. Run records that connect the stages.

``llmops run`` writes ``.llmops/runs/<use_case>.json``; ``evaluate`` and ``report``
read it, so each stage can run as a separate command or pipeline step on the same
machine. The file holds run names and statuses only, never inputs or secrets.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from llmops.engine.base import COMPLETED
from llmops.errors import LLMOpsError
from llmops.paths import relative, run_record_file


def now_utc() -> str:
    """ISO timestamp for records."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StandardRun(BaseModel):
    """One run of the standard flow over one dataset, with one variant combination."""

    dataset: str
    run_name: str
    status: str
    error: str = ""
    variant: str = "default"
    """Variant label: ``default`` or ``node.variant_id`` (``+`` between several nodes)."""
    overrides: dict[str, str] = Field(default_factory=dict)
    """Node -> variant for the nodes not at their default."""
    lines_completed: int = 0
    lines_failed: int = 0
    seconds: float = 0.0


class EvaluationRun(BaseModel):
    """One run of an evaluation flow against a standard run."""

    evaluator: str
    dataset: str
    """The evaluator dataset (a standard dataset, or one with its own source)."""
    base_run: str
    run_name: str
    status: str
    error: str = ""
    variant: str = "default"
    standard_dataset: str = ""
    """The standard dataset whose run is bound (equals ``dataset`` without a reference)."""
    metrics: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0


class RunRecord(BaseModel):
    """What the last ``llmops run`` and ``llmops evaluate`` of a use case produced."""

    use_case: str
    experiment: str
    env: str | None = None
    engine: str = "promptflow"
    created: str = Field(default_factory=now_utc)
    updated: str = Field(default_factory=now_utc)
    standard_runs: list[StandardRun] = Field(default_factory=list)
    evaluation_runs: list[EvaluationRun] = Field(default_factory=list)

    def standard_run(self, dataset: str, variant: str = "default") -> StandardRun | None:
        """The standard run of a dataset and variant, if one was made."""
        return next(
            (
                run
                for run in self.standard_runs
                if run.dataset == dataset and run.variant == variant
            ),
            None,
        )

    @property
    def variants(self) -> list[str]:
        """Variant labels in the order they ran."""
        return list(dict.fromkeys(run.variant for run in self.standard_runs))

    @property
    def failed(self) -> list[str]:
        """Names of runs that did not complete."""
        runs = [*self.standard_runs, *self.evaluation_runs]
        return [run.run_name for run in runs if run.status != COMPLETED]


def save_record(root: Path, record: RunRecord) -> Path:
    """Write the record atomically (a half-written file would break the next stage)."""
    path = run_record_file(root, record.use_case)
    path.parent.mkdir(parents=True, exist_ok=True)
    record.updated = now_utc()
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def load_record(root: Path, use_case: str) -> RunRecord:
    """Read the record of a use case; without one, say which command makes it."""
    path = run_record_file(root, use_case)
    if not path.is_file():
        raise LLMOpsError(
            f"no runs recorded for use case '{use_case}' ({relative(path, root)} is missing): "
            f"run `llmops run --use-case {use_case}` first"
        )
    try:
        return RunRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError:
        raise LLMOpsError(
            f"{relative(path, root)} is unreadable: run `llmops run --use-case {use_case}` again"
        ) from None
