"""The `fleet` console script: status, check and update across many generated projects."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from llmops_fleet.check import check_line, failure_reasons
from llmops_fleet.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, FleetError
from llmops_fleet.html_report import status_html
from llmops_fleet.inventory import resolve_projects
from llmops_fleet.parallel import default_workers
from llmops_fleet.policy import Policy, load_policy
from llmops_fleet.report import status_table, to_json, update_table
from llmops_fleet.runner import RunOptions, collect_statuses, run_updates

DESCRIPTION = """\
See and update every project generated from this Copier template.
PROJECT is a project checkout, or a .yml file listing them (projects: [{path: ...}]).
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs test for the usage text)."""
    parser = argparse.ArgumentParser(prog="fleet", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    status = commands.add_parser(
        "status", help="report version, lag, dirty tree, drift and policy violations"
    )
    _common(status)
    status.add_argument("--policy", type=Path, metavar="FILE", help="policy YAML to evaluate")
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML report")

    check = commands.add_parser(
        "check", help="exit 1 when a project lags, drifts or breaks the policy"
    )
    _common(check)
    check.add_argument("--policy", type=Path, metavar="FILE", help="policy YAML to enforce")
    check.add_argument(
        "--max-behind", type=_count, metavar="N", help="fail projects more than N releases behind"
    )

    update = commands.add_parser(
        "update", help="copier update each project onto a template-update/<version> branch"
    )
    _common(update)
    update.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("projects", nargs="+", metavar="PROJECT")
    parser.add_argument(
        "--workers",
        type=_count,
        default=default_workers(),
        metavar="N",
        help="parallel worker processes (default: CPU count)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `fleet` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    err = Console(file=sys.stderr, stderr=True)
    options = RunOptions(
        workers=max(1, args.workers), console=err, show_progress=not args.no_progress
    )
    try:
        projects = resolve_projects(args.projects)
        policy = load_policy(args.policy) if getattr(args, "policy", None) else None
        if args.command == "update":
            return _update(projects, options, args.format, out)
        if args.command == "check":
            return _check(projects, policy, options, args.max_behind, out)
        return _status(projects, policy, options, args, out)
    except FleetError as error:
        err.print(f"fleet: {error}", style="red", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE


def _status(
    projects: list[Path],
    policy: Policy | None,
    options: RunOptions,
    args: argparse.Namespace,
    out: Console,
) -> int:
    statuses = collect_statuses(projects, policy, options)
    if args.html:
        args.html.write_text(status_html(statuses), encoding="utf-8")
    if args.format == "json":
        sys.stdout.write(to_json("status", statuses))
    else:
        out.print(status_table(statuses))
    return EXIT_OK


def _check(
    projects: list[Path],
    policy: Policy | None,
    options: RunOptions,
    max_behind: int | None,
    out: Console,
) -> int:
    statuses = collect_statuses(projects, policy, options)
    failing = 0
    for status in statuses:
        reasons = failure_reasons(status, max_behind)
        if reasons:
            failing += 1
            out.print(check_line(status, reasons), markup=False, highlight=False, soft_wrap=True)
    total = len(statuses)
    summary = f"{failing} of {total} projects fail" if failing else f"all {total} projects pass"
    out.print(f"fleet check: {summary}", markup=False, highlight=False)
    return EXIT_FAILED if failing else EXIT_OK


def _update(projects: list[Path], options: RunOptions, output: str, out: Console) -> int:
    results = run_updates(projects, options)
    if output == "json":
        sys.stdout.write(to_json("update", results))
    else:
        out.print(update_table(results))
    return EXIT_FAILED if any(r.outcome == "failed" for r in results) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
