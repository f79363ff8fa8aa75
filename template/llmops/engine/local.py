"""Managed by the LLMOps template. Local runs: each flow folder goes to its own engine.

The engine is chosen per flow folder, from the file it holds: ``workflow.yaml`` or
``evaluator.yaml`` (Agent Framework) or ``flow.dag.yaml`` / ``flow.flex.yaml`` (prompt
flow). So a project moves one use case at a time, and a stage never asks which engine
runs it. Run results are found by run name in whichever engine made them.
Connections reach an engine only before its first run, so a project without prompt
flow use cases never imports promptflow.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from llmops.connections import ResolvedConnection
from llmops.engine.agent_framework import (
    RUNS_DIR,
    AgentFrameworkEngine,
    is_agent_framework_flow,
)
from llmops.engine.base import FlowEngine, FlowSignature, Progress, RunOutcome, RunRequest
from llmops.engine.promptflow_engine import PromptflowEngine
from llmops.paths import state_dir


class LocalEngines:
    """A ``FlowEngine`` that hands each flow folder to the engine it is written for."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.agent_framework = AgentFrameworkEngine(root)
        self.promptflow = PromptflowEngine(root)
        self._connections: list[ResolvedConnection] = []
        self._prepared: set[str] = set()
        self._lock = threading.Lock()

    def engine_for(self, flow_dir: Path) -> FlowEngine:
        """The engine whose files the folder holds (prompt flow when it holds neither)."""
        return self.agent_framework if is_agent_framework_flow(flow_dir) else self.promptflow

    def allows_concurrent_runs(self, executor: str) -> bool:
        """Only when both engines allow it (prompt flow's process pool does not)."""
        return self.promptflow.allows_concurrent_runs(
            executor
        ) and self.agent_framework.allows_concurrent_runs(executor)

    def describe(self, flow_dir: Path) -> FlowSignature:
        """The folder's engine reads it."""
        return self.engine_for(flow_dir).describe(flow_dir)

    def ensure_connections(self, connections: list[ResolvedConnection]) -> None:
        """Kept until an engine's first run (see the module docstring)."""
        with self._lock:
            self._connections = list(connections)
            self._prepared.clear()

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunOutcome:
        """Run with the folder's engine, after giving it the connections."""
        engine = self.engine_for(request.flow_dir)
        with self._lock:
            if engine.name not in self._prepared:
                engine.ensure_connections(self._connections)
                self._prepared.add(engine.name)
        return engine.run(request, progress)

    def _engine_of_run(self, run_name: str) -> FlowEngine:
        if (state_dir(self.root) / RUNS_DIR / run_name).is_dir():
            return self.agent_framework
        return self.promptflow

    def line_results(self, run_name: str) -> list[dict[str, Any]]:
        """From the engine that made the run."""
        return self._engine_of_run(run_name).line_results(run_name)

    def metrics(self, run_name: str) -> dict[str, float]:
        """From the engine that made the run."""
        return self._engine_of_run(run_name).metrics(run_name)
