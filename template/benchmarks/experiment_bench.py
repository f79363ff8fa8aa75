"""Managed by the LLMOps template. Benchmark: both flow engines, variants x lines + evaluation.

Builds the same throw-away use case for each engine (``bench_use_cases.py``: an LLM node
with ``--variants`` variants, a Python step, ``--lines`` data lines and a code evaluator),
starts one mock LLM with ``--latency`` seconds per reply in a child process, then for
each engine runs ``llmops run`` and ``llmops evaluate`` in a child process of that
engine's Python (prompt flow and Agent Framework cannot share a venv). Each child prints
its figures as one JSON line; this process prints them side by side: engine start-up,
per stage the wall time, lines per second and the CPU time the engine's process used
per line, and the run stage against the ideal ``lines x variants x latency / workers``.
The last line is ``agent_framework_run_ratio=<run stage / ideal>``.

    python benchmarks/experiment_bench.py --lines 100 --variants 3 --latency 0.05 --workers 8

An engine's Python is ``--python-promptflow`` / ``--python-agent-framework``, else this
interpreter when it has the engine, else the project's ``.venv-promptflow`` /
``.venv-af`` (or ``.venv``) when it has it; without one the engine is skipped.
``--executor`` and ``--concurrent-runs`` set ``runtime.executor`` and
``runtime.concurrent_runs``. Figures and where the time goes: docs/experiments.md.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

ENGINES = ("promptflow", "agent_framework")
MODULES = {"promptflow": "promptflow", "agent_framework": "agent_framework"}
"""The package whose presence says a Python has the engine."""
PACKAGES = {"promptflow": "promptflow", "agent_framework": "agent-framework-core"}
START_IMPORTS = {
    "promptflow": (),
    "agent_framework": (
        ("llmops.engine.af_runner", "StandardRunner"),
        ("agent_framework.openai", "OpenAIChatCompletionClient"),
        ("openai.resources.chat", "AsyncChat"),
    ),
}
"""What an engine's first run imports that ``prepare_connections`` does not (lazy names)."""
SIBLINGS = {
    "promptflow": (".venv-promptflow", ".venv-pf", ".venv"),
    "agent_framework": (".venv-af", ".venv-agent-framework", ".venv"),
}
STAGES = (
    ("engine start", "start"),
    ("run stage", "run"),
    ("evaluate stage", "evaluate"),
    ("total wall", "total"),
)
MEASURED = ("start", "run", "evaluate")
RESULT = "BENCH-RESULT "
Figures = dict[str, Any]


def engine_list(text: str) -> tuple[str, ...]:
    """``--engines a,b``: known names, in the order given."""
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown engine(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(ENGINES)}"
        )
    return names


def positive(kind: type) -> Any:
    """An argparse type: ``kind`` above zero."""

    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``--child`` and ``--project`` are for the per-engine children)."""
    title = (__doc__ or "").splitlines()[0].removeprefix("Managed by the LLMOps template. ")
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--lines", type=positive(int), default=100)
    parser.add_argument("--variants", type=positive(int), default=3)
    parser.add_argument("--latency", type=float, default=0.05, help="mock seconds per reply")
    parser.add_argument("--workers", type=positive(int), default=8)
    parser.add_argument("--executor", choices=("threads", "processes"), default="threads")
    parser.add_argument("--concurrent-runs", type=positive(int), default=1, help="runs at a time")
    parser.add_argument(
        "--engines", type=engine_list, default=ENGINES, help="comma-separated, in this order"
    )
    for engine in ENGINES:
        parser.add_argument(
            f"--python-{engine.replace('_', '-')}", metavar="PATH", help="its Python or venv"
        )
    parser.add_argument("--verbose", action="store_true", help="show the engines' run logs")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--project", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def has_module(python: str, module: str) -> bool:
    """Whether ``python`` can import ``module`` (found, not imported: that takes seconds)."""
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    try:
        return subprocess.run([python, "-c", probe, module], check=False).returncode == 0
    except OSError:
        return False


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv folder, on POSIX or Windows."""
    posix = venv / "bin" / "python"
    return posix if posix.exists() else venv / "Scripts" / "python.exe"


def find_python(engine: str, given: str | None, root: Path = ROOT) -> tuple[str | None, str]:
    """``(python, how it was chosen)``, or ``(None, why the engine is skipped)``."""
    module, option = MODULES[engine], f"--python-{engine.replace('_', '-')}"
    if given:
        python = Path.cwd() / given  # not resolve(): a venv's python is a symlink
        python = venv_python(python) if python.is_dir() else python
        if not python.exists():
            return None, f"{option} {given}: not found"
        if not has_module(str(python), module):
            return None, f"{option} {given}: cannot import {module}"
        return str(python), option
    if importlib.util.find_spec(module) is not None:
        return sys.executable, "this interpreter"
    for name in SIBLINGS[engine]:
        python = venv_python(root / name)
        if python.exists() and has_module(str(python), module):
            return str(python), name
    return None, (
        f"no Python with {module}: not this interpreter, nor a "
        f"{' / '.join(SIBLINGS[engine])} in the project; give {option} PATH"
    )


