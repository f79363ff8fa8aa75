"""Print median wall times of `copier copy` (defaults) and `copier update` (one change).

Usage: python benchmarks/copier_timings.py [--runs N]

Works on a throwaway copy of this template in a temp folder, tagged v1.0.0 and
v1.1.0 (one template-owned file changed), with Copier's settings isolated. No
timing is asserted anywhere: the figures are for people.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIER = str(Path(sys.executable).parent / "copier")


def sh(*command: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def make_template(work: Path, env: dict[str, str]) -> Path:
    source = work / "template-src"
    source.mkdir()
    for name in ("copier.yml", "ownership.yml"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("extensions", "migrations", "template"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    sh("git", "init", "-q", cwd=source, env=env)
    sh("git", "add", "-A", cwd=source, env=env)
    sh("git", "commit", "-qm", "v1", cwd=source, env=env)
    sh("git", "tag", "v1.0.0", cwd=source, env=env)
    gitignore = source / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "*.log\n")
    sh("git", "commit", "-qam", "v1.1", cwd=source, env=env)
    sh("git", "tag", "v1.1.0", cwd=source, env=env)
    return source


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "settings.yml").write_text("{}\n")
        env = {
            **os.environ,
            "COPIER_SETTINGS_PATH": str(work / "settings.yml"),
            "COPIER_CACHE_DIR": str(work / "cache"),
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        }
        template = make_template(work, env)
        base = [COPIER, "copy", "--trust", "--defaults", "--quiet", "-d", "project_name=Bench"]
        copy_times, update_times = [], []
        for index in range(runs):
            project = work / f"copy-{index}"
            copy_times.append(timed([*base, str(template), str(project)], work, env))
            project = work / f"update-{index}"
            subprocess.run(
                [*base, "--vcs-ref", "v1.0.0", str(template), str(project)],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
            sh("git", "init", "-q", cwd=project, env=env)
            sh("git", "add", "-A", cwd=project, env=env)
            sh("git", "commit", "-qm", "generated", cwd=project, env=env)
            update = [COPIER, "update", "--trust", "--defaults", "--quiet"]
            update_times.append(timed(update, project, env))
        print(f"runs: {runs}")
        print(
            f"copier copy   (defaults):          median {statistics.median(copy_times):.2f} s "
            f"(min {min(copy_times):.2f}, max {max(copy_times):.2f})"
        )
        print(
            f"copier update (one file changed):  median {statistics.median(update_times):.2f} s "
            f"(min {min(update_times):.2f}, max {max(update_times):.2f})"
        )


if __name__ == "__main__":
    main()
