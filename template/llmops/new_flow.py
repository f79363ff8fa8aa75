"""Managed by the LLMOps template. ``llmops new-flow``: add a use case to this project.

A new use case is a copy of a sample shipped in the package (``llmops/samples/<id>``,
rendered with this project's connection when the project was generated or updated)
or of one of the project's own use cases. The copy gets the new experiment name and
keeps flows, data, overlays and mock fixtures, so ``llmops validate`` and
``llmops experiment --offline`` work at once. Nothing else changes: the pipelines
loop over ``llmops use-cases``, which lists the new folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from llmops.config import NAME
from llmops.errors import LLMOpsError
from llmops.paths import EXPERIMENT_FILE, SAMPLES_DIR, list_use_cases, relative, use_case_dir

DEFAULT_SAMPLE = "named_entity_recognition"
IGNORED = shutil.ignore_patterns(".promptflow", "__pycache__", "*.py[co]", ".runs")
NAME_LINE = re.compile(r"^name:.*$", re.MULTILINE)


def list_samples(samples_dir: Path = SAMPLES_DIR) -> list[str]:
    """Sample ids shipped in the package, sorted."""
    return sorted(p.parent.name for p in samples_dir.glob(f"*/{EXPERIMENT_FILE}") if p.is_file())


def new_use_case_dir(root: Path, name: str) -> Path:
    """The folder a new use case goes to; refuses a bad or taken name (before any write)."""
    if not NAME.fullmatch(name):
        raise LLMOpsError(
            f"'{name}' is not usable as a use-case name: use letters, digits, '_' and '-' "
            "(it becomes the folder name and the experiment name)"
        )
    target = use_case_dir(root, name)
    if target.exists():
        raise LLMOpsError(f"{relative(target, root)} already exists: pick another name")
    return target


def new_flow(
    root: Path, name: str, source: str | None = None, samples_dir: Path = SAMPLES_DIR
) -> Path:
    """Create ``use_cases/<name>`` from a sample or an existing use case; return the folder."""
    target = new_use_case_dir(root, name)
    source = source or DEFAULT_SAMPLE
    origin = _origin(root, source, samples_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(origin, target, ignore=IGNORED, symlinks=False)
    experiment = target / EXPERIMENT_FILE
    text = experiment.read_text(encoding="utf-8")
    if NAME_LINE.search(text):
        text = NAME_LINE.sub(f"name: {name}", text, count=1)
    else:
        text = f"name: {name}\n{text}"
    experiment.write_text(text, encoding="utf-8")
    return target


def _origin(root: Path, source: str, samples_dir: Path) -> Path:
    """A packaged sample wins over a use case of the same name (it is the pristine one)."""
    sample = samples_dir / source
    if (sample / EXPERIMENT_FILE).is_file():
        return sample
    if source in list_use_cases(root):
        return use_case_dir(root, source)
    samples = ", ".join(list_samples(samples_dir)) or "none"
    own = ", ".join(list_use_cases(root)) or "none"
    raise LLMOpsError(
        f"no sample or use case named '{source}' (samples: {samples}; use cases: {own})"
    )
