"""Managed by the LLMOps template. ``llmops import-flow``: bring an existing prompt flow in.

Bringing your own flow used to take eight manual steps (copy the flow, copy the data,
write experiment.yaml and its PR overlay, map every input, find the metrics, validate).
This module derives them from what the flow declares: each flow input becomes a
``${data.<input>}`` mapping; an evaluation flow's inputs map to the standard flow's
outputs (``${run.outputs.<name>}``), to data columns (``${data.<name>}``) or to the
standard run's inputs; gates are written only for metric names the evaluation flow
logs as string literals (commented examples otherwise). The result is checked with
``llmops validate``'s own checks.

A refused import writes nothing (not a flow folder, a taken name, no data): every
check runs first, the use case is built in a temporary folder and moved into
``use_cases/`` at the end. Flow files are copied as they are (your code is not
reformatted: ruff.toml gives ``use_cases/`` a lighter rule set and leaves it out of the
format check); caches, ``.env`` files and the dataset itself (it moves to ``data/``)
stay behind. Nothing comes from a sample: no mock replies (offline runs get the mock's
fallback reply until you write ``mock/responses.jsonl``), and ``sample-request.json``
is the first data line's flow inputs.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.config import SCHEMA_COMMENT, load_connections, read_yaml
from llmops.engine.base import FlowEngine, FlowSignature
from llmops.engine.promptflow_engine import FLEX_FILE, FLOW_FILE
from llmops.errors import LLMOpsError
from llmops.new_flow import IGNORED, new_use_case_dir
from llmops.paths import EXPERIMENT_FILE, relative, use_case_dir
from llmops.validate import validate_use_case

FLOW_FILES = (FLOW_FILE, FLEX_FILE)
DATA_SUFFIXES = (".jsonl", ".csv")
HEAD_LINES = 100
"""Lines read to learn a data file's columns before importing it."""
PR_LINES = 3
"""Lines of the PR slice (``data/pr.jsonl``): enough to exercise the flow, fast in a PR."""
PR_ENV = "pr"
GENERIC_FOLDERS = frozenset({"standard", "flow", "flows", "src", "dag", "flex"})
"""Folder names that say nothing about the use case; the name comes from a parent then."""
SKIPPED_NAMES = frozenset(
    {".env", ".git", ".venv", "venv", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
)
"""Never copied: secrets stay out of use_cases/, environments and caches are rebuilt."""
PREDICTION_INPUTS = frozenset(
    {"prediction", "predicted", "output", "answer", "response", "result", "completion"}
)
"""Evaluation inputs that mean "the standard flow's answer" when it has one output."""
TEST_FILES = ("test_*.py", "*_test.py")
PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
PLAIN_REFERENCE = re.compile(r"\$\{[A-Za-z0-9_.]+\}")
PLACEHOLDER_GATE = ">= 0"


@dataclass(frozen=True)
class DataFile:
    """The dataset to import: its path, columns and first rows (from the first lines)."""

    path: Path
    columns: frozenset[str]
    head: list[dict[str, Any]]

    @property
    def target_name(self) -> str:
        """File name under ``data/``: CSV is converted to JSONL (what llmops validates)."""
        return f"{self.path.stem}.jsonl"


@dataclass(frozen=True)
class Plan:
    """Everything derived before a file is written."""

    name: str
    standard: Path
    signature: FlowSignature
    evaluation: Path | None
    evaluation_signature: FlowSignature | None
    data: DataFile
    dataset: str
    evaluator: str

    @property
    def pr_file(self) -> str:
        """PR slice file name; never the dataset's own name."""
        return "pr_slice.jsonl" if self.data.target_name == "pr.jsonl" else "pr.jsonl"


@dataclass
class ImportResult:
    """What ``import_flow`` created, what it noticed and what validation found."""

    name: str
    folder: Path
    plan: Plan
    tests: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self, root: Path) -> list[str]:
        """Lines for the terminal: what was created from what, and what to run next."""
        plan, name = self.plan, self.name
        where = relative(self.folder, root)
        lines = [f"[import-flow] created {where}"]
        lines.append(f"  flows/standard       from {plan.standard}: {_describe(plan.signature)}")
        if plan.evaluation is not None and plan.evaluation_signature is not None:
            metrics = plan.evaluation_signature.metrics
            logged = ", ".join(sorted(metrics)) if metrics else "not known before a run"
            lines.append(f"  flows/evaluation     from {plan.evaluation} (metrics: {logged})")
        lines.append(f"  data/{plan.data.target_name:<15} from {plan.data.path}")
        lines.append(f"  data/{plan.pr_file:<15} its first {PR_LINES} lines (experiment.pr.yaml)")
        lines.append("  experiment.yaml, experiment.pr.yaml, sample-request.json")
        for test in self.tests:
            lines.append(f"  {test:<20} collected by pytest (testpaths: tests use_cases)")
        if self.problems:
            lines.append(
                f"[import-flow] llmops validate found {len(self.problems)} problem(s) (below): "
                f"fix them in {where}/ (or delete the folder and import again)"
            )
        lines.append(f"  next: llmops validate --use-case {name} --env {PR_ENV}")
        lines.append(f"        llmops experiment --offline --use-case {name} --env {PR_ENV}")
        lines.append(f"        ruff check {where} && pytest")
        return lines


