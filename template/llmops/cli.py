"""Managed by the LLMOps template. The ``llmops`` command: wires the stages, nothing more.

Exit status: 0 success; 1 a run failed (the others still ran and were recorded)
or a quality gate failed; 2 a problem to fix in files or settings (printed as
``error: ...``, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from dotenv import load_dotenv

from llmops import __version__
from llmops.cli_azure import add_outer_loop, add_run_target, recorded_engine, run_engine
from llmops.cli_each import (
    OK,
    RUN_FAILED,
    USER_ERROR,
    add_use_case_choice,
    chosen_use_cases,
    each_use_case,
    print_error,
)
from llmops.engine import get_engine
from llmops.engine.promptflow_engine import promptflow_installed
from llmops.errors import LLMOpsError
from llmops.evaluate import evaluate_use_case
from llmops.gate import format_markdown, format_table, gate_use_case, summary
from llmops.import_flow import import_flow
from llmops.log_handlers import flush_telemetry_handlers
from llmops.migrate_flow import plan_migration, prompt_flow_use_cases, require_clean_tree
from llmops.mock_llm import fixture_files, load_fixtures, offline_connections, serve_forever
from llmops.new_flow import list_samples, new_flow
from llmops.paths import find_root, list_use_cases, relative, resolve_use_case
from llmops.pipeline_summary import publish
from llmops.progress import rich_reporter
from llmops.report import write_report
from llmops.run import run_use_case
from llmops.state import RunRecord
from llmops.validate import validate_use_case


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one command, turn user errors into ``error:`` lines."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except LLMOpsError as error:  # ValidationFailed says one problem per line
        print_error(error)
        return USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        flush_telemetry_handlers()


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(
        prog="llmops",
        description="Validate, run, evaluate and report LLM flow experiments "
        "(prompt flow or Agent Framework).",
        epilog="Exit status: 0 ok, 1 a run or a gate failed, 2 a problem in files or settings.",
    )
    parser.add_argument("--version", action="version", version=f"llmops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    validate = add("validate", _validate, "check experiments, flows and data before any LLM call")
    add_use_case_choice(validate, "check every use case")
    _add_env(validate)
    for name, handler, help_text in (
        ("run", _run, "run the standard flow over every dataset"),
        ("evaluate", _evaluate, "run the evaluators against the recorded standard runs"),
        ("report", _report, "write CSV files and report.html under reports/<use case>/"),
        ("experiment", _experiment, "validate, run, evaluate, report and gate in one go"),
        ("gate", _gate, "check the metric gates of experiment.yaml; exit 1 when one fails"),
    ):
        sub = add(name, handler, help_text)
        if name in ("experiment", "gate"):
            add_use_case_choice(
                sub, "every use case in turn, in one process; one failing does not stop the rest"
            )
        else:
            sub.add_argument("--use-case", help="use case (default: the only one)")
        _add_env(sub)
        if name in ("run", "evaluate", "experiment"):
            add_run_target(sub)
            sub.add_argument(
                "--workers",
                type=int,
                choices=range(1, 65),
                metavar="N",
                help="lines run in parallel per run, 1-64 (default: runtime.workers)",
            )
        if name == "experiment":
            sub.add_argument(
                "--offline",
                action="store_true",
                help="point every connection at a local mock LLM started for this command",
            )
    add("use-cases", _use_cases, "print the use-case names, one per line")
    add_outer_loop(add, _project)
    add("schema", _schema, "write schemas/*.schema.json (editors validate project files with them)")
    new = add("new-flow", _new_flow, "add a use case, copied from a sample or a use case")
    new.add_argument("name", help="name of the new use case (folder and experiment name)")
    new.add_argument(
        "--from",
        dest="source",
        metavar="SAMPLE",
        help=f"sample ({', '.join(list_samples()) or 'none'}) or use case to copy "
        "(default: named_entity_recognition)",
    )
    imported = add(
        "import-flow", _import_flow, "add a use case from an existing prompt flow folder"
    )
    imported.add_argument("path", type=Path, help="flow folder (flow.dag.yaml or flow.flex.yaml)")
    imported.add_argument("--name", help="use-case name (default: derived from the folder name)")
    imported.add_argument(
        "--evaluation", type=Path, metavar="PATH", help="evaluation flow folder to copy with it"
    )
    imported.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="JSONL or CSV dataset (default: one found in the flow folder)",
    )
    migrate = add(
        "migrate-flow",
        _migrate_flow,
        "convert a prompt flow use case to Agent Framework in place (review with git diff)",
    )
    chosen = migrate.add_mutually_exclusive_group()
    chosen.add_argument("use_case", nargs="?", help="use case (default: the only one)")
    chosen.add_argument("--all", action="store_true", help="every prompt flow use case")
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    mock = add("mock-llm", _mock_llm, "serve the OpenAI / Azure OpenAI mock on 127.0.0.1")
    mock.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    mock.add_argument("--latency", type=float, default=0.0, help="seconds of delay per reply")
    mock.add_argument(
        "--fixtures",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="responses.jsonl files (default: use_cases/*/mock/responses.jsonl)",
    )
    return parser


def _add_env(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        help="environment whose experiment.<env>.yaml overlay applies (default: $ENV_NAME)",
    )


def _project(args: argparse.Namespace) -> tuple[Path, str | None]:
    """Project root, after loading its .env (variables already set win), and the env."""
    root = find_root()
    load_dotenv(root / ".env", override=False)
    env = getattr(args, "env", None) or os.environ.get("ENV_NAME") or None
    return root, env


def _use_cases(args: argparse.Namespace) -> int:
    root, _ = _project(args)
    for name in list_use_cases(root):
        print(name)
    return OK


def _validate(args: argparse.Namespace) -> int:
    root, env = _project(args)
    names = chosen_use_cases(root, args)
    engine = get_engine(root=root)

    def one(name: str) -> int:
        problems = validate_use_case(root, name, env, engine)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"[validate] {name}: {'FAILED' if problems else 'ok'} (env {env or 'none'})")
        return USER_ERROR if problems else OK

    return each_use_case(names, "validate", one)


def _run(args: argparse.Namespace) -> int:
    return _stage(run_use_case, args)


def _evaluate(args: argparse.Namespace) -> int:
    return _stage(evaluate_use_case, args)


def _stage(stage: Callable[..., RunRecord], args: argparse.Namespace) -> int:
    """Run one stage (run or evaluate) of one use case with a progress bar."""
    root, env = _project(args)
    use_case = resolve_use_case(root, args.use_case)
    record = stage(
        root,
        use_case,
        env,
        run_engine(args, root, env),
        workers=args.workers,
        reporter=rich_reporter(),
    )
    return _status(record)


def _report(args: argparse.Namespace) -> int:
    root, env = _project(args)
    use_case = resolve_use_case(root, args.use_case)
    write_report(root, use_case, recorded_engine(root, use_case, env))
    return OK


def _experiment(args: argparse.Namespace) -> int:
    """Validate, run, evaluate, report and gate each chosen use case with one engine and mock."""
    root, env = _project(args)
    names = chosen_use_cases(root, args)
    engine = run_engine(args, root, env)
    mock = offline_connections(root) if args.offline else contextlib.nullcontext()
    reporter = rich_reporter()

    def one(use_case: str) -> int:
        print(f"[experiment] {use_case} (env {env or 'none'}{', offline' if args.offline else ''})")
        run_use_case(root, use_case, env, engine, workers=args.workers, reporter=reporter)
        record = evaluate_use_case(
            root, use_case, env, engine, workers=args.workers, reporter=reporter
        )
        write_report(root, use_case, engine)
        status = _status(record)
        gated = _gate_one(root, use_case, env)
        return status if status != OK else gated

    with mock:
        return each_use_case(names, "experiment", one)


def _gate(args: argparse.Namespace) -> int:
    """The gate step of a pipeline: its table also goes to the run's summary page."""
    root, env = _project(args)
    return each_use_case(
        chosen_use_cases(root, args),
        "gate",
        lambda name: _gate_one(root, name, env, to_run_summary=True),
    )


