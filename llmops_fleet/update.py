"""`copier update` of one project onto its own branch, with a rollback that leaves no trace.

Outcomes:

- ``current``: already at the template's latest release; nothing touched.
- ``updated``: branch ``template-update/<version>`` holds one commit with the update.
- ``conflicts``: same branch and commit, but some files hold inline conflict
  markers (or `.rej` files) for a human to resolve in the pull request.
- ``failed``: nothing changed; the project is back on its original branch and
  commit, and the update branch is deleted.

The original branch is never modified, and the project ends on it in every case.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmops_fleet.capture import captured_output
from llmops_fleet.errors import first_line
from llmops_fleet.gitutil import (
    GitError,
    branch_exists,
    current_branch,
    git,
    head_commit,
    is_dirty,
    is_repo_root,
    remote_branches,
)
from llmops_fleet.versions import parse_version

BRANCH_PREFIX = "template-update/"
_MARKER_START = re.compile(rb"^<<<<<<< ", re.MULTILINE)
_MARKER_END = re.compile(rb"^>>>>>>> ", re.MULTILINE)


@dataclass
class UpdateResult:
    """What `fleet update` records for one project (also the JSON schema)."""

    path: str
    name: str
    outcome: str
    from_version: str | None = None
    to_version: str | None = None
    branch: str | None = None
    commit: str | None = None
    conflicts: list[str] = field(default_factory=list)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


@dataclass(frozen=True)
class UpdateJob:
    """One project and the release to update it to (None when that is unknown)."""

    project: Path
    recorded: str | None
    target: str | None
    error: str | None = None


def update_project(job: UpdateJob) -> UpdateResult:
    """Update one project; every error becomes a `failed` result (Ctrl+C rolls back, then stops)."""
    result = UpdateResult(
        path=str(job.project),
        name=job.project.name,
        outcome="failed",
        from_version=job.recorded,
        to_version=job.target,
    )
    if job.error is None and _is_current(job):
        result.outcome = "current"
        return result
    start: tuple[str | None, str] | None = None
    try:
        result.reason = job.error or _refusal(job)
        if result.reason is None:
            start = current_branch(job.project), head_commit(job.project)
    except Exception as error:  # e.g. a repository without commits
        result.reason = _describe(error)
    if start is None or job.target is None:
        return result
    original_branch, original_head = start
    result.branch = BRANCH_PREFIX + job.target
    try:
        git(job.project, "checkout", "--quiet", "-b", result.branch)
        run_copier_update(job.project, job.target)
        result.conflicts = find_conflicts(job.project)
        git(job.project, "add", "--all")
        git(job.project, "commit", "--quiet", "--no-verify", "-m", _message(job, result))
        result.commit = head_commit(job.project)
        _checkout(job.project, original_branch, original_head)
    except BaseException as error:  # Ctrl+C included: roll back, then let it propagate
        result.reason = _describe(error)
        result.conflicts = []
        rollback = restore(job.project, original_branch, original_head, result.branch)
        if rollback:
            result.reason += f"; ROLLBACK INCOMPLETE: {rollback}"
        result.branch = None
        if not isinstance(error, Exception):
            raise
        return result
    result.outcome = "conflicts" if result.conflicts else "updated"
    return result


def _is_current(job: UpdateJob) -> bool:
    """True when the recorded version is the target release or newer."""
    recorded, target = parse_version(job.recorded), parse_version(job.target)
    return recorded is not None and target is not None and recorded >= target


def _refusal(job: UpdateJob) -> str | None:
    """Why the project must not be touched, or None when the update may start."""
    if job.target is None:
        return "the template has no release tags"
    if not is_repo_root(job.project):
        return "not the root of a git repository"
    if is_dirty(job.project):
        return "uncommitted changes (commit or stash them; untracked files count)"
    branch = BRANCH_PREFIX + job.target
    pending = [branch] if branch_exists(job.project, branch) else []
    pending += remote_branches(job.project, branch)
    if pending:
        return f"{pending[0]} already exists (an earlier update is pending)"
    return None


class CopierFailed(RuntimeError):
    """`copier update` raised; the message adds the last line Copier printed."""


def run_copier_update(project: Path, target: str) -> None:
    """`copier update --trust --defaults` to ``target``, silenced and with isolated settings."""
    import copier  # slow to import (~1 s): only the workers need it

    failure: Exception | None = None
    with captured_output() as output:
        try:
            copier.run_update(
                project,
                vcs_ref=target,
                settings=copier.Settings(),
                overwrite=True,
                unsafe=True,
                defaults=True,
                quiet=True,
                skip_tasks=True,
            )
        except Exception as error:
            failure = error
    if failure is not None:
        detail = output.last_line()
        message = first_line(failure) + (f" (output: {detail})" if detail else "")
        raise CopierFailed(message) from failure


def find_conflicts(project: Path) -> list[str]:
    """Files left for a human: unmerged entries, inline markers and `.rej` files."""
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").splitlines()
    changed = git(project, "diff", "--name-only", "HEAD").splitlines()
    untracked = git(project, "ls-files", "--others", "--exclude-standard").splitlines()
    found = set(unmerged) | {path for path in untracked if path.endswith(".rej")}
    for path in set(changed) | set(untracked):
        file = project / path
        if file.is_file():
            content = file.read_bytes()
            if _MARKER_START.search(content) and _MARKER_END.search(content):
                found.add(path)
    return sorted(found)


def restore(project: Path, branch: str | None, head: str, created: str) -> str | None:
    """Put the project back exactly as it was; return what could not be undone, if anything.

    The tree was clean before the update, so `git clean -fd` removes only files the
    update created; ignored files (a .venv, say) are not touched.
    """
    problems = []
    for step in (
        ("reset", "--quiet", "--hard", head),
        ("clean", "--quiet", "-fd"),
    ):
        try:
            git(project, *step)
        except GitError as error:
            problems.append(str(error))
    try:
        _checkout(project, branch, head)
        if branch_exists(project, created):
            git(project, "branch", "--quiet", "-D", created)
    except GitError as error:
        problems.append(str(error))
    return "; ".join(problems) or None


def _describe(error: BaseException) -> str:
    """Our own errors already read well; others get their type name."""
    return str(error) if isinstance(error, CopierFailed | GitError) else first_line(error)


def _checkout(project: Path, branch: str | None, head: str) -> None:
    if branch:
        git(project, "checkout", "--quiet", branch)
    else:
        git(project, "checkout", "--quiet", "--detach", head)


def _message(job: UpdateJob, result: UpdateResult) -> str:
    lines = [f"Update template to {job.target}", "", f"From {job.recorded} by `fleet update`."]
    if result.conflicts:
        lines += ["", "Resolve the inline conflict markers in:"]
        lines += [f"- {path}" for path in result.conflicts]
    return "\n".join(lines) + "\n"
