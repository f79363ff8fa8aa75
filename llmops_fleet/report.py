"""Terminal tables and JSON documents for `status` and `update` results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from llmops_fleet.status import ProjectStatus
from llmops_fleet.update import UpdateResult

_OUTCOME_STYLE = {"updated": "green", "current": "dim", "conflicts": "yellow", "failed": "red"}


def generated_at() -> str:
    """Now, in UTC, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def to_json(kind: str, items: Sequence[ProjectStatus | UpdateResult]) -> str:
    """``{"kind": ..., "generated_at": ..., "projects": [...]}``, pretty-printed."""
    document: dict[str, Any] = {
        "kind": kind,
        "generated_at": generated_at(),
        "projects": [item.to_dict() for item in items],
    }
    return json.dumps(document, indent=2) + "\n"


def status_table(statuses: Sequence[ProjectStatus]) -> Table:
    """One row per project; problems in colour."""
    table = Table(title="Template status", title_justify="left")
    for column in ("Project", "Version", "Latest", "Behind", "Dirty", "Drift", "Policy"):
        table.add_column(column, overflow="fold")
    for status in statuses:
        behind = "?" if status.versions_behind is None else str(status.versions_behind)
        if status.versions_behind:
            behind = f"[yellow]{behind}[/]"
        dirty = {None: "?", True: "[yellow]yes[/]", False: "no"}[status.dirty]
        if status.error:
            drift = f"[red]error: {escape(status.error)}[/]"
        elif status.drift:
            drift = f"[red]{escape(status.drift.summary())}[/]"
        else:
            drift = "none"
        policy = "\n".join(f"[red]{escape(v.message)}[/]" for v in status.violations) or "ok"
        table.add_row(
            escape(status.name),
            escape(status.recorded_version or "?"),
            escape(status.latest_version or "?"),
            behind,
            dirty,
            drift,
            policy,
        )
    return table


def update_table(results: Sequence[UpdateResult]) -> Table:
    """One row per project with its outcome and what a human has to do."""
    table = Table(title="Template update", title_justify="left")
    for column in ("Project", "Outcome", "From", "To", "Branch", "Details"):
        table.add_column(column, overflow="fold")
    for result in results:
        style = _OUTCOME_STYLE[result.outcome]
        details = result.reason or ", ".join(result.conflicts)
        table.add_row(
            escape(result.name),
            f"[{style}]{result.outcome}[/]",
            escape(result.from_version or "?"),
            escape(result.to_version or "?"),
            escape(result.branch or ""),
            escape(details),
        )
    return table