def _gate_one(root: Path, use_case: str, env: str | None, to_run_summary: bool = False) -> int:
    results = gate_use_case(root, use_case, env)
    if to_run_summary:
        publish(f"gates-{use_case}", format_markdown(use_case, results))
    if results:
        print(format_table(results))
    passed = all(item.passed for item in results)
    print(f"[gate] {use_case}: {summary(results)}", file=sys.stdout if passed else sys.stderr)
    return OK if passed else RUN_FAILED


def _schema(args: argparse.Namespace) -> int:
    root, _ = _project(args)
    from llmops.schemas import write_schemas

    for path in write_schemas(root):
        print(f"[schema] wrote {relative(path, root)}")
    return OK


def _new_flow(args: argparse.Namespace) -> int:
    root, _ = _project(args)
    folder = new_flow(root, args.name, args.source)
    print(f"[new-flow] created {relative(folder, root)} from {args.source or 'the default sample'}")
    print(f"  next: llmops validate --use-case {args.name}")
    print(f"        llmops experiment --offline --use-case {args.name}")
    return OK


def _import_flow(args: argparse.Namespace) -> int:
    root, _ = _project(args)
    result = import_flow(
        root,
        args.path,
        get_engine(root=root),
        name=args.name,
        evaluation=args.evaluation,
        data=args.data,
    )
    for line in result.summary(root):
        print(line)
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    for problem in result.problems:
        print(f"error: {problem}", file=sys.stderr)
    if not result.problems and not promptflow_installed():
        print(
            "[import-flow] this project installs Agent Framework, not prompt flow: commit, "
            f"then `llmops migrate-flow {result.name}` converts the imported flow"
        )
    return USER_ERROR if result.problems else OK


def _migrate_flow(args: argparse.Namespace) -> int:
    """Plan each use case, refuse before writing, write, then validate the result."""
    root, _ = _project(args)
    available = list_use_cases(root)
    if not (args.all or args.use_case) and len(available) > 1:
        raise LLMOpsError(f"name the use case to migrate ({', '.join(available)}) or pass --all")
    names = prompt_flow_use_cases(root) if args.all else [resolve_use_case(root, args.use_case)]
    if not names:
        print("[migrate-flow] no prompt flow use case: nothing to migrate")
        return OK
    if not args.dry_run:
        require_clean_tree(root)  # once: the first migrated use case dirties the tree
    engine = get_engine(root=root)

    def one(name: str) -> int:
        migration = plan_migration(root, name)
        for line in migration.plan_lines(root):
            print(line)
        if args.dry_run:
            return OK
        for line in migration.apply(root):
            print(line)
        problems = validate_use_case(root, name, None, engine)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return USER_ERROR if problems else OK

    return each_use_case(names, "migrate-flow", one)


def _mock_llm(args: argparse.Namespace) -> int:
    paths = args.fixtures
    if paths is None:
        try:
            paths = fixture_files(find_root())
        except LLMOpsError:
            paths = []  # outside a project: fallback replies only
    return serve_forever(port=args.port, fixtures=load_fixtures(paths), latency=args.latency)


def _status(record: RunRecord) -> int:
    failed = record.failed
    if failed:
        print(f"error: {len(failed)} run(s) did not complete: {', '.join(failed)}", file=sys.stderr)
        return RUN_FAILED
    return OK
