"""Managed by the LLMOps template. What every ``llmops`` command shares: exit statuses,
user errors as ``error:`` lines, and ``--all`` (each use case in turn, one verdict).

Exit status: 0 success; 1 a run, a gate, a deployment or a smoke test failed; 2 a
problem to fix in files or settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from llmops.errors import LLMOpsError
from llmops.paths import list_use_cases, resolve_use_case

OK, RUN_FAILED, USER_ERROR = 0, 1, 2


def print_error(error: LLMOpsError) -> None:
    """A user error as ``error:`` lines, no traceback."""
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)


def add_use_case_choice(parser: argparse.ArgumentParser, all_help: str) -> None:
    """``--use-case NAME`` or ``--all``, never both."""
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--use-case", help="use case (default: the only one)")
    chosen.add_argument("--all", action="store_true", help=all_help)


def chosen_use_cases(root: Path, args: argparse.Namespace) -> list[str]:
    """Every use case with ``--all``, else the one named (or the only one)."""
    names = list_use_cases(root) if getattr(args, "all", False) else []
    return names or [resolve_use_case(root, args.use_case)]  # raises when there is none


def each_use_case(names: list[str], command: str, one: Callable[[str], int]) -> int:
    """Run ``one`` per use case; a user error in one is printed and the next still runs.

    Returns the worst status (2 before 1 before 0), and with several use cases prints
    which ones passed, so a pipeline log ends with the verdict.
    """
    statuses: dict[str, int] = {}
    for name in names:
        try:
            statuses[name] = one(name)
        except LLMOpsError as error:
            print_error(error)
            statuses[name] = USER_ERROR
    worst = max(statuses.values())
    if len(names) > 1:
        verdicts = {OK: "ok", RUN_FAILED: "FAILED", USER_ERROR: "ERROR"}
        listed = ", ".join(f"{name} {verdicts[status]}" for name, status in statuses.items())
        stream = sys.stderr if worst else sys.stdout
        print(f"[{command}] {len(names)} use cases: {listed}", file=stream)
    return worst
