"""A local snapshot of each template source: its release tags, files and renders.

Every project names its template in `_src_path`. The fleet tool clones each
distinct source once per run, so all projects are compared against the same tags
even if someone tags a release mid-run, and a remote template is fetched once.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops_fleet.errors import FleetError
from llmops_fleet.gitutil import GitError, git
from llmops_fleet.ownership import Ownership, parse_ownership
from llmops_fleet.versions import release_tags

OWNERSHIP_FILE = "ownership.yml"
_ALIASES = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def git_url(src_path: str) -> str:
    """The URL or path git understands for a Copier `_src_path` (same aliases as Copier)."""
    for alias, prefix in _ALIASES.items():
        if src_path.startswith(alias):
            rest = src_path.removeprefix(alias).lstrip("/")
            return prefix + (rest if rest.endswith(".git") else f"{rest}.git")
    if src_path.startswith("git+"):
        return src_path.removeprefix("git+")
    if src_path.startswith("~"):
        return str(Path(src_path).expanduser())
    return src_path


@dataclass(frozen=True)
class TemplateRepo:
    """One cloned template source; picklable, so worker processes can use it."""

    src_path: str
    clone: Path
    releases: tuple[str, ...]

    @property
    def latest(self) -> str | None:
        """The newest release tag, or None when the template has none."""
        return self.releases[-1] if self.releases else None

    def read(self, ref: str, path: str) -> str | None:
        """A file's text at ``ref``, or None when it does not exist there."""
        if not re.fullmatch(r"[\w./+-]+", ref):
            return None  # refs come from answers files; never pass odd ones to git
        try:
            return git(self.clone, "show", f"{ref}:{path}")
        except GitError:
            return None

    def ownership(self, ref: str) -> Ownership:
        """ownership.yml at ``ref``, else at the latest release, else only Copier's file."""
        for candidate in (ref, self.latest or "HEAD"):
            text = self.read(candidate, OWNERSHIP_FILE)
            if text is not None:
                return parse_ownership(text, f"{self.src_path}@{candidate}:{OWNERSHIP_FILE}")
        return Ownership()

    def render(self, ref: str, answers: Mapping[str, Any], destination: Path) -> None:
        """Render the template at ``ref`` with recorded answers, as `copier update` would.

        Copier's user settings are replaced by empty ones so a machine's
        `defaults:` cannot change the result.
        """
        import copier  # slow to import (~1 s): only the workers need it

        data = {key: value for key, value in answers.items() if not key.startswith("_")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copier.run_copy(
                str(self.clone),
                destination,
                data=data,
                vcs_ref=ref,
                settings=copier.Settings(),
                defaults=True,
                unsafe=True,
                quiet=True,
                skip_tasks=True,
            )


def clone_template(src_path: str, destination: Path) -> TemplateRepo:
    """Clone a template source (no checkout) and list its release tags."""
    url = git_url(src_path)
    try:
        # Run from the current folder: Copier resolves a relative local path the same way.
        git(Path.cwd(), "clone", "--quiet", "--no-checkout", "--", url, str(destination))
    except GitError as error:
        raise FleetError(f"cannot clone template {src_path}: {error}") from error
    tags = git(destination, "tag", "--list").split()
    return TemplateRepo(src_path=src_path, clone=destination, releases=tuple(release_tags(tags)))


@contextmanager
def open_templates(src_paths: Iterable[str]) -> Iterator[dict[str, TemplateRepo | str]]:
    """Clone each distinct source into a temp folder for the duration of a run.

    Yields source → TemplateRepo, or source → error message when cloning failed.
    """
    with tempfile.TemporaryDirectory(prefix="fleet-templates-", ignore_cleanup_errors=True) as tmp:
        repos: dict[str, TemplateRepo | str] = {}
        for index, src in enumerate(sorted(set(src_paths))):
            try:
                repos[src] = clone_template(src, Path(tmp) / f"template-{index}")
            except FleetError as error:
                repos[src] = str(error)
        yield repos
