"""Managed by the LLMOps template. Pick a flow engine by name.

Only this package knows which engines exist; everything else asks ``get_engine``.
"""

from __future__ import annotations

from pathlib import Path

from llmops.engine.base import (
    COMPLETED,
    FAILED,
    SKIPPED,
    FlowEngine,
    FlowSignature,
    RunOutcome,
    RunRequest,
)
from llmops.errors import LLMOpsError

ENGINES = ("promptflow",)

__all__ = [
    "COMPLETED",
    "ENGINES",
    "FAILED",
    "SKIPPED",
    "FlowEngine",
    "FlowSignature",
    "RunOutcome",
    "RunRequest",
    "get_engine",
]


def get_engine(name: str = "promptflow", *, root: Path) -> FlowEngine:
    """Build the named engine for the project at ``root`` (state stays under .llmops/)."""
    if name == "promptflow":
        # Imported here so that commands which never run a flow stay fast.
        from llmops.engine.promptflow_engine import PromptflowEngine

        return PromptflowEngine(root)
    raise LLMOpsError(f"unknown flow engine '{name}' (available: {', '.join(ENGINES)})")
