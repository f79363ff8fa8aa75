"""`fleet check`: the pass/fail verdict a scheduled pipeline acts on."""

from __future__ import annotations

from llmops_fleet.status import ProjectStatus


def failure_reasons(status: ProjectStatus, max_behind: int | None) -> list[str]:
    """Why a project fails the check; empty when it passes."""
    reasons = []
    if status.error:
        reasons.append(status.error)
    behind = status.versions_behind
    if max_behind is not None and (behind is None or behind > max_behind):
        count = "an unknown number of" if behind is None else str(behind)
        reasons.append(f"{count} versions behind {status.latest_version} (max {max_behind})")
    if status.drift:
        reasons.append(f"drift: {status.drift.summary()}")
    reasons.extend(f"policy {v.rule}: {v.message}" for v in status.violations)
    return reasons


def check_line(status: ProjectStatus, reasons: list[str]) -> str:
    """One line per failing project: its path, then every reason."""
    return f"FAIL {status.path}: " + "; ".join(reasons)
