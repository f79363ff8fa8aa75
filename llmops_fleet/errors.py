"""Errors and exit codes shared by the fleet commands."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # some project failed `check` or `update`
EXIT_USAGE = 2  # bad arguments, project list or policy file (argparse uses 2 too)


class FleetError(Exception):
    """A problem with the fleet tool's own inputs; the CLI prints it and exits 2."""


def first_line(error: BaseException) -> str:
    """An exception as one short line (Copier errors can span many)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
