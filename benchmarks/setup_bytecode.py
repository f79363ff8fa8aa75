"""Print what byte-compiling the venv at `make setup` saves each llmops command.

Usage: python benchmarks/setup_bytecode.py [--runs N] [--keep DIR]

Generates a default project, installs it twice with uv (once with --compile-bytecode,
as `make setup` does, once without, as before), then runs the same commands in both
venvs in alternation with PYTHONDONTWRITEBYTECODE=1 (as CI images set it) and prints the
median wall and CPU time of each, side by side. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIER = str(Path(sys.executable).parent / "copier")
COMMANDS = {
    "llmops --version": ["--version"],
    "llmops validate --all": ["validate", "--all"],
    "llmops experiment --offline": ["experiment", "--offline", "--all", "--env", "pr"],
}


def sh(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (children's user + system) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def install(project: Path, venv: Path, compiled: bool, env: dict[str, str]) -> None:
    python = subprocess.run(
        ["sh", "scripts/find-python.sh", "3.11"], cwd=project, env=env, check=True,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    sh(["uv", "venv", "--quiet", "--python", python, str(venv)], project, env)
    flags = ["--compile-bytecode"] if compiled else []
    sh(["uv", "pip", "install", "--quiet", *flags, "--python", str(venv / "bin" / "python"),
        "-e", ".[dev]"], project, env)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temp one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bytecode-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COPIER_SETTINGS_PATH": str(work / "s")}
    (work / "s").write_text("{}\n")
    project = work / "project"
    if not project.exists():
        sh([COPIER, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD",
            "-d", "project_name=Bytecode Bench", str(ROOT), str(project)], work, env)  # fmt: skip
    venvs = {"compiled": work / "venv-compiled", "plain": work / "venv-plain"}
    for label, venv in venvs.items():
        if not venv.exists():
            install(project, venv, label == "compiled", env)
    print(f"project: {project}  runs: {args.runs}  PYTHONDONTWRITEBYTECODE=1")
    for title, argv in COMMANDS.items():
        figures: dict[str, list[tuple[float, float]]] = {label: [] for label in venvs}
        for _ in range(args.runs):
            for label, venv in venvs.items():  # alternate: both see the same machine load
                figures[label].append(timed([str(venv / "bin" / "llmops"), *argv], project, env))
        line = [f"{title:<30}"]
        for label, samples in figures.items():
            wall = statistics.median(s[0] for s in samples)
            cpu = statistics.median(s[1] for s in samples)
            line.append(f"{label}: {wall:6.2f} s wall {cpu:6.2f} s CPU")
        compiled_wall = statistics.median(s[0] for s in figures["compiled"])
        plain_wall = statistics.median(s[0] for s in figures["plain"])
        line.append(f"plain/compiled: {plain_wall / compiled_wall:.1f}x")
        print("  ".join(line))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
