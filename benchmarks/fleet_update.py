"""Time `fleet update` over a fleet of projects against a plain `copier update` loop.

Usage: python benchmarks/fleet_update.py [--projects 20]

Builds a throwaway copy of this template tagged v1.0.0, generates the projects
from it, changes a template-owned file and tags v1.1.0. Then it times three
rounds, resetting every project between them: `fleet update --workers 1`,
`fleet update --workers 2`, and a sequential loop of `copier update`
subprocesses (branch, update, commit, like fleet does). Copier's settings, cache
and git identity are isolated in the temp folder. Nothing is asserted: the
figures are for people.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RELEASE_FILES = ("copier.yml", "ownership.yml")
RELEASE_FOLDERS = ("extensions", "migrations", "template")
BRANCH = "template-update/v1.1.0"


def sh(*command: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def isolated_env(work: Path) -> dict[str, str]:
    """Copier and git configured only by what is in ``work``."""
    (work / "settings.yml").write_text("{}\n")
    (work / "gitconfig").write_text(
        "[user]\n\tname = bench\n\temail = bench@example.invalid\n[init]\n\tdefaultBranch = main\n"
    )
    return {
        **os.environ,
        "COPIER_SETTINGS_PATH": str(work / "settings.yml"),
        "COPIER_CACHE_DIR": str(work / "cache"),
        "GIT_CONFIG_GLOBAL": str(work / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def make_template(work: Path, env: dict[str, str]) -> Path:
    """This template at v1.0.0; v1.1.0 is tagged later by `release_v1_1`."""
    source = work / "template-src"
    source.mkdir()
    for name in RELEASE_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in RELEASE_FOLDERS:
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    sh("git", "init", "-q", cwd=source, env=env)
    sh("git", "add", "-A", cwd=source, env=env)
    sh("git", "commit", "-qm", "v1.0.0", cwd=source, env=env)
    sh("git", "tag", "-a", "v1.0.0", "-m", "v1.0.0", cwd=source, env=env)
    return source


def release_v1_1(source: Path, env: dict[str, str]) -> None:
    """Change a template-owned file and tag v1.1.0."""
    gitignore = source / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "*.log\n")
    sh("git", "commit", "-qam", "v1.1.0", cwd=source, env=env)
    sh("git", "tag", "-a", "v1.1.0", "-m", "v1.1.0", cwd=source, env=env)


def generate(source: Path, projects: Path, count: int, env: dict[str, str]) -> list[Path]:
    copier = str(BIN / "copier")
    made = []
    for index in range(count):
        project = projects / f"project-{index:02d}"
        name = f"project_name=Bench {index:02d}"
        sh(copier, "copy", "--trust", "--defaults", "--quiet", "-r", "v1.0.0", "-d", name,
           str(source), str(project), cwd=projects, env=env)  # fmt: skip
        sh("git", "init", "-q", cwd=project, env=env)
        sh("git", "add", "-A", cwd=project, env=env)
        sh("git", "commit", "-qm", "generated", cwd=project, env=env)
        made.append(project)
    return made


def reset(projects: list[Path], env: dict[str, str]) -> None:
    """Back to the generated state: on main, no update branch."""
    for project in projects:
        sh("git", "checkout", "-q", "-f", "main", cwd=project, env=env)
        sh("git", "clean", "-qfd", cwd=project, env=env)
        sh("git", "branch", "-D", BRANCH, cwd=project, env=env)


def timed_fleet(projects: list[Path], workers: int, env: dict[str, str]) -> float:
    command = [str(BIN / "fleet"), "update", "--workers", str(workers), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(
        [*command, "--format", "json", *map(str, projects)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    outcomes = Counter(p["outcome"] for p in json.loads(done.stdout)["projects"])
    if outcomes != {"updated": len(projects)}:
        raise SystemExit(f"fleet update --workers {workers}: unexpected outcomes {outcomes}")
    return elapsed


def timed_loop(projects: list[Path], env: dict[str, str]) -> float:
    """What a shell script would do: branch, `copier update`, commit, back to main."""
    copier = str(BIN / "copier")
    start = time.perf_counter()
    for project in projects:
        sh("git", "checkout", "-q", "-b", BRANCH, cwd=project, env=env)
        sh(copier, "update", "--trust", "--defaults", "--skip-tasks", "--quiet",
           cwd=project, env=env)  # fmt: skip
        sh("git", "add", "-A", cwd=project, env=env)
        sh("git", "commit", "-qm", "Update template to v1.1.0", cwd=project, env=env)
        sh("git", "checkout", "-q", "main", cwd=project, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=20)
    count = parser.parse_args().projects
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        work = Path(tmp)
        env = isolated_env(work)
        source = make_template(work, env)
        (work / "projects").mkdir()
        started = time.perf_counter()
        projects = generate(source, work / "projects", count, env)
        print(f"generated {count} projects at v1.0.0 in {time.perf_counter() - started:.1f} s")
        release_v1_1(source, env)

        one = timed_fleet(projects, 1, env)
        reset(projects, env)
        two = timed_fleet(projects, 2, env)
        reset(projects, env)
        loop = timed_loop(projects, env)

    print(f"cpus: {os.cpu_count()}")
    print(f"fleet update --workers 1   {one:7.1f} s  ({one / count:.2f} s/project)")
    print(f"fleet update --workers 2   {two:7.1f} s  ({two / count:.2f} s/project)")
    print(f"copier update loop         {loop:7.1f} s  ({loop / count:.2f} s/project)")
    print(f"ratio sequential loop / fleet 2 workers: {loop / two:.2f}")


if __name__ == "__main__":
    main()