def import_flow(
    root: Path,
    path: Path,
    engine: FlowEngine,
    *,
    name: str | None = None,
    evaluation: Path | None = None,
    data: Path | None = None,
) -> ImportResult:
    """Create ``use_cases/<name>`` from a flow folder; refuse (writing nothing) when unusable."""
    plan = plan_import(root, path, engine, name=name, evaluation=evaluation, data=data)
    target = use_case_dir(root, plan.name)
    with tempfile.TemporaryDirectory(prefix="llmops-import-") as temporary:
        staged = Path(temporary) / plan.name
        _build(plan, staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), str(target))
    result = ImportResult(plan.name, target, plan)
    result.tests = _flow_tests(target)
    result.notes = _notes(root, plan, target, result.tests)
    # The PR overlay is checked once the base is clean (else each mapping problem shows twice).
    result.problems = validate_use_case(root, plan.name, None, engine) or validate_use_case(
        root, plan.name, PR_ENV, engine
    )
    return result


def plan_import(
    root: Path,
    path: Path,
    engine: FlowEngine,
    *,
    name: str | None = None,
    evaluation: Path | None = None,
    data: Path | None = None,
) -> Plan:
    """Read and check everything an import needs; raise ``LLMOpsError`` before any write."""
    standard = flow_folder(path)
    judge = flow_folder(evaluation) if evaluation is not None else None
    if judge is not None and judge == standard:
        raise LLMOpsError(f"{evaluation}: the evaluation flow must be another folder than PATH")
    name = name or derive_name(standard)
    new_use_case_dir(root, name)  # refuses a bad or taken name
    signature = engine.describe(standard)
    judge_signature = engine.describe(judge) if judge is not None else None
    folders = [standard] if judge is None else [standard, judge]
    dataset = (
        read_data(data) if data is not None else find_data(folders, signature, judge_signature)
    )
    return Plan(
        name=name,
        standard=standard,
        signature=signature,
        evaluation=judge,
        evaluation_signature=judge_signature,
        data=dataset,
        dataset=identifier(dataset.path.stem, "data"),
        evaluator=identifier(judge.name, "evaluation") if judge is not None else "evaluation",
    )


def flow_folder(path: Path) -> Path:
    """The flow folder at ``path`` (a flow.dag.yaml / flow.flex.yaml file means its folder)."""
    resolved = path.resolve()
    if resolved.is_file() and resolved.name in FLOW_FILES:
        resolved = resolved.parent
    if not resolved.is_dir():
        raise LLMOpsError(f"{path}: folder not found")
    if not any((resolved / flow_file).is_file() for flow_file in FLOW_FILES):
        raise LLMOpsError(f"{path}: not a prompt flow folder (it has no {' or '.join(FLOW_FILES)})")
    return resolved


