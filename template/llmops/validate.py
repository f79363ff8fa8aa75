"""Managed by the LLMOps template. Check a use case before any LLM call.

A batch run that fails on a typo costs minutes and tokens; these checks cost
milliseconds. All problems are collected and shown together, each naming the file,
the key path (``datasets[0].mappings.text``) and what was expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from llmops.config import ExperimentConfig, load_connections, load_experiment
from llmops.engine.base import FlowEngine, FlowSignature
from llmops.errors import LLMOpsError
from llmops.paths import relative, use_case_dir
from llmops.plan import VariantError, select_variants

REFERENCE = re.compile(r"^\$\{(?P<source>data|run\.outputs|run\.inputs)\.(?P<name>[^{}]+)\}$")
COLUMN_SAMPLE_LINES = 100


@dataclass(frozen=True)
class DataFile:
    """What a JSONL file offers: its columns (from the first lines) and line count."""

    shown: str
    columns: frozenset[str]
    lines: int


def read_columns(path: Path, shown: str) -> DataFile:
    """Check every line is a JSON object; collect columns from the first lines."""
    columns: set[str] = set()
    count = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise LLMOpsError(f"{shown}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(item, dict):
                raise LLMOpsError(f"{shown}:{number}: expected a JSON object per line")
            count += 1
            if count <= COLUMN_SAMPLE_LINES:
                columns.update(item)
    if not count:
        raise LLMOpsError(f"{shown}: has no data lines")
    return DataFile(shown, frozenset(columns), count)


def validate_use_case(root: Path, use_case: str, env: str | None, engine: FlowEngine) -> list[str]:
    """All problems of one use case, or an empty list when it is ready to run."""
    try:
        config = load_experiment(use_case_dir(root, use_case), env)
    except LLMOpsError as error:
        return str(error).splitlines()
    return _Checker(root, config, engine).check()


class _Checker:
    """Walks one experiment; every method appends to ``problems`` instead of raising."""

    def __init__(self, root: Path, config: ExperimentConfig, engine: FlowEngine) -> None:
        self.root = root
        self.config = config
        self.engine = engine
        self.problems: list[str] = []
        self._data: dict[str, DataFile | None] = {}

    def where(self, top_key: str) -> str:
        return relative(self.config.source_file(top_key), self.root)

    def check(self) -> list[str]:
        self._check_connections()
        for top, items in (
            ("datasets", self.config.datasets),
            ("evaluators", self.config.evaluators),
        ):
            self._unique(top, top, [item.name for item in items])
        standard = self._flow(self.config.flow, f"{self.where('flow')}: flow")
        for index, dataset in enumerate(self.config.datasets):
            key = f"datasets[{index}]"
            data = self._dataset(dataset.source, f"{self.where('datasets')}: {key}.source")
            if standard is not None:
                self._check_inputs(standard, dataset.mappings, f"{key}.mappings", "datasets")
            self._check_mappings(dataset.mappings, data, None, f"{key}.mappings", "datasets")
        if standard is not None:
            self._check_variants(standard)
        metrics: dict[str, frozenset[str] | None] = {}
        for index in range(len(self.config.evaluators)):
            metrics[self.config.evaluators[index].name] = self._check_evaluator(index, standard)
        self._check_gates(metrics)
        return self.problems

    def _unique(self, top: str, key: str, names: list[str]) -> None:
        for index, name in enumerate(names):
            if name in names[:index]:
                self.problems.append(
                    f"{self.where(top)}: {key}[{index}].name: '{name}' is used twice "
                    "(names must be unique; they become run names)"
                )

    def _check_variants(self, standard: FlowSignature) -> None:
        mode = self.config.variants
        if standard.kind != "dag" and mode != "defaults":
            self.problems.append(
                f"{self.where('variants')}: variants: the flow {self.config.flow} is a "
                f"{standard.kind} flow and has no node variants; use `variants: defaults` "
                "(or remove the key)"
            )
            return
        try:
            select_variants(mode, standard.variants, self.config.runtime.max_variants)
        except VariantError as error:
            self.problems.append(f"{self.where('variants')}: variants: {error}")

    def _check_gates(self, metrics: dict[str, frozenset[str] | None]) -> None:
        for (evaluator, metric), (_condition, key) in self.config.all_gates().items():
            top = "gates" if key.startswith("gates.") else "evaluators"
            where = f"{self.where(top)}: {key}"
            if evaluator not in metrics:
                self.problems.append(
                    f"{where}: no evaluator '{evaluator}' in this experiment "
                    f"(evaluators: {', '.join(metrics) or 'none'})"
                )
                continue
            produced = metrics[evaluator]
            if produced is not None and metric not in produced:
                self.problems.append(
                    f"{where}: evaluator '{evaluator}' does not produce metric '{metric}' "
                    f"(its flow logs: {', '.join(sorted(produced)) or 'no metrics'})"
                )

    def _check_connections(self) -> None:
        try:
            defined = {spec.name for spec in load_connections(self.root)}
        except LLMOpsError as error:
            self.problems.extend(str(error).splitlines())
            return
        for index, name in enumerate(self.config.connections):
            if name not in defined:
                self.problems.append(
                    f"{self.where('connections')}: connections[{index}]: '{name}' is not in "
                    f"config/connections.yaml (defined: {', '.join(sorted(defined))})"
                )

    def _flow(self, folder: str, label: str) -> FlowSignature | None:
        flow_dir = self.config.path(folder)
        if not flow_dir.is_dir():
            self.problems.append(f"{label}: folder {relative(flow_dir, self.root)} does not exist")
            return None
        try:
            signature = self.engine.describe(flow_dir)
        except LLMOpsError as error:
            self.problems.append(f"{label}: {error}")
            return None
        unlisted = sorted(signature.connections - set(self.config.connections))
        if unlisted:
            self.problems.append(
                f"{label}: the flow uses connection(s) {', '.join(unlisted)} that the "
                f"experiment's 'connections' does not list"
            )
        return signature

    def _dataset(self, source: str, label: str) -> DataFile | None:
        if source not in self._data:
            path = self.config.path(source)
            shown = relative(path, self.root)
            self._data[source] = None
            if not path.is_file():
                self.problems.append(f"{label}: file {shown} does not exist")
            else:
                try:
                    self._data[source] = read_columns(path, shown)
                except LLMOpsError as error:
                    self.problems.append(str(error))
        return self._data[source]

    def _check_inputs(
        self, flow: FlowSignature, mappings: dict[str, str], key: str, top: str
    ) -> None:
        for name in flow.required_inputs:
            if name not in mappings:
                self.problems.append(
                    f"{self.where(top)}: {key}: flow input '{name}' has no default and is "
                    f"not mapped (add {name}: ${{data.<column>}})"
                )
        for name in mappings:
            if name not in flow.inputs:
                self.problems.append(
                    f"{self.where(top)}: {key}.{name}: '{name}' is not an input of the flow "
                    f"(inputs: {', '.join(flow.inputs) or 'none'})"
                )

    def _check_mappings(
        self,
        mappings: dict[str, str],
        data: DataFile | None,
        standard: FlowSignature | None,
        key: str,
        top: str,
        evaluating: bool = False,
    ) -> None:
        for name, value in mappings.items():
            where = f"{self.where(top)}: {key}.{name}"
            match = REFERENCE.match(value.strip())
            if match is None:
                if "${" in value:
                    allowed = "${data.<column>}" + (
                        " or ${run.outputs.<output>}" if evaluating else ""
                    )
                    self.problems.append(f"{where}: '{value}' is not a reference; use {allowed}")
                continue  # a literal value is passed as is
            source, ref = match.group("source"), match.group("name")
            if source == "data":
                if data is not None and ref not in data.columns:
                    self.problems.append(
                        f"{where}: column '{ref}' is not in {data.shown} "
                        f"(columns found: {', '.join(sorted(data.columns))})"
                    )
            elif not evaluating:
                self.problems.append(
                    f"{where}: '{value}' refers to a run, but a standard dataset has no run; "
                    "use ${data.<column>}"
                )
            elif standard is not None:
                names = standard.outputs if source == "run.outputs" else set(standard.inputs)
                if ref not in names:
                    kind = "output" if source == "run.outputs" else "input"
                    self.problems.append(
                        f"{where}: '{ref}' is not an {kind} of the standard flow "
                        f"{self.config.flow} ({kind}s: {', '.join(sorted(names)) or 'none'})"
                    )

    def _check_evaluator(self, index: int, standard: FlowSignature | None) -> frozenset[str] | None:
        """Check one evaluator; return the metrics its flow logs (None = unknown)."""
        evaluator = self.config.evaluators[index]
        key = f"evaluators[{index}]"
        where = self.where("evaluators")
        flow = self._flow(evaluator.flow, f"{where}: {key}.flow")
        names = [dataset.name for dataset in self.config.datasets]
        self._unique("evaluators", f"{key}.datasets", [item.name for item in evaluator.datasets])
        for position, item in enumerate(evaluator.datasets):
            item_key = f"{key}.datasets[{position}]"
            if item.reference is not None:
                if self.config.dataset(item.reference) is None:
                    self.problems.append(
                        f"{where}: {item_key}.reference: '{item.reference}' is not a dataset "
                        f"of this experiment (datasets: {', '.join(names)})"
                    )
                    continue
                if item.name in names:
                    self.problems.append(
                        f"{where}: {item_key}.name: '{item.name}' is already a standard "
                        "dataset; give a dataset with its own source a new name"
                    )
                data = self._dataset(item.source or "", f"{where}: {item_key}.source")
            else:
                dataset = self.config.dataset(item.name)
                if dataset is None:
                    self.problems.append(
                        f"{where}: {item_key}.name: '{item.name}' is not a dataset of this "
                        f"experiment (datasets: {', '.join(names)}); to score another file, "
                        "give it a new name, a source and `reference: <dataset>`"
                    )
                    continue
                data = self._dataset(dataset.source, f"{self.where('datasets')}: {item.name}")
            if flow is not None:
                self._check_inputs(flow, item.mappings, f"{item_key}.mappings", "evaluators")
            self._check_mappings(
                item.mappings, data, standard, f"{item_key}.mappings", "evaluators", True
            )
        return flow.metrics if flow is not None else None
