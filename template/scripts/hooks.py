"""Managed by the LLMOps template. Offline pre-commit checks.

Usage: python scripts/hooks.py check-yaml|check-json|conflict-markers FILE...
Each check prints `file:line: problem` and exits 1 when it finds any.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

MARKERS = ("<<<<<<< ", ">>>>>>> ", "||||||| ")


def check_yaml(path: Path) -> Iterator[str]:
    """Every YAML document in the file parses."""
    try:
        list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        yield f"{path}:{line}: invalid YAML: {getattr(error, 'problem', error)}"


def check_json(path: Path) -> Iterator[str]:
    """A .json file is one JSON value; a .jsonl file is one JSON value per line."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    json.loads(line)
                except json.JSONDecodeError as error:
                    yield f"{path}:{number}: invalid JSON line: {error.msg}"
        return
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        yield f"{path}:{error.lineno}: invalid JSON: {error.msg}"


def conflict_markers(path: Path) -> Iterator[str]:
    """No merge conflict markers, such as those an inline `copier update` conflict leaves."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return
    for number, line in enumerate(lines, start=1):
        if line.startswith(MARKERS):
            yield f"{path}:{number}: merge conflict marker: resolve the conflict, then commit"


CHECKS: dict[str, Callable[[Path], Iterator[str]]] = {
    "check-yaml": check_yaml,
    "check-json": check_json,
    "conflict-markers": conflict_markers,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in CHECKS:
        print(f"usage: hooks.py {{{'|'.join(CHECKS)}}} FILE...", file=sys.stderr)
        return 2
    check = CHECKS[argv[0]]
    problems = [problem for name in argv[1:] for problem in check(Path(name))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