def identifier(text: str, fallback: str) -> str:
    """``My Flow (v2)`` -> ``my_flow_v2``: lowercase letters, digits and ``_``, a letter first."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if cleaned and not cleaned[0].isalpha():
        cleaned = f"{fallback}_{cleaned}"
    return cleaned or fallback


def derive_name(folder: Path) -> str:
    """Use-case name from the flow folder, or from a parent when it is called ``standard``."""
    for part in (folder, *folder.parents):
        if part.name and part.name.lower() not in GENERIC_FOLDERS:
            return identifier(part.name, "flow")
    return "imported_flow"


def read_data(path: Path) -> DataFile:
    """The first lines of a JSONL or CSV file: its columns and first rows."""
    resolved = path.resolve()
    if not resolved.is_file():
        raise LLMOpsError(f"{path}: file not found (--data expects a .jsonl or .csv file)")
    if resolved.suffix.lower() not in DATA_SUFFIXES:
        raise LLMOpsError(f"{path}: expected a .jsonl or .csv file (one line per example)")
    head = (
        _csv_head(resolved, path)
        if resolved.suffix.lower() == ".csv"
        else _jsonl_head(resolved, path)
    )
    if not head:
        raise LLMOpsError(f"{path}: has no data lines")
    columns = frozenset(key for row in head for key in row)
    return DataFile(resolved, columns, head)


def _jsonl_head(path: Path, shown: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
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
            rows.append(item)
            if len(rows) >= HEAD_LINES:
                break
    return rows


def _csv_head(path: Path, shown: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise LLMOpsError(f"{shown}: no header line (a CSV dataset needs column names)")
        rows = []
        for row in reader:
            rows.append({key: value for key, value in row.items() if key is not None})
            if len(rows) >= HEAD_LINES:
                break
    return rows


def find_data(
    folders: list[Path], standard: FlowSignature, evaluation: FlowSignature | None
) -> DataFile:
    """The data file in the flow folders (or their ``data/``) that best feeds the flow's inputs."""
    best: tuple[tuple[int, int], DataFile] | None = None
    rejected: list[str] = []
    for candidate in _candidates(folders):
        try:
            data = read_data(candidate)
        except LLMOpsError as error:
            rejected.append(str(error))
            continue
        missing = [name for name in standard.required_inputs if name not in data.columns]
        covered = sum(1 for name in standard.inputs if name in data.columns)
        if missing or (standard.inputs and not covered):
            absent = missing or list(standard.inputs)
            rejected.append(f"{candidate.name} has no column {', '.join(absent)}")
            continue
        judged = sum(
            1 for name in (evaluation.inputs if evaluation else {}) if name in data.columns
        )
        if best is None or (covered, judged) > best[0]:
            best = ((covered, judged), data)
    if best is not None:
        return best[1]
    inputs = ", ".join(standard.inputs) or "none"
    found = f" (found: {'; '.join(rejected)})" if rejected else ""
    raise LLMOpsError(
        f"no data found for the flow in {folders[0]}: no .jsonl or .csv file in the flow "
        f"folder{'s' if len(folders) > 1 else ''} has columns for its inputs ({inputs}){found}. "
        "Pass one with --data PATH (JSONL or CSV, one example per line); nothing was written"
    )


def _candidates(folders: list[Path]) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        for place in (folder, folder / "data"):
            if place.is_dir():
                found += sorted(
                    path
                    for path in place.iterdir()
                    if path.is_file() and path.suffix.lower() in DATA_SUFFIXES
                )
    return found


def standard_mappings(signature: FlowSignature, columns: frozenset[str]) -> dict[str, str]:
    """Flow input -> ``${data.<input>}``; an input with a default only when the column exists."""
    return {
        name: f"${{data.{name}}}"
        for name, has_default in signature.inputs.items()
        if name in columns or not has_default
    }


