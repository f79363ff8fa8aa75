"""Managed by the LLMOps template. Where things live in a generated project.

Every command works from any folder inside the project: the root is the nearest
parent holding ``config/connections.yaml``. Use cases are the folders under
``use_cases/`` that hold an ``experiment.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from llmops.errors import LLMOpsError

CONNECTIONS_FILE = Path("config") / "connections.yaml"
USE_CASES_DIR = "use_cases"
EXPERIMENT_FILE = "experiment.yaml"
STATE_DIR = ".llmops"
REPORTS_DIR = "reports"
SCHEMA_FILE = Path("schemas") / "experiment.schema.json"
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
"""Sample use cases shipped with the package, the source of ``llmops new-flow --from``."""


def find_root(start: Path | None = None) -> Path:
    """Walk up from ``start`` (default: the current folder) to the project root."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONNECTIONS_FILE).is_file():
            return folder
    raise LLMOpsError(
        f"no {CONNECTIONS_FILE.as_posix()} found in {here} or any parent folder: "
        "run llmops from inside a generated project"
    )


def list_use_cases(root: Path) -> list[str]:
    """Names of the use cases, sorted, so pipelines can loop over them."""
    pattern = f"{USE_CASES_DIR}/*/{EXPERIMENT_FILE}"
    return sorted(path.parent.name for path in root.glob(pattern) if path.is_file())


def resolve_use_case(root: Path, name: str | None) -> str:
    """Return a valid use-case name; without one, the project's only use case."""
    available = list_use_cases(root)
    if not available:
        raise LLMOpsError(
            f"no use case found: expected {USE_CASES_DIR}/<name>/{EXPERIMENT_FILE} under {root}"
        )
    if name is None:
        if len(available) == 1:
            return available[0]
        raise LLMOpsError(
            f"this project has several use cases; pick one with --use-case ({', '.join(available)})"
        )
    if name not in available:
        raise LLMOpsError(
            f"unknown use case '{name}' (no {USE_CASES_DIR}/{name}/{EXPERIMENT_FILE}); "
            f"available: {', '.join(available)}"
        )
    return name


def use_case_dir(root: Path, name: str) -> Path:
    """Folder of one use case."""
    return root / USE_CASES_DIR / name


def state_dir(root: Path) -> Path:
    """Git-ignored folder for local state: prompt flow home and run records."""
    return root / STATE_DIR


def pf_home(root: Path) -> Path:
    """Prompt flow home of this project, so runs and connections stay per project."""
    return state_dir(root) / "pf-home"


def run_record_file(root: Path, use_case: str) -> Path:
    """Run record of the last ``llmops run`` / ``llmops evaluate`` of a use case."""
    return state_dir(root) / "runs" / f"{use_case}.json"


def reports_dir(root: Path, use_case: str) -> Path:
    """Git-ignored folder for one use case's CSV and HTML reports."""
    return root / REPORTS_DIR / use_case


def relative(path: Path, root: Path) -> str:
    """Show a path relative to the project root when possible (shorter messages)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
