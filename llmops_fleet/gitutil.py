"""Thin wrapper around the git command line (the fleet tool never links libgit)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(RuntimeError):
    """A git command failed; the message carries git's own stderr."""


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run ``git args`` in ``cwd`` and return stdout; raise GitError on failure."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit code {result.returncode}"
        raise GitError(f"git {' '.join(args)}: {reason}")
    return result.stdout


def is_repo_root(path: Path) -> bool:
    """True when ``path`` is the top of a git work tree (not merely inside one)."""
    if not path.is_dir():
        return False
    result = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == path.resolve()


def is_dirty(repo: Path) -> bool:
    """Uncommitted changes, untracked files included (what `copier update` refuses)."""
    return bool(git(repo, "status", "--porcelain").strip())


def current_branch(repo: Path) -> str | None:
    """The checked-out branch name, or None on a detached HEAD."""
    name = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    return name or None


def head_commit(repo: Path) -> str:
    """The full hash of HEAD."""
    return git(repo, "rev-parse", "HEAD").strip()


def branch_exists(repo: Path, branch: str) -> bool:
    """True when the local branch exists."""
    result = subprocess.run(
        ["git", "show-ref", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def remote_branches(repo: Path, branch: str) -> list[str]:
    """Remote-tracking copies of ``branch`` (e.g. ``origin/<branch>``) in a clone."""
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/remotes").split()
    prefix = "refs/remotes/"
    return [
        ref.removeprefix(prefix)
        for ref in refs
        if ref.endswith(f"/{branch}") and "/" not in ref.removeprefix(prefix)[: -len(branch) - 1]
    ]
