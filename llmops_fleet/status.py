"""One project's standing: version, lag, dirty tree, drift and policy violations."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmops_fleet.drift import Drift, ProjectFiles, find_drift, read_tree
from llmops_fleet.errors import first_line
from llmops_fleet.gitutil import GitError, is_dirty, is_repo_root
from llmops_fleet.policy import Policy, Violation, evaluate
from llmops_fleet.template_repo import TemplateRepo
from llmops_fleet.versions import versions_behind


@dataclass
class ProjectStatus:
    """What `fleet status` reports for one project (also the JSON schema)."""

    path: str
    name: str
    template: str | None = None
    recorded_version: str | None = None
    latest_version: str | None = None
    versions_behind: int | None = None
    dirty: bool | None = None
    drift: Drift | None = None
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


@dataclass(frozen=True)
class StatusJob:
    """Everything a worker process needs to inspect one project."""

    project: Path
    answers: dict[str, Any] | None
    template: TemplateRepo | None
    policy: Policy | None
    error: str | None = None


def inspect_project(job: StatusJob) -> ProjectStatus:
    """Inspect one project; problems end up in `error`, never as an exception."""
    status = ProjectStatus(path=str(job.project), name=job.project.name)
    if is_repo_root(job.project):
        try:
            status.dirty = is_dirty(job.project)
        except GitError as error:
            status.error = str(error)
    if job.answers is None or job.template is None:
        status.error = job.error or "unknown template"
        if job.answers:
            status.template = job.answers["_src_path"]
            status.recorded_version = job.answers["_commit"]
        return status
    answers, template = job.answers, job.template
    status.template = template.src_path
    status.recorded_version = answers["_commit"]
    status.latest_version = template.latest
    status.versions_behind = versions_behind(answers["_commit"], list(template.releases))
    try:
        status.drift = project_drift(job.project, template, answers)
    except Exception as error:  # a render can fail in many ways; report, don't crash
        ref = answers["_commit"]
        status.error = f"cannot render the template at {ref}: {first_line(error)}"
    if job.policy is not None:
        status.violations = evaluate(
            job.policy, answers, status.versions_behind, bool(status.drift)
        )
    return status


def project_drift(project: Path, template: TemplateRepo, answers: dict[str, Any]) -> Drift:
    """Render the recorded version with the recorded answers and compare with the project."""
    ref = answers["_commit"]
    ownership = template.ownership(ref)
    with tempfile.TemporaryDirectory(prefix="fleet-render-", ignore_cleanup_errors=True) as tmp:
        rendered = Path(tmp) / "render"
        template.render(ref, answers, rendered)
        expected = read_tree(rendered)
    return find_drift(expected, ProjectFiles(project), ownership)
