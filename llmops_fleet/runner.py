"""Fan a fleet command out over projects: read answers, snapshot templates, run jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from llmops_fleet.errors import first_line
from llmops_fleet.gitutil import (
    GitError,
    branch_exists,
    current_branch,
    head_commit,
    is_dirty,
    is_repo_root,
)
from llmops_fleet.inventory import load_answers
from llmops_fleet.parallel import run_all
from llmops_fleet.policy import Policy
from llmops_fleet.status import ProjectStatus, StatusJob, inspect_project
from llmops_fleet.template_repo import TemplateRepo, open_templates
from llmops_fleet.update import (
    BRANCH_PREFIX,
    UpdateJob,
    UpdateResult,
    restore,
    update_project,
)


@dataclass(frozen=True)
class RunOptions:
    """How to run: worker processes, and where the progress bar goes."""

    workers: int
    console: Console
    show_progress: bool = True


def _answers(projects: Sequence[Path]) -> list[dict[str, Any] | str]:
    """Each project's answers, or the reason they cannot be read."""
    found: list[dict[str, Any] | str] = []
    for project in projects:
        try:
            found.append(load_answers(project))
        except ValueError as error:
            found.append(str(error))
    return found


def _template_of(
    answers: dict[str, Any] | str, templates: dict[str, TemplateRepo | str]
) -> tuple[TemplateRepo | None, str | None]:
    if isinstance(answers, str):
        return None, answers
    template = templates[answers["_src_path"]]
    return (None, template) if isinstance(template, str) else (template, None)


def collect_statuses(
    projects: Sequence[Path], policy: Policy | None, options: RunOptions
) -> list[ProjectStatus]:
    """`fleet status` and `fleet check`: one ProjectStatus per project, in order."""
    all_answers = _answers(projects)
    sources = [a["_src_path"] for a in all_answers if isinstance(a, dict)]
    with open_templates(sources) as templates:
        jobs = []
        for project, answers in zip(projects, all_answers, strict=True):
            template, error = _template_of(answers, templates)
            usable = answers if isinstance(answers, dict) else None
            jobs.append(StatusJob(project, usable, template, policy, error))
        return run_all(
            inspect_project,
            jobs,
            workers=options.workers,
            label="Inspecting projects",
            in_process=options.workers <= 1 or len(jobs) <= 1,
            on_crash=lambda job, error: ProjectStatus(
                path=str(job.project), name=job.project.name, error=first_line(error)
            ),
            console=options.console,
            show_progress=options.show_progress,
        )


def run_updates(projects: Sequence[Path], options: RunOptions) -> list[UpdateResult]:
    """`fleet update`: one UpdateResult per project, in order."""
    all_answers = _answers(projects)
    sources = [a["_src_path"] for a in all_answers if isinstance(a, dict)]
    with open_templates(sources) as templates:
        jobs = []
        for project, answers in zip(projects, all_answers, strict=True):
            template, error = _template_of(answers, templates)
            recorded = answers["_commit"] if isinstance(answers, dict) else None
            target = template.latest if template else None
            jobs.append(UpdateJob(project, recorded, target, error))
        baselines = {job.project: baseline(job) for job in jobs}
        return run_all(
            update_project,
            jobs,
            workers=options.workers,
            label="Updating projects",
            on_crash=lambda job, error: recover_crash(job, error, baselines[job.project]),
            console=options.console,
            show_progress=options.show_progress,
        )


def baseline(job: UpdateJob) -> tuple[str | None, str] | None:
    """Branch and commit of a clean checkout, so a crashed worker can be undone.

    None when a rollback would be unsafe: a dirty tree, or an update branch that
    already exists (it is someone's pending update).
    """
    project = job.project
    try:
        if (
            job.target is not None
            and is_repo_root(project)
            and not is_dirty(project)
            and not branch_exists(project, BRANCH_PREFIX + job.target)
        ):
            return current_branch(project), head_commit(project)
    except GitError:
        pass
    return None


def recover_crash(
    job: UpdateJob, error: BaseException, start: tuple[str | None, str] | None
) -> UpdateResult:
    """A worker died mid-update (killed, out of memory): undo what it may have done."""
    reason = f"worker crashed: {first_line(error)}"
    if start is not None and job.target is not None:
        problem = restore(job.project, *start, BRANCH_PREFIX + job.target)
        if problem:
            reason += f"; ROLLBACK INCOMPLETE: {problem}"
    return UpdateResult(
        path=str(job.project),
        name=job.project.name,
        outcome="failed",
        from_version=job.recorded,
        to_version=job.target,
        reason=reason,
    )
