"""Managed by the LLMOps template. Register stage: datasets and the flow as Azure ML assets.

Both are content-addressed: the SHA-256 of the file (dataset) or of every file of
the flow folder (model) is stored in the ``content_hash`` tag, and a new version is
created only when no existing version carries the same hash. Re-running the stage
is therefore free, and the deploy stage finds the model version for the flow on disk
by its hash.

* data asset ``<dataset name>`` (``uri_file``) per dataset of the experiment;
* model ``<experiment name>-<env>`` (``custom_model``) with the prompt flow
  properties Azure ML studio uses (``azureml.promptflow.source_flow_id``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops.azure.ml import AssetVersion, MLService
from llmops.config import ExperimentConfig
from llmops.engine.agent_framework import refuse_outside_local_runs
from llmops.errors import LLMOpsError

Echo = Callable[[str], None]
HASH_TAG = "content_hash"
EXCLUDED_DIRS = frozenset({"__pycache__", ".promptflow", ".runs", ".git", ".pytest_cache"})
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})
# Pipeline variables recorded as tags when present (names of builds, never secrets).
TRACE_TAGS = {"build_id": "BUILD_BUILDID", "source_commit": "BUILD_SOURCEVERSION"}


@dataclass(frozen=True)
class Registration:
    """The version a local file or folder is registered as."""

    kind: str
    """``data`` or ``model``."""
    name: str
    version: str
    content_hash: str
    created: bool
    """False when an existing version already had this content."""
    source: Path


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_files(folder: Path) -> list[Path]:
    """Files that make up a flow: everything except caches and run folders, sorted."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if not EXCLUDED_DIRS.intersection(relative.parts[:-1]):
            files.append(path)
    return files


def folder_hash(folder: Path) -> str:
    """SHA-256 over the relative path and content hash of every file of ``folder``."""
    if not folder.is_dir():
        raise LLMOpsError(f"{folder}: not a folder")
    digest = hashlib.sha256()
    for path in folder_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(file_hash(path).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def model_name(config: ExperimentConfig, env: str | None) -> str:
    """``<experiment>-<env>``, or the experiment name without an environment."""
    return f"{config.name}-{env}" if env else config.name


def trace_tags(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Build ID and commit of the pipeline run, when the variables are set."""
    env = os.environ if environ is None else environ
    return {tag: env[var] for tag, var in TRACE_TAGS.items() if env.get(var)}


def data_entity(
    name: str, path: Path, digest: str, description: str, version: str | None = None
) -> Any:
    """The ``azure.ai.ml.entities.Data`` for one dataset file."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Data

    return Data(
        name=name,
        version=version,
        path=str(path),
        type=AssetTypes.URI_FILE,
        description=description or None,
        tags={HASH_TAG: digest, **trace_tags()},
    )


def model_entity(
    config: ExperimentConfig, env: str | None, path: Path, digest: str, version: str | None = None
) -> Any:
    """The ``azure.ai.ml.entities.Model`` for the standard flow folder."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import Model

    return Model(
        name=model_name(config, env),
        version=version,
        path=str(path),
        type=AssetTypes.CUSTOM_MODEL,
        description=f"Prompt flow '{config.flow}' of experiment '{config.name}'",
        properties={
            "is-promptflow": "true",
            "azureml.promptflow.source_flow_id": config.name,
            "azureml.promptflow.dag_file": "flow.dag.yaml",
        },
        tags={HASH_TAG: digest, **trace_tags()},
    )


def next_version(versions: list[AssetVersion]) -> str:
    """One more than the highest numeric version ("1" for a new asset)."""
    numbers = [int(v.version) for v in versions if v.version.isdigit()]
    return str(max(numbers, default=0) + 1)


def matching_version(versions: list[AssetVersion], digest: str) -> AssetVersion | None:
    """The newest version whose ``content_hash`` tag equals ``digest``."""
    same = [v for v in versions if v.tags.get(HASH_TAG) == digest]
    return max(same, key=lambda v: int(v.version) if v.version.isdigit() else -1, default=None)


def datasets(config: ExperimentConfig) -> list[tuple[str, Path, str]]:
    """``(name, file, description)`` of every dataset file the experiment reads.

    Standard datasets, plus evaluator datasets that have a file of their own.
    """
    entries = [(d.name, d.source, d.description) for d in config.datasets]
    for evaluator in config.evaluators:
        for item in evaluator.datasets:
            source = getattr(item, "source", None)
            if source:
                entries.append((item.name, source, getattr(item, "description", "")))
    found: dict[str, tuple[str, Path, str]] = {}
    for name, source, description in entries:
        path = config.path(source)
        if not path.is_file():
            raise LLMOpsError(f"dataset '{name}': {source} does not exist")
        found.setdefault(name, (name, path, description))
    return list(found.values())


def register_data(
    ml: MLService, config: ExperimentConfig, echo: Echo = print
) -> list[Registration]:
    """Register every dataset whose content is new; reuse the version that has it otherwise."""
    done = []
    for name, path, description in datasets(config):
        digest = file_hash(path)
        versions = ml.data_versions(name)
        existing = matching_version(versions, digest)
        if existing is not None:
            echo(f"[register-data] {name}: unchanged, version {existing.version}")
            done.append(Registration("data", name, existing.version, digest, False, path))
            continue
        made = ml.create_data(data_entity(name, path, digest, description, next_version(versions)))
        echo(f"[register-data] {name}: registered version {made.version} (hash {digest[:12]})")
        done.append(Registration("data", name, made.version, digest, True, path))
    return done


@contextmanager
def staged_flow(flow_dir: Path) -> Iterator[Path]:
    """A copy of the flow without caches, so the upload is exactly what was hashed."""
    with tempfile.TemporaryDirectory(prefix="llmops-flow-") as temporary:
        target = Path(temporary) / flow_dir.name
        for path in folder_files(flow_dir):
            destination = target / path.relative_to(flow_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        yield target


def register_flow(
    ml: MLService, config: ExperimentConfig, env: str | None, echo: Echo = print
) -> Registration:
    """Register the standard flow as a model unless a version with its hash exists."""
    flow_dir = config.path(config.flow)
    refuse_outside_local_runs(flow_dir, f"{config.name}: {config.flow}", "register-flow")
    digest = folder_hash(flow_dir)
    name = model_name(config, env)
    versions = ml.model_versions(name)
    existing = matching_version(versions, digest)
    if existing is not None:
        echo(f"[register-flow] {name}: unchanged, version {existing.version}")
        return Registration("model", name, existing.version, digest, False, flow_dir)
    with staged_flow(flow_dir) as staged:
        made = ml.create_model(model_entity(config, env, staged, digest, next_version(versions)))
    echo(f"[register-flow] {name}: registered version {made.version} (hash {digest[:12]})")
    return Registration("model", name, made.version, digest, True, flow_dir)


def find_flow_model(ml: MLService, config: ExperimentConfig, env: str | None) -> AssetVersion:
    """The registered model version of the flow on disk; the deploy stage needs it."""
    name = model_name(config, env)
    digest = folder_hash(config.path(config.flow))
    found = matching_version(ml.model_versions(name), digest)
    if found is None:
        env_option = f" --env {env}" if env else ""
        raise LLMOpsError(
            f"model {name} has no version with the flow's current content (hash {digest[:12]}): "
            f"run `llmops register-flow{env_option}` first"
        )
    return found
