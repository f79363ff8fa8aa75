"""Managed by the LLMOps template. Pick a flow engine by name.

Only this package knows which engines exist; everything else asks ``get_engine``.
``target`` picks where runs execute: ``local`` (this machine: each flow folder runs on
the engine it is written for, prompt flow or Agent Framework; see ``engine.local``)
or ``azure`` (prompt flow's Azure client, in the Azure ML workspace).
"""

from __future__ import annotations

from pathlib import Path

from llmops.engine.base import (
    COMPLETED,
    FAILED,
    SKIPPED,
    FlowEngine,
    FlowSignature,
    NodeVariants,
    Progress,
    RunOutcome,
    RunRequest,
)
from llmops.errors import LLMOpsError

ENGINES = ("promptflow", "agent_framework")
LOCAL_ENGINE = "local"
TARGETS = ("local", "azure")
AZURE_ENGINE = "promptflow-azure"

__all__ = [
    "COMPLETED",
    "ENGINES",
    "FAILED",
    "SKIPPED",
    "TARGETS",
    "FlowEngine",
    "FlowSignature",
    "NodeVariants",
    "Progress",
    "RunOutcome",
    "RunRequest",
    "get_engine",
    "prepare_connections",
    "target_of",
]


def get_engine(
    name: str = LOCAL_ENGINE, *, root: Path, target: str = "local", env: str | None = None
) -> FlowEngine:
    """The engine for ``target`` at ``root`` (state stays under .llmops/).

    ``local`` runs each flow folder on its own engine; a single engine can be named
    (``promptflow`` or ``agent_framework``) where only that one is wanted.
    """
    if target not in TARGETS:
        raise LLMOpsError(f"unknown run target '{target}' (available: {', '.join(TARGETS)})")
    if target == "azure":
        from llmops.engine.promptflow_azure import AzurePromptflowEngine

        return AzurePromptflowEngine(root, env=env)
    # Imported here so that commands which never run a flow stay fast.
    if name == LOCAL_ENGINE:
        from llmops.engine.local import LocalEngines

        return LocalEngines(root)
    if name == "promptflow":
        from llmops.engine.promptflow_engine import PromptflowEngine

        return PromptflowEngine(root)
    if name == "agent_framework":
        from llmops.engine.agent_framework import AgentFrameworkEngine

        return AgentFrameworkEngine(root)
    raise LLMOpsError(f"unknown flow engine '{name}' (available: {', '.join(ENGINES)})")


def target_of(engine_name: str) -> str:
    """The run target an engine name recorded in a run record belongs to."""
    return "azure" if engine_name == AZURE_ENGINE else "local"


def prepare_connections(engine: FlowEngine, names: list[str], root: Path) -> None:
    """Local engines get connections built from secrets in the environment; Azure runs use
    the workspace's connections, so no key is read locally and only their names are checked."""
    check = getattr(engine, "check_workspace_connections", None)
    if check is not None:
        check(names)
        return
    from llmops.config import load_connections
    from llmops.connections import resolve_connections

    engine.ensure_connections(resolve_connections(names, load_connections(root)))
