"""Managed by the LLMOps template. ``llmops migrate-flow``: move use cases to Agent Framework.

Prompt flow retires on 2027-04-20 and promptflow-azure pins azure-ai-ml below 1.33.
This command converts a use case's prompt flow folders in place, each to its Agent
Framework counterpart: a standard flow to ``workflow.yaml`` + ``workflow.py``
(``migrate_standard``), an evaluation flow to ``evaluator.yaml`` (``migrate_eval``).
Folders keep their names, prompts, code and data, so experiment.yaml, its overlays,
datasets, gates and mock replies stay as they are; flow.dag.yaml / flow.flex.yaml,
requirements.txt and ``.promptflow/`` go.

Every folder of the use case is planned before anything is written: a refusal names
the file, node and key, and leaves the project untouched. The git tree must be clean
(nothing modified or untracked under the project root), because the result is meant
to be read as a diff and committed by you; without git there would be no diff to
review and no way back, so there is no flag to skip the check.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from llmops.config import load_connections, read_yaml
from llmops.engine.af_manifest import EVALUATOR_FILE, WORKFLOW_FILE
from llmops.errors import LLMOpsError
from llmops.migrate_base import FolderPlan
from llmops.migrate_eval import plan_evaluation
from llmops.migrate_standard import plan_dag, plan_flex
from llmops.paths import EXPERIMENT_FILE, list_use_cases, relative, use_case_dir

DAG_FILE = "flow.dag.yaml"
FLEX_FILE = "flow.flex.yaml"
DIRTY_SHOWN = 5
MANIFESTS = (WORKFLOW_FILE, EVALUATOR_FILE, "workflow.py")


@dataclass
class Migration:
    """Every folder of one use case, planned; nothing written yet."""

    use_case: str
    plans: list[FolderPlan] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    """Folders that already are Agent Framework flows."""

    def plan_lines(self, root: Path) -> list[str]:
        """What will change, folder by folder, for the terminal."""
        lines = [f"[migrate-flow] {self.use_case}: plan"]
        case = use_case_dir(root, self.use_case)
        for plan in self.plans:
            made = [name for name in MANIFESTS if plan.folder / name in plan.writes]
            source = plan.removals[0].name
            lines.append(
                f"  {relative(plan.folder, case)}: {source} ({plan.kind}) -> {', '.join(made)}"
            )
            lines += [f"    {line}" for line in plan.lines]
            removed = ", ".join(relative(path, plan.folder) for path in plan.removals)
            lines.append(f"    removes: {removed}")
        lines += [f"  {relative(folder, case)}: already Agent Framework" for folder in self.kept]
        lines += [f"  note: {note}" for plan in self.plans for note in plan.notes]
        return lines

    def apply(self, root: Path) -> list[str]:
        """Write and remove the planned files; lines saying what was done."""
        written = removed = 0
        for plan in self.plans:
            for path, text in plan.writes.items():
                path.write_text(text, encoding="utf-8")
                written += 1
            for path in plan.removals:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed += 1
        where = relative(use_case_dir(root, self.use_case), root)
        return [
            f"[migrate-flow] {self.use_case}: wrote {written} file(s), removed {removed} "
            f"under {where}: review them with `git diff`, then commit",
            f"  next: llmops validate --use-case {self.use_case}",
            f"        llmops experiment --offline --use-case {self.use_case}",
        ]


def flow_folders(root: Path, use_case: str) -> dict[Path, str]:
    """Flow folder -> ``standard`` or ``evaluation``, from experiment.yaml and its overlays."""
    case = use_case_dir(root, use_case)
    folders: dict[Path, str] = {}
    for path in [case / EXPERIMENT_FILE, *sorted(case.glob("experiment.*.yaml"))]:
        data = read_yaml(path, relative(path, root))
        if not isinstance(data, dict):
            raise LLMOpsError(f"{relative(path, root)}: expected a mapping")
        if path.name == EXPERIMENT_FILE:
            folders[(case / str(data.get("flow") or "flows/standard")).resolve()] = "standard"
        for evaluator in data.get("evaluators") or []:
            if isinstance(evaluator, dict) and evaluator.get("flow"):
                folders.setdefault((case / str(evaluator["flow"])).resolve(), "evaluation")
    return folders


def is_prompt_flow(folder: Path) -> bool:
    """True when the folder holds a prompt flow file."""
    return (folder / DAG_FILE).is_file() or (folder / FLEX_FILE).is_file()


def prompt_flow_use_cases(root: Path) -> list[str]:
    """Use cases with at least one prompt flow folder (what ``--all`` migrates)."""
    return [
        name
        for name in list_use_cases(root)
        if any(is_prompt_flow(folder) for folder in flow_folders(root, name))
    ]


def plan_migration(root: Path, use_case: str) -> Migration:
    """Plan every flow folder of the use case; raise ``LLMOpsError`` before any write."""
    connections = {spec.name: spec for spec in load_connections(root)}
    migration = Migration(use_case)
    for folder, role in flow_folders(root, use_case).items():
        shown = relative(folder, root)
        agent_framework = (folder / WORKFLOW_FILE).is_file() or (folder / EVALUATOR_FILE).is_file()
        if not is_prompt_flow(folder):
            if not agent_framework:
                raise LLMOpsError(
                    f"{shown}: no {DAG_FILE}, {FLEX_FILE} or Agent Framework manifest"
                )
            migration.kept.append(folder)
        elif role == "evaluation":
            migration.plans.append(plan_evaluation(folder, root))
        elif (folder / DAG_FILE).is_file():
            migration.plans.append(plan_dag(folder, root, use_case, connections))
        else:
            migration.plans.append(plan_flex(folder, root, use_case, connections))
    if not migration.plans:
        raise LLMOpsError(f"{use_case}: its flows already are Agent Framework flows: nothing to do")
    return migration


def require_clean_tree(root: Path) -> None:
    """Refuse unless ``git status`` shows nothing under the project root."""
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise LLMOpsError(
            "migrate-flow needs git (to show the change as a diff): install it"
        ) from None
    if result.returncode != 0:
        raise LLMOpsError(
            f"{root} is not in a git repository: migrate-flow rewrites flows in place and you "
            "review the change as a diff; run `git init && git add -A && git commit` first"
        )
    dirty = [line[3:] for line in result.stdout.splitlines() if line.strip()]
    if dirty:
        shown = ", ".join(dirty[:DIRTY_SHOWN]) + (" ..." if len(dirty) > DIRTY_SHOWN else "")
        raise LLMOpsError(
            f"the git tree has uncommitted changes ({shown}): commit or stash them first, so "
            "the migration is a diff of its own; nothing was written"
        )
