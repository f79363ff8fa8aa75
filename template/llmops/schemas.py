"""Managed by the LLMOps template. The JSON Schemas editors validate project files with.

``llmops schema`` writes one file per model under ``schemas/``: experiment files, and
the manifests of Agent Framework flows (``workflow.yaml``, ``evaluator.yaml``). Each
file points at its schema with a ``# yaml-language-server: $schema=`` comment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from llmops.config import SCHEMA_FILE, ExperimentConfig
from llmops.engine.af_manifest import (
    EVALUATOR_SCHEMA_FILE,
    WORKFLOW_SCHEMA_FILE,
    EvaluatorManifest,
    WorkflowManifest,
)

MODELS: dict[Path, type[BaseModel]] = {
    SCHEMA_FILE: ExperimentConfig,
    WORKFLOW_SCHEMA_FILE: WorkflowManifest,
    EVALUATOR_SCHEMA_FILE: EvaluatorManifest,
}


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON Schema with the draft it follows."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema()}


def schema_texts() -> dict[Path, str]:
    """Relative path -> the exact text of each schema file (sorted keys, LF)."""
    return {
        path: json.dumps(json_schema(model), indent=2, sort_keys=True) + "\n"
        for path, model in MODELS.items()
    }


def write_schemas(root: Path) -> list[Path]:
    """Write (or refresh) every committed schema file; return their paths."""
    written = []
    for relative_path, text in schema_texts().items():
        path = root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
