"""Managed by the LLMOps template. The manifests of Agent Framework use cases.

An Agent Framework flow folder is plain Python the user owns plus one small manifest
that ``llmops`` reads without importing that Python:

* ``workflow.yaml`` (a standard flow): the workflow factory, the flow's inputs (types,
  defaults), its outputs, and its LLM nodes (connection, prompt file, model options),
  each with optional variants (prompt file and options per variant id);
* ``evaluator.yaml`` (an evaluation flow): one evaluator, either an azure-ai-evaluation
  built-in (``builtin: f1_score``; the LLM judges name a ``judge`` connection) or a code
  function returning a dict, the inputs it takes, and an optional aggregate function.

``llmops schema`` writes the JSON Schema of both files next to the experiment's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from llmops.config import format_validation_error, read_yaml
from llmops.errors import LLMOpsError
from llmops.paths import relative

WORKFLOW_FILE = "workflow.yaml"
EVALUATOR_FILE = "evaluator.yaml"
WORKFLOW_SCHEMA_FILE = Path("schemas") / "workflow.schema.json"
EVALUATOR_SCHEMA_FILE = Path("schemas") / "evaluator.schema.json"
DEFAULT_VARIANT = "default"
PROMPT_SUFFIXES = (".jinja2", ".prompty")
REFERENCE = re.compile(r"^(?P<file>[A-Za-z0-9_./-]+\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VARIANT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
InputType = Literal["string", "int", "double", "bool", "list", "object"]


def _reference(value: str) -> str:
    if not REFERENCE.match(value):
        raise ValueError(
            f"'{value}' is not a function reference: write <file>.py:<function>, "
            "for example workflow.py:build_workflow"
        )
    return value


def _prompt_file(value: str) -> str:
    if not value.endswith(PROMPT_SUFFIXES):
        raise ValueError(
            f"'{value}' is not a prompt file: use a Jinja2 (.jinja2) or prompty (.prompty) file"
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FlowInput(_Strict):
    """One input of the flow; an input with a default need not be mapped."""

    type: InputType = "string"
    default: Any = None
    description: str = ""

    @property
    def has_default(self) -> bool:
        """True when the manifest sets a default (even ``null`` written out)."""
        return "default" in self.model_fields_set


class NodeSettings(_Strict):
    """What one LLM call uses: a prompt file and model options (a variant overrides them)."""

    prompt: str | None = Field(default=None, description="prompt file (.jinja2 or .prompty)")
    deployment: str | None = Field(
        default=None, description="model deployment (default: the connection's deployment)"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="chat options, for example {temperature: 0, max_tokens: 64}",
    )

    _prompt = field_validator("prompt")(
        lambda value: value if value is None else _prompt_file(value)
    )


class LLMNode(NodeSettings):
    """A model call: chat through ``line.complete(<node>, ...)``, embeddings through
    ``line.embed(<node>, texts)``."""

    kind: Literal["chat", "embedding"] = Field(
        default="chat", description="chat (a prompt file) or embedding (a deployment)"
    )
    connection: str = Field(description="connection from config/connections.yaml")
    default_variant: str | None = Field(
        default=None, description="variant run by default (required with variants)"
    )
    variants: dict[str, NodeSettings] = Field(
        default_factory=dict, description="variant id -> settings over the node's own"
    )

    @field_validator("variants")
    @classmethod
    def _variant_ids(cls, value: dict[str, NodeSettings]) -> dict[str, NodeSettings]:
        for variant_id in value:
            if not VARIANT_ID.match(variant_id):
                raise ValueError(
                    f"variant id '{variant_id}' is not usable: use letters, digits, '_' and '-'"
                )
        return value

    @model_validator(mode="after")
    def _defaults_and_prompts(self) -> LLMNode:
        if self.variants and self.default_variant not in self.variants:
            raise ValueError(
                f"default_variant must name one of the variants ({', '.join(self.variants)}), "
                f"not {self.default_variant!r}"
            )
        if not self.variants and self.default_variant is not None:
            raise ValueError("default_variant is set but the node has no variants")
        missing = [
            variant_id
            for variant_id, settings in self.variants.items()
            if settings.prompt is None and self.prompt is None
        ]
        if self.kind == "embedding":
            prompts = [self.prompt, *(settings.prompt for settings in self.variants.values())]
            if any(prompts) or not self.deployment:
                raise ValueError(
                    "an embedding node names its `deployment` (the embedding model) and "
                    "no prompt file"
                )
            return self
        if (not self.variants and self.prompt is None) or missing:
            where = f" (variants {', '.join(missing)})" if missing else ""
            raise ValueError(f"no prompt file{where}: set `prompt: <file>.jinja2`")
        return self

    @property
    def variant_ids(self) -> tuple[str, ...]:
        """The node's variant ids; a node without variants has the one id ``default``."""
        return tuple(self.variants) or (DEFAULT_VARIANT,)

    def settings(self, variant: str | None = None) -> NodeSettings:
        """The node's settings with a variant (or its default variant) applied."""
        chosen = self.variants.get(variant or self.default_variant or "")
        if chosen is None:
            return NodeSettings(
                prompt=self.prompt, deployment=self.deployment, options=self.options
            )
        return NodeSettings(
            prompt=chosen.prompt or self.prompt,
            deployment=chosen.deployment or self.deployment,
            options={**self.options, **chosen.options},
        )