def evaluation_mappings(
    evaluation: FlowSignature, standard: FlowSignature, columns: frozenset[str]
) -> dict[str, str]:
    """Evaluation input -> a standard output, a data column or a standard run input.

    An input named like an output reads that output; one named like a column reads the
    column; ``prediction`` (and similar) reads the only output of a one-output flow; an
    input of the standard flow reads what its run received. A required input that
    matches nothing is mapped to ``${data.<input>}`` so validation names the column.
    """
    outputs = sorted(standard.outputs)
    mappings: dict[str, str] = {}
    for name, has_default in evaluation.inputs.items():
        if name in standard.outputs:
            mappings[name] = f"${{run.outputs.{name}}}"
        elif name in columns:
            mappings[name] = f"${{data.{name}}}"
        elif len(outputs) == 1 and name.lower() in PREDICTION_INPUTS:
            mappings[name] = f"${{run.outputs.{outputs[0]}}}"
        elif name in standard.inputs:
            mappings[name] = f"${{run.inputs.{name}}}"
        elif not has_default:
            mappings[name] = f"${{data.{name}}}"
    return mappings


def experiment_text(plan: Plan) -> str:
    """experiment.yaml: what the flow declares, with commented hints where nothing is known."""
    columns = plan.data.columns
    lines = [
        SCHEMA_COMMENT,
        f"# Experiment for the {plan.name} use case, imported by `llmops import-flow` from "
        f"{plan.standard.name} (scaffold-once: yours to edit).",
        "# Reference: docs/experiments.md. Overlays: experiment.<env>.yaml.",
        f"name: {plan.name}",
        "flow: flows/standard",
    ]
    if plan.signature.connections:
        lines.append("connections:")
        lines += [f"  - {_yaml(name)}" for name in sorted(plan.signature.connections)]
    else:
        lines.append("# connections: []  # names from config/connections.yaml the flow's code uses")
    lines += ["runtime:", "  workers: 4"]
    if plan.signature.variants:
        nodes = ", ".join(
            f"{node} ({', '.join(item.ids)})" for node, item in plan.signature.variants.items()
        )
        lines.append(f"# variants: one_factor  # also run the other node variants: {nodes}")
    lines += _dataset_lines(
        plan, f"data/{plan.data.target_name}", standard_mappings(plan.signature, columns)
    )
    if plan.evaluation_signature is None:
        lines += [
            "# evaluators:  # score the runs: llmops import-flow --evaluation, or by hand",
            "#   - name: quality",
            "#     flow: flows/evaluation",
            "#     datasets:",
            f"#       - name: {plan.dataset}",
            "#         mappings: {prediction: ${run.outputs.<output>}, label: ${data.<column>}}",
            "# gates:  # <evaluator>.<metric>: <condition>",
            '#   quality.accuracy: ">= 0.7"',
        ]
        return "\n".join(lines) + "\n"
    lines += _evaluator_lines(plan)
    metrics = sorted(plan.evaluation_signature.metrics or ())
    if metrics:
        lines += [
            f'# Placeholder thresholds ("{PLACEHOLDER_GATE}"): a missing metric or a failed '
            "evaluation already fails the",
            "# build; raise each to the level your flow must reach.",
            "gates:",
        ]
        lines += [
            f'  {_yaml(f"{plan.evaluator}.{metric}")}: "{PLACEHOLDER_GATE}"' for metric in metrics
        ]
    else:
        lines += [
            "# gates:  # <evaluator>.<metric>: <condition>; metric names are the string literals",
            "#         # of log_metric(...) calls in the evaluation flow's aggregation node",
            f'#   {plan.evaluator}.accuracy: ">= 0.7"',
        ]
    return "\n".join(lines) + "\n"


def overlay_text(plan: Plan) -> str:
    """experiment.pr.yaml: the same dataset name on the PR slice, default variants only."""
    lines = [
        SCHEMA_COMMENT,
        f"# Pull-request overlay: the first {PR_LINES} lines of the data "
        f"(data/{plan.pr_file}), default variants only,",
        "# so PR validation stays fast. datasets/evaluators/variants/connections replace the",
        "# base value; runtime merges by key; gates merge by metric (`<evaluator>.<metric>: null`",
        "# removes a gate). Reference: docs/experiments.md.",
        "variants: defaults",
    ]
    lines += _dataset_lines(
        plan, f"data/{plan.pr_file}", standard_mappings(plan.signature, plan.data.columns)
    )
    return "\n".join(lines) + "\n"


