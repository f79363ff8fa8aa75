"""Placeholder entry point; the fleet commands are being written."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fleet` console script."""
    raise SystemExit("fleet: not implemented yet")
