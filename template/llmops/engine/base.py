"""Managed by the LLMOps template. The one seam between experiments and a flow engine.

Stages talk to a ``FlowEngine`` only; prompt flow is one implementation and another
engine (for example Microsoft Agent Framework) can be added next to it without
touching experiments, reports or pipelines. Tests use a fake engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from llmops.connections import ResolvedConnection

COMPLETED = "Completed"
FAILED = "Failed"
SKIPPED = "Skipped"

Progress = Callable[[int], None]
"""Called with the number of lines a running run has finished so far."""


@dataclass(frozen=True)
class NodeVariants:
    """The variants of one node of a DAG flow (prompt flow ``node_variants``)."""

    default: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class FlowSignature:
    """What a flow accepts and returns, read without running it."""

    inputs: dict[str, bool]
    """Input name -> True when the input has a default (so mapping it is optional)."""
    outputs: frozenset[str]
    connections: frozenset[str] = frozenset()
    """Connection names the flow's nodes use."""
    outputs_known: bool = True
    """False when the flow does not declare its outputs (a flex flow returning a dict):
    ``${run.outputs.x}`` mappings cannot be checked before a run."""
    variants: Mapping[str, NodeVariants] = field(default_factory=dict)
    """Node name -> its variants (DAG flows only; empty for flex flows)."""
    metrics: frozenset[str] | None = None
    """Metric names the flow logs, when they can be read statically (None = unknown)."""
    kind: str = "dag"
    """``dag`` or ``flex``."""

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
    variant: Mapping[str, str] = field(default_factory=dict)
    """Node -> variant id for the nodes that do not run their default variant."""
    workers: int | None = None
    """Lines in parallel (None = the engine's default)."""
    line_timeout: int | None = None
    """Seconds before one line fails (None = the engine's default)."""
    executor: str = "threads"
    """Local runs: lines in ``threads`` of this process or in worker ``processes``."""


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

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        """Run a flow over a dataset; a failed run is an outcome, not an exception.

        ``progress`` (optional) is called from time to time with the lines done so far.
        """
        ...

    def allows_concurrent_runs(self, executor: str) -> bool:
        """Whether ``run`` may be called from several threads at once with ``executor``."""
        ...

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        """Per line: ``{"line_number": int, "inputs": {...}, "outputs": {...}}``."""
        ...

    def metrics(self, run_name: str) -> dict[str, float]:
        """Aggregated numeric metrics of a (usually evaluation) run."""
        ...
