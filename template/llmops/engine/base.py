"""Managed by the LLMOps template. The one seam between experiments and a flow engine.

Stages talk to a ``FlowEngine`` only; prompt flow is one implementation and another
engine (for example Microsoft Agent Framework) can be added next to it without
touching experiments, reports or pipelines. Tests use a fake engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from llmops.connections import ResolvedConnection

COMPLETED = "Completed"
FAILED = "Failed"
SKIPPED = "Skipped"


@dataclass(frozen=True)
class FlowSignature:
    """What a flow accepts and returns, read without running it."""

    inputs: dict[str, bool]
    """Input name -> True when the input has a default (so mapping it is optional)."""
    outputs: frozenset[str]
    connections: frozenset[str] = frozenset()
    """Connection names the flow's nodes use."""

    @property
    def required_inputs(self) -> list[str]:
        """Inputs that a dataset must map because they have no default."""
        return [name for name, has_default in self.inputs.items() if not has_default]


@dataclass(frozen=True)
class RunRequest:
    """One batch run: a flow over a JSONL file, optionally bound to an earlier run."""

    flow_dir: Path
    data: Path
    column_mapping: dict[str, str]
    name: str
    base_run: str | None = None
    """Name of the standard run an evaluation run reads ``${run.outputs.x}`` from."""


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended; ``status`` is ``Completed``, ``Failed`` or ``Canceled``."""

    run_name: str
    status: str
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """True when the run completed and its results can be read."""
        return self.status == COMPLETED


@runtime_checkable
class FlowEngine(Protocol):
    """Operations the lifecycle stages need from a flow engine."""

    name: str

    def describe(self, flow_dir: Path) -> FlowSignature:
        """Read a flow's inputs, outputs and connections; raise LLMOpsError if unreadable."""
        ...

    def ensure_connections(self, connections: list[ResolvedConnection]) -> None:
        """Create or update the engine's connections from resolved specs."""
        ...

    def run(self, request: RunRequest) -> RunOutcome:
        """Run a flow over a dataset; a failed run is an outcome, not an exception."""
        ...

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        """Per line: ``{"line_number": int, "inputs": {...}, "outputs": {...}}``."""
        ...

    def metrics(self, run_name: str) -> dict[str, float]:
        """Aggregated numeric metrics of a (usually evaluation) run."""
        ...