class WorkflowManifest(_Strict):
    """Contents of an Agent Framework flow folder's ``workflow.yaml``."""

    model_config = ConfigDict(
        extra="forbid",
        title="LLMOps Agent Framework workflow",
        json_schema_extra={"description": "flows/<flow>/workflow.yaml of an LLMOps use case"},
    )

    workflow: str = Field(
        description="the factory that builds the workflow for one line: <file>.py:<function>"
    )
    description: str = ""
    inputs: dict[str, FlowInput] = Field(description="flow inputs, in the order they are shown")
    outputs: dict[str, str] = Field(min_length=1, description="output name -> a short description")
    nodes: dict[str, LLMNode] = Field(
        default_factory=dict, description="LLM nodes: name -> connection, prompt, options"
    )

    _workflow = field_validator("workflow")(_reference)

    @field_validator("inputs", "outputs", "nodes")
    @classmethod
    def _identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not IDENTIFIER.match(name):
                raise ValueError(f"'{name}' is not a name: use letters, digits and '_'")
        return value

    @field_validator("outputs", mode="before")
    @classmethod
    def _outputs_as_list(cls, value: Any) -> Any:
        if isinstance(value, list):  # `outputs: [category]` is the short form
            return {str(name): "" for name in value}
        return value

    @property
    def connections(self) -> frozenset[str]:
        """Connection names the nodes use."""
        return frozenset(node.connection for node in self.nodes.values())


BUILTIN_INPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # builtin -> (required inputs, optional inputs), as azure-ai-evaluation 1.18 takes them
    "f1_score": (("response", "ground_truth"), ()),
    "similarity": (("query", "response", "ground_truth"), ()),
    "relevance": (("query", "response"), ()),
    "coherence": (("query", "response"), ()),
    "fluency": (("response",), ()),
    "groundedness": (("response", "context"), ("query",)),
}
BUILTIN_METRICS: dict[str, tuple[str, ...]] = {
    "f1_score": ("f1_score", "f1_pass_rate"),
    "similarity": ("similarity", "similarity_pass_rate"),
    "relevance": ("relevance", "relevance_pass_rate"),
    "coherence": ("coherence", "coherence_pass_rate"),
    "fluency": ("fluency", "fluency_pass_rate"),
    "groundedness": ("groundedness", "groundedness_pass_rate"),
}
JUDGES = frozenset({"similarity", "relevance", "coherence", "fluency", "groundedness"})
Builtin = Literal["f1_score", "similarity", "relevance", "coherence", "fluency", "groundedness"]