def _dataset_lines(plan: Plan, source: str, mappings: dict[str, str]) -> list[str]:
    lines = [
        "datasets:",
        f"  - name: {plan.dataset}",
        f"    source: {source}",
        f"    description: Imported from {_yaml(plan.data.path.name)}.",
    ]
    return lines + _mapping_lines(mappings, "    ")


def _evaluator_lines(plan: Plan) -> list[str]:
    assert plan.evaluation_signature is not None
    mappings = evaluation_mappings(plan.evaluation_signature, plan.signature, plan.data.columns)
    lines = [
        "evaluators:",
        f"  - name: {plan.evaluator}",
        "    flow: flows/evaluation",
        "    datasets:",
        f"      - name: {plan.dataset}",
    ]
    return lines + _mapping_lines(mappings, "        ")


def _mapping_lines(mappings: dict[str, str], indent: str) -> list[str]:
    if not mappings:
        return [f"{indent}mappings: {{}}"]
    return [f"{indent}mappings:"] + [
        f"{indent}  {_yaml(key)}: {_yaml(value)}" for key, value in mappings.items()
    ]


def _yaml(value: str) -> str:
    """A YAML scalar: plain when safe, else a JSON string (which YAML reads the same)."""
    if PLAIN_KEY.fullmatch(value) or PLAIN_REFERENCE.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _build(plan: Plan, staged: Path) -> None:
    """Write the whole use case into ``staged`` (a temporary folder)."""
    skipped = {plan.data.path}
    if plan.evaluation is not None:
        skipped.add(plan.evaluation)
    _copy_flow(plan.standard, staged / "flows" / "standard", skipped)
    if plan.evaluation is not None:
        _copy_flow(plan.evaluation, staged / "flows" / "evaluation", {plan.data.path})
    data_dir = staged / "data"
    data_dir.mkdir(parents=True)
    target = data_dir / plan.data.target_name
    _copy_data(plan.data.path, target)
    lines = [line for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
    (data_dir / plan.pr_file).write_text("\n".join(lines[:PR_LINES]) + "\n", encoding="utf-8")
    (staged / EXPERIMENT_FILE).write_text(experiment_text(plan), encoding="utf-8")
    (staged / f"experiment.{PR_ENV}.yaml").write_text(overlay_text(plan), encoding="utf-8")
    first = plan.data.head[0]
    request = {name: first[name] for name in plan.signature.inputs if name in first}
    if request:
        text = json.dumps(request, indent=2, ensure_ascii=False) + "\n"
        (staged / "sample-request.json").write_text(text, encoding="utf-8")


def _copy_flow(source: Path, target: Path, skipped: set[Path]) -> None:
    """Copy a flow folder as it is, minus caches, secrets and ``skipped`` paths."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        ignored = set(IGNORED(folder, names)) | (SKIPPED_NAMES & set(names))
        return ignored | {name for name in names if (Path(folder) / name).resolve() in skipped}

    try:
        shutil.copytree(source, target, ignore=ignore, symlinks=False)
    except OSError as error:
        raise LLMOpsError(f"{source}: could not copy the flow folder ({error})") from None
    for path in skipped:  # a data/ folder that held only the dataset goes too
        left = (target / path.relative_to(source)).parent if path.is_relative_to(source) else target
        if left != target and left.is_dir() and not any(left.iterdir()):
            left.rmdir()


def _copy_data(source: Path, target: Path) -> None:
    """JSONL byte for byte; CSV converted to JSONL (values stay text)."""
    if source.suffix.lower() != ".csv":
        shutil.copyfile(source, target)
        return
    with (
        source.open(encoding="utf-8-sig", newline="") as handle,
        target.open("w", encoding="utf-8") as out,
    ):
        for row in csv.DictReader(handle):
            item = {key: value for key, value in row.items() if key is not None}
            out.write(json.dumps(item, ensure_ascii=False) + "\n")


def _flow_tests(folder: Path) -> list[str]:
    """Test files that came with the flows (pytest collects them from ``use_cases/``)."""
    found = {path for pattern in TEST_FILES for path in (folder / "flows").rglob(pattern)}
    return sorted(path.relative_to(folder).as_posix() for path in found)


def _notes(root: Path, plan: Plan, folder: Path, tests: list[str]) -> list[str]:
    """What to do about problems validation names, and things it cannot see."""
    shown = relative(folder, root)
    notes = _connection_notes(root, plan, shown)
    if plan.evaluation_signature is not None:
        mappings = evaluation_mappings(plan.evaluation_signature, plan.signature, plan.data.columns)
        choices = [f"${{run.outputs.{name}}}" for name in sorted(plan.signature.outputs)]
        choices += [f"${{data.{name}}}" for name in sorted(plan.data.columns)]
        for name, value in mappings.items():
            if value == f"${{data.{name}}}" and name not in plan.data.columns:
                notes.append(
                    f"{shown}/{EXPERIMENT_FILE}: evaluation input '{name}' matches no output or "
                    f"column by name: map it to one of {', '.join(choices)}"
                )
    if plan.signature.kind == "flex" and not plan.signature.outputs and plan.evaluation is not None:
        notes.append(
            f"{shown}/flows/standard/flow.flex.yaml declares no outputs, so the evaluation's "
            "${run.outputs.<name>} mappings are only checked when it runs: declare "
            "`outputs: {<name>: {type: string}}` to have them checked by validate"
        )
    flows = [("standard", plan.standard)]
    if plan.evaluation is not None:
        flows.append(("evaluation", plan.evaluation))
    for kind, source in flows:
        dag = source / FLOW_FILE
        data = read_yaml(dag, str(dag)) if dag.is_file() else None
        includes = data.get("additional_includes") if isinstance(data, dict) else None
        for include in includes if isinstance(includes, list) else []:
            if not (source / str(include)).resolve().is_relative_to(source):
                notes.append(
                    f"{shown}/flows/{kind}/{FLOW_FILE}: additional_includes "
                    f"'{include}' lies outside the flow folder and was not copied: copy it into "
                    "the flow folder and change the path"
                )
    notes += _test_name_clashes(root, folder, tests)
    return notes


def _connection_notes(root: Path, plan: Plan, shown: str) -> list[str]:
    """A flow's connection the project lacks: point at both ways to fix it."""
    try:
        defined = [spec.name for spec in load_connections(root)]
    except LLMOpsError:
        return []  # validation reports the broken file
    unknown = sorted(plan.signature.connections - set(defined))
    if not unknown:
        return []
    return [
        f"{shown}/flows/standard/{FLOW_FILE}: the flow uses connection(s) "
        f"{', '.join(unknown)}, which this project does not define: set `connection:` (and "
        f"the deployment) of those nodes to one of {', '.join(defined)} and fix `connections:` "
        f"in {EXPERIMENT_FILE}, or add it to the project's `connections` answer (see the "
        "first lines of config/connections.yaml)"
    ]


def _test_name_clashes(root: Path, folder: Path, tests: list[str]) -> list[str]:
    """pytest imports test files by file name (no ``__init__.py``): two of one name clash."""
    others: dict[str, str] = {}
    for place in ("tests", "use_cases"):
        for pattern in TEST_FILES:
            for path in sorted((root / place).rglob(pattern)):
                if not path.is_relative_to(folder):
                    others.setdefault(path.name, relative(path, root))
    clashes = []
    seen: dict[str, str] = {}
    for test in tests:
        name = Path(test).name
        other = others.get(name) or seen.get(name)
        if other:
            clashes.append(
                f"{relative(folder, root)}/{test}: pytest cannot collect two test files named "
                f"{name} (the other: {other}); rename one"
            )
        seen[name] = f"{relative(folder, root)}/{test}"
    return clashes


def _describe(signature: FlowSignature) -> str:
    inputs = ", ".join(signature.inputs) or "none"
    outputs = ", ".join(sorted(signature.outputs)) or "not declared"
    return f"{signature.kind} flow (inputs: {inputs}; outputs: {outputs})"
