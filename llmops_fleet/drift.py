"""Drift: template-owned files whose content differs from what the template renders.

`find_drift` is a pure function of the rendered tree, the project's files and the
ownership classes, so tests can feed it literal trees.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from llmops_fleet.ownership import Ownership


@dataclass(frozen=True)
class Drift:
    """Template-owned files edited (`modified`) or deleted (`missing`) in a project."""

    modified: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.modified or self.missing)

    def summary(self, limit: int = 3) -> str:
        """A short human description, e.g. 'modified .gitignore; missing Makefile'."""
        parts = []
        for label, paths in (("modified", self.modified), ("missing", self.missing)):
            if paths:
                shown = ", ".join(paths[:limit])
                more = f" (+{len(paths) - limit} more)" if len(paths) > limit else ""
                parts.append(f"{label} {shown}{more}")
        return "; ".join(parts)


def find_drift(
    expected: Mapping[str, bytes], actual: Mapping[str, bytes], ownership: Ownership
) -> Drift:
    """Compare the rendered files with the project's, byte for byte.

    Only template-owned paths count. Files the project adds are not drift: the
    template knows nothing about them.
    """
    modified, missing = [], []
    for path in sorted(expected):
        if not ownership.is_template_owned(path):
            continue
        content = actual.get(path)
        if content is None:
            missing.append(path)
        elif content != expected[path]:
            modified.append(path)
    return Drift(modified=modified, missing=missing)


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (a fresh render) keyed by POSIX relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


class ProjectFiles(Mapping[str, bytes]):
    """A project's files, read only when asked for (a checkout may hold a big .venv)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def __getitem__(self, path: str) -> bytes:
        file = self._root / path
        if not file.is_file():
            raise KeyError(path)
        return file.read_bytes()

    def __iter__(self) -> Iterator[str]:
        for file in self._root.rglob("*"):
            if file.is_file():
                yield file.relative_to(self._root).as_posix()

    def __len__(self) -> int:
        return sum(1 for _ in self)