class Aggregate(_Strict):
    """A function over every line's result that returns the run's metrics."""

    function: str = Field(description="<file>.py:<function> taking a list of line results")
    metrics: list[str] = Field(
        min_length=1, description="the metric names the function returns (gates name them)"
    )

    _function = field_validator("function")(_reference)


class EvaluatorManifest(_Strict):
    """Contents of an Agent Framework evaluation folder's ``evaluator.yaml``."""

    model_config = ConfigDict(
        extra="forbid",
        title="LLMOps Agent Framework evaluator",
        json_schema_extra={"description": "flows/<evaluator>/evaluator.yaml of an LLMOps use case"},
    )

    description: str = ""
    builtin: Builtin | None = Field(default=None, description="an azure-ai-evaluation evaluator")
    function: str | None = Field(
        default=None, description="a code evaluator: <file>.py:<function> returning a dict"
    )
    judge: str | None = Field(
        default=None, description="connection of the judge model (LLM-judge built-ins)"
    )
    threshold: float | None = Field(
        default=None, description="pass mark of a built-in (its own default otherwise)"
    )
    inputs: dict[str, FlowInput] = Field(
        default_factory=dict, description="a code evaluator's parameters (built-ins know theirs)"
    )
    outputs: list[str] = Field(
        default_factory=list, description="the keys a code evaluator's dict has, per line"
    )
    aggregate: Aggregate | None = None

    _function = field_validator("function")(
        lambda value: value if value is None else _reference(value)
    )

    @model_validator(mode="after")
    def _one_kind(self) -> EvaluatorManifest:
        if (self.builtin is None) == (self.function is None):
            raise ValueError("set exactly one of `builtin: <name>` or `function: <file>.py:<name>`")
        if self.builtin in JUDGES and not self.judge:
            raise ValueError(
                f"builtin {self.builtin} is an LLM judge: set `judge: <connection>` "
                "(a connection from config/connections.yaml)"
            )
        if self.function and not self.inputs:
            raise ValueError("a code evaluator lists its parameters under `inputs`")
        if self.builtin and self.inputs:
            raise ValueError(f"builtin {self.builtin} has fixed inputs: remove `inputs`")
        return self

    @property
    def input_defaults(self) -> dict[str, bool]:
        """Input name -> True when mapping it is optional."""
        if self.builtin:
            required, optional = BUILTIN_INPUTS[self.builtin]
            return {**dict.fromkeys(required, False), **dict.fromkeys(optional, True)}
        return {name: spec.has_default for name, spec in self.inputs.items()}

    @property
    def line_outputs(self) -> frozenset[str]:
        """Keys of each line's result (the report's per-line columns)."""
        if self.builtin:
            return frozenset({BUILTIN_METRICS[self.builtin][0]})
        return frozenset(self.outputs)

    @property
    def metric_names(self) -> frozenset[str] | None:
        """Metrics the run produces, when known without running it."""
        if self.aggregate:
            return frozenset(self.aggregate.metrics)
        if self.builtin:
            return frozenset(BUILTIN_METRICS[self.builtin])
        return frozenset(self.outputs) or None

    @property
    def connections(self) -> frozenset[str]:
        """The judge connection, if any."""
        return frozenset({self.judge}) if self.judge else frozenset()


def load_manifest(path: Path, root: Path, model: type[BaseModel]) -> Any:
    """Read and validate one manifest; problems name the file and key."""
    shown = relative(path, root)
    data = read_yaml(path, shown)
    if not isinstance(data, dict):
        raise LLMOpsError(f"{shown}: expected a mapping of keys (see {model.__name__})")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = format_validation_error(error, model, lambda _loc: shown)
        raise LLMOpsError("\n".join(problems)) from None


def split_reference(reference: str) -> tuple[str, str]:
    """``"workflow.py:build"`` -> ``("workflow.py", "build")``."""
    file_name, _, function = reference.partition(":")
    return file_name, function