def measure(args: argparse.Namespace) -> Figures:
    """In a child: start the engine, run and evaluate ``bench``, return the figures."""
    from llmops.config import load_connections
    from llmops.engine import get_engine, prepare_connections
    from llmops.evaluate import evaluate_use_case
    from llmops.run import run_use_case

    project, name = Path(args.project), args.child
    engine = get_engine(name, root=project)
    names = [connection.name for connection in load_connections(project)]

    def echo(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    clock = [(time.monotonic(), time.process_time())]
    prepare_connections(engine, names, project)  # prompt flow: imports it
    for module, attribute in START_IMPORTS[name]:
        getattr(importlib.import_module(module), attribute)
    clock.append((time.monotonic(), time.process_time()))
    record = run_use_case(project, "bench", None, engine, echo=echo)
    clock.append((time.monotonic(), time.process_time()))
    evaluated = evaluate_use_case(project, "bench", None, engine, echo=echo)
    clock.append((time.monotonic(), time.process_time()))
    failed_lines = sum(
        1
        for run in record.standard_runs
        for line in engine.line_results(run.run_name)
        if line.get("error") or not isinstance((line.get("outputs") or {}).get("answer"), str)
    )
    stages = {}
    for stage, (before, after) in zip(MEASURED, itertools.pairwise(clock), strict=True):
        stages[stage] = after[0] - before[0]
        stages[f"{stage}_cpu"] = after[1] - before[1]
    return {
        "engine": name,
        "version": package_version(PACKAGES[name]),
        "pyc": bytecode_cached(MODULES[name]),
        "standard_runs": len(record.standard_runs),
        "evaluation_runs": len(evaluated.evaluation_runs),
        "failed_runs": evaluated.failed,
        "failed_lines": failed_lines,
        "lines": args.lines * len(record.standard_runs),
        **{key: round(value, 4) for key, value in stages.items()},
    }


def package_version(package: str) -> str:
    """The installed version, or ``?``."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def bytecode_cached(module: str) -> bool:
    """Whether the engine loads from .pyc files (importing prompt flow takes ~3x longer without)."""
    spec = importlib.util.find_spec(module)
    origin = spec.origin if spec else None
    return bool(origin) and Path(importlib.util.cache_from_source(origin)).is_file()


def run_child(python: str, engine: str, project: Path, args: argparse.Namespace) -> Figures | str:
    """One engine's figures from a child process, or why there are none."""
    command = [python, str(Path(__file__).resolve()), "--child", engine, "--project", str(project)]
    for option in ("lines", "variants", "latency", "workers"):
        command += [f"--{option}", str(getattr(args, option))]
    env = dict(os.environ)
    for name in ("PF_HOME_DIRECTORY", "KEYRING_PROPERTY_FILE_PATH", "PYTHON_KEYRING_BACKEND"):
        env.pop(name, None)  # the throw-away project gets its own prompt flow home
    result = subprocess.run(
        command,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if args.verbose else subprocess.PIPE,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
    tail = (result.stderr or result.stdout or "").strip().splitlines()[-1:] or ["no output"]
    return f"failed (exit {result.returncode}): {tail[0]}"


def ideal(args: argparse.Namespace, standard_runs: int) -> float:
    """Seconds the run stage would take if only the mock's latency counted."""
    return args.lines * standard_runs * args.latency / args.workers


def run_ratio(figures: Figures | str | None, args: argparse.Namespace) -> float | None:
    """Run-stage wall time over the ideal, when measured."""
    if not isinstance(figures, dict) or not figures["standard_runs"]:
        return None
    return figures["run"] / ideal(args, figures["standard_runs"])


def report(
    args: argparse.Namespace,
    pythons: dict[str, tuple[str | None, str]],
    results: dict[str, Figures | str],
) -> list[str]:
    """The printed figures: one column per engine, the AF ratio last."""
    lines = [
        f"{args.variants} variants x {args.lines} lines, mock latency {args.latency:g} s, "
        f"{args.workers} workers, executor {args.executor}, {args.concurrent_runs} run(s) at a time"
    ]
    for engine in args.engines:
        python, how = pythons[engine]
        figures = results.get(engine, how)
        if not isinstance(figures, dict):
            lines.append(f"{engine + ':':17}{figures}")
            continue
        cached = "yes" if figures["pyc"] else "no: PYTHONDONTWRITEBYTECODE or a read-only venv"
        lines += [
            f"{engine + ':':17}{PACKAGES[engine]} {figures['version']}, {python} ({how}); "
            f".pyc cached: {cached}",
            f"{'':17}runs: {figures['standard_runs']} standard + {figures['evaluation_runs']} "
            f"evaluation, {len(figures['failed_runs'])} failed; "
            f"{figures['failed_lines']} failed line(s)",
        ]
    columns = {engine: results.get(engine) for engine in args.engines}
    rows = [("", {engine: engine for engine in columns})]
    for title, key in STAGES:
        rows += stage_rows(title, key, columns, args)
    lines.append("")
    width = max(len(engine) for engine in columns) + 2
    for title, cells in rows:
        lines.append(f"{title:17}" + "".join(f"{cells.get(e, '-'):>{width}}" for e in columns))
    measured = [f for f in columns.values() if isinstance(f, dict) and f["standard_runs"]]
    runs = measured[0]["standard_runs"] if measured else args.variants
    lines.append(
        f"ideal = lines x variants x latency / workers = {args.lines} x {runs} x "
        f"{args.latency:g} / {args.workers} = {ideal(args, runs):.2f} s"
    )
    ratio = run_ratio(results.get("agent_framework"), args)
    lines.append(f"agent_framework_run_ratio={'skipped' if ratio is None else f'{ratio:.2f}'}")
    return lines


def stage_rows(
    title: str,
    key: str,
    columns: dict[str, Figures | str | None],
    args: argparse.Namespace,
) -> list[tuple[str, dict[str, str]]]:
    """A stage's rows: wall time, then (not for start-up) lines/s, CPU, and the ideal."""
    wall, rate, cpu, per_line, versus = {}, {}, {}, {}, {}
    for engine, figures in columns.items():
        if not isinstance(figures, dict):
            continue
        parts = MEASURED if key == "total" else (key,)
        seconds = sum(figures[part] for part in parts)
        spent = sum(figures[f"{part}_cpu"] for part in parts)
        lines = max(figures["lines"], 1)
        wall[engine] = f"{seconds:.2f} s"
        rate[engine] = f"{lines / seconds:.1f}" if seconds > 0 else "-"
        cpu[engine] = f"{spent:.2f} s"
        per_line[engine] = f"{1000 * spent / lines:.2f}"
        ratio = run_ratio(figures, args)
        if ratio is not None:
            versus[engine] = f"{ratio:.2f}x ideal"
    rows = [(f"{title}:", wall)]
    if key == "start":
        return [*rows, ("  CPU:", cpu)]
    rows += [("  lines/s:", rate), ("  CPU:", cpu), ("  CPU ms/line:", per_line)]
    return [*rows, ("  vs ideal:", versus)] if key == "run" else rows


def failed(figures: Figures | str) -> bool:
    """A child that crashed, or a run or line that failed."""
    if not isinstance(figures, dict):
        return figures.startswith("failed")
    return bool(figures["failed_runs"] or figures["failed_lines"])


def build_projects(folder: Path, args: argparse.Namespace) -> dict[str, Path]:
    """One throw-away project per engine under ``folder``, from the same data."""
    from bench_use_cases import build

    projects = {engine: folder / engine for engine in args.engines}
    for engine, project in projects.items():
        build(
            ROOT,
            project,
            engine,
            lines=args.lines,
            variants=args.variants,
            workers=args.workers,
            executor=args.executor,
            concurrent_runs=args.concurrent_runs,
        )
    return projects


def main(argv: list[str] | None = None) -> int:
    """Measure each engine in a child and print the table; ``--child``: be that child."""
    args = parse_args(argv)
    if args.child:
        print(RESULT + json.dumps(measure(args)), flush=True)
        return 0
    try:
        from llmops.mock_llm import connections_pointed_at, start_in_subprocess
    except ImportError as error:
        print(
            f"cannot import llmops ({error}): run this with the project's Python", file=sys.stderr
        )
        return 2
    pythons = {
        engine: find_python(engine, getattr(args, f"python_{engine}")) for engine in args.engines
    }
    results: dict[str, Figures | str] = {}
    with tempfile.TemporaryDirectory(prefix="llmops-bench-") as folder:
        projects = build_projects(Path(folder), args)
        mock_root = projects[args.engines[0]]  # every project has the same config
        with (
            start_in_subprocess(mock_root, latency=args.latency) as base_url,
            connections_pointed_at(mock_root, base_url),
        ):
            for engine, (python, how) in pythons.items():
                if python is None:
                    results[engine] = f"skipped: {how}"
                    continue
                print(f"[bench] {engine}: {python}", file=sys.stderr, flush=True)
                results[engine] = run_child(python, engine, projects[engine], args)
    for line in report(args, pythons, results):
        print(line)
    return 1 if any(failed(figures) for figures in results.values()) else 0


if __name__ == "__main__":  # required: prompt flow starts worker processes
    sys.exit(main())
