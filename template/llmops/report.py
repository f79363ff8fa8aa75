"""Managed by the LLMOps template. Report stage: CSV files and one self-contained HTML page.

``reports/<use_case>/`` gets:

* ``metrics.csv``: consolidated, one row per variant, dataset, evaluator and metric;
* ``runs.csv``: every run with its status, line counts, duration and error;
* ``usage.csv``: per standard run (variant x dataset), LLM calls, prompt and
  completion tokens (total and per line) and line latency p50/p95, when the engine
  records them per line (the Agent Framework engine does);
* ``lines_<dataset>__<variant>.csv``: per standard run, each line's inputs and outputs
  joined (by line number) with the per-line outputs of the evaluators bound to it;
* ``report.html``: inline CSS and inline SVG charts comparing variants x datasets x
  metrics, the runs, and per-line tables of the best and the worst variant. No
  scripts and no external assets, so it opens offline and as a CI artifact.

Metrics come from the run record (``llmops evaluate`` stores them); per-line results
are read from the flow engine.
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from llmops.config import load_experiment, parse_condition
from llmops.engine.base import COMPLETED, FlowEngine
from llmops.errors import LLMOpsError
from llmops.paths import relative, reports_dir, use_case_dir
from llmops.run import Echo
from llmops.state import RunRecord, StandardRun, load_record

METRIC_COLUMNS = (
    "experiment",
    "variant",
    "dataset",
    "evaluator",
    "evaluator_dataset",
    "metric",
    "value",
    "run",
)
RUN_COLUMNS = (
    "kind",
    "variant",
    "dataset",
    "evaluator",
    "run",
    "status",
    "lines_completed",
    "lines_failed",
    "seconds",
    "error",
)
USAGE_COLUMNS = (
    "variant",
    "dataset",
    "lines",
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "prompt_tokens_per_line",
    "completion_tokens_per_line",
    "latency_p50",
    "latency_p95",
    "run",
)
REPORT_FILES = ("metrics.csv", "runs.csv", "usage.csv", "report.html")
HTML_LINE_LIMIT = 1000
LABEL_CHARS = 40
PALETTE = ("#2f6fde", "#e8773a", "#2e9d5b", "#b04fc9", "#c9a227", "#d6455d", "#2aa5b5", "#6b6f76")
T = TypeVar("T")


@dataclass(frozen=True)
class MetricRow:
    """One aggregated metric of one evaluation run."""

    experiment: str
    variant: str
    dataset: str
    evaluator: str
    evaluator_dataset: str
    metric: str
    value: float
    run: str

    @property
    def key(self) -> str:
        """``<evaluator>.<metric>``, the name gates use."""
        return f"{self.evaluator}.{self.metric}"


@dataclass(frozen=True)
class LineTable:
    """Per-line results of one standard run, ready for CSV and HTML."""

    dataset: str
    variant: str
    run: str
    columns: list[str]
    rows: list[dict[str, Any]]
    usage: dict[str, Any] | None = None
    """Tokens and latency of the run (``USAGE_COLUMNS``), when its lines record them."""

    @property
    def file_name(self) -> str:
        """``lines_<dataset>__<variant>.csv`` (the variant label made file-safe)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.variant)
        return f"lines_{self.dataset}__{safe}.csv"


@dataclass(frozen=True)
class Ranking:
    """The metric variants are ranked by, and its direction."""

    metric: str
    higher_is_better: bool
    scores: dict[str, float]
    """Variant -> mean of the metric over its evaluation datasets."""

    @property
    def best(self) -> str | None:
        if not self.scores:
            return None
        pick = max if self.higher_is_better else min
        return pick(self.scores, key=lambda variant: self.scores[variant])

    @property
    def worst(self) -> str | None:
        if not self.scores:
            return None
        pick = min if self.higher_is_better else max
        return pick(self.scores, key=lambda variant: self.scores[variant])


def write_report(root: Path, use_case: str, engine: FlowEngine, echo: Echo = print) -> list[Path]:
    """Write all report files for the recorded runs of a use case; return their paths."""
    record = load_record(root, use_case)
    out = reports_dir(root, use_case)
    out.mkdir(parents=True, exist_ok=True)
    stale = [*out.glob("lines_*.csv"), *out.glob("outputs_*.csv")]
    for path in [*stale, *(out / name for name in REPORT_FILES)]:
        path.unlink(missing_ok=True)  # files of an earlier report with other runs
    metrics = collect_metrics(record)
    tables = collect_lines(record, engine)
    ranking = rank_variants(metrics, _gate_directions(root, record))
    paths = []
    for table in tables:
        path = out / table.file_name
        write_csv(path, table.columns, table.rows)
        paths.append(path)
    metrics_path = out / "metrics.csv"
    write_csv(metrics_path, list(METRIC_COLUMNS), [vars(row) for row in metrics])
    runs_path = out / "runs.csv"
    write_csv(runs_path, list(RUN_COLUMNS), run_rows(record))
    usage = [table.usage for table in tables if table.usage]
    if usage:
        usage_path = out / "usage.csv"
        write_csv(usage_path, list(USAGE_COLUMNS), usage)
        paths.append(usage_path)
    html_path = out / "report.html"
    html_path.write_text(render_html(record, metrics, tables, ranking), encoding="utf-8")
    paths += [metrics_path, runs_path, html_path]
    for path in paths:
        echo(f"[report] wrote {relative(path, root)}")
    return paths


def collect_metrics(record: RunRecord) -> list[MetricRow]:
    """Metrics of every completed evaluation run, as stored by the evaluate stage."""
    return [
        MetricRow(
            experiment=record.experiment,
            variant=run.variant,
            dataset=run.standard_dataset or run.dataset,
            evaluator=run.evaluator,
            evaluator_dataset=run.dataset,
            metric=metric,
            value=value,
            run=run.run_name,
        )
        for run in record.evaluation_runs
        if run.status == COMPLETED
        for metric, value in sorted(run.metrics.items())
    ]


def run_rows(record: RunRecord) -> list[dict[str, Any]]:
    """One row per standard and evaluation run."""
    rows: list[dict[str, Any]] = [
        {"kind": "standard", "evaluator": "", **run.model_dump(), "run": run.run_name}
        for run in record.standard_runs
    ]
    rows += [
        {"kind": "evaluation", **run.model_dump(), "run": run.run_name}
        for run in record.evaluation_runs
    ]
    return rows


def collect_lines(record: RunRecord, engine: FlowEngine) -> list[LineTable]:
    """Per standard run: its lines joined with the bound evaluators' line outputs."""
    tables = []
    for run in record.standard_runs:
        if run.status != COMPLETED:
            continue
        lines = _read(run.run_name, lambda name=run.run_name: engine.line_results(name))
        scores = {
            _score_prefix(evaluation.evaluator, evaluation.dataset, run): {
                line["line_number"]: line["outputs"]
                for line in _read(
                    evaluation.run_name,
                    lambda name=evaluation.run_name: engine.line_results(name),
                )
            }
            for evaluation in record.evaluation_runs
            if evaluation.base_run == run.run_name and evaluation.status == COMPLETED
        }
        columns, rows = join_lines(lines, scores)
        usage = usage_summary(lines)
        if usage is not None:
            usage = {"variant": run.variant, "dataset": run.dataset, **usage, "run": run.run_name}
        tables.append(LineTable(run.dataset, run.variant, run.run_name, columns, rows, usage))
    return tables


def usage_summary(lines: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Token totals and per-line means and latency percentiles, or None without usage."""
    usages = [line["usage"] for line in lines if isinstance(line.get("usage"), dict)]
    if not usages:
        return None
    count = len(usages)

    def total(key: str) -> int:
        return sum(int(usage.get(key) or 0) for usage in usages)

    seconds = sorted(float(usage.get("seconds") or 0.0) for usage in usages)
    return {
        "lines": count,
        "llm_calls": total("llm_calls"),
        "prompt_tokens": total("prompt_tokens"),
        "completion_tokens": total("completion_tokens"),
        "prompt_tokens_per_line": round(total("prompt_tokens") / count, 1),
        "completion_tokens_per_line": round(total("completion_tokens") / count, 1),
        "latency_p50": round(percentile(seconds, 0.50), 3),
        "latency_p95": round(percentile(seconds, 0.95), 3),
    }


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def _score_prefix(evaluator: str, dataset: str, run: StandardRun) -> str:
    return evaluator if dataset == run.dataset else f"{evaluator}[{dataset}]"


def join_lines(
    lines: list[dict[str, Any]], scores: dict[str, dict[int, dict[str, Any]]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Flatten lines to ``inputs.x`` / ``outputs.y`` / ``<evaluator>.z`` columns."""
    columns: dict[str, None] = {"line_number": None}
    rows = []
    for line in sorted(lines, key=lambda item: item["line_number"]):
        number = line["line_number"]
        row: dict[str, Any] = {"line_number": number}
        parts = [("inputs", line.get("inputs", {})), ("outputs", line.get("outputs", {}))]
        if isinstance(line.get("usage"), dict):
            parts.append(("usage", line["usage"]))
        if line.get("error"):
            parts.append(("line", {"error": line["error"]}))
        parts += [(name, by_line.get(number, {})) for name, by_line in scores.items()]
        for prefix, values in parts:
            for key, value in values.items():
                row[f"{prefix}.{key}"] = value
        columns.update(dict.fromkeys(row))
        rows.append(row)
    return list(columns), rows


def rank_variants(metrics: list[MetricRow], directions: dict[str, bool]) -> Ranking | None:
    """Rank variants by the first gated metric (else the first metric), mean over datasets."""
    keys = list(dict.fromkeys(row.key for row in metrics))
    if not keys:
        return None
    metric = next((key for key in directions if key in keys), sorted(keys)[0])
    values: dict[str, list[float]] = {}
    for row in metrics:
        if row.key == metric:
            values.setdefault(row.variant, []).append(row.value)
    scores = {variant: sum(items) / len(items) for variant, items in values.items()}
    return Ranking(metric, directions.get(metric, True), scores)


def _gate_directions(root: Path, record: RunRecord) -> dict[str, bool]:
    """``<evaluator>.<metric>`` -> higher is better, from the experiment's gates."""
    try:
        config = load_experiment(use_case_dir(root, record.use_case), record.env)
    except LLMOpsError:
        return {}  # the report still works from the record alone
    return {
        f"{evaluator}.{metric}": parse_condition(condition)[0] not in ("<", "<=")
        for (evaluator, metric), (condition, _) in config.all_gates().items()
    }


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """UTF-8 CSV; lists and dicts are written as JSON so they stay parseable."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: cell_text(row.get(key)) for key in columns})


def cell_text(value: Any) -> str:
    """Text of one cell: JSON for structures, empty for missing values."""
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def variant_colors(variants: list[str]) -> dict[str, str]:
    """A stable colour per variant, in run order."""
    return {variant: PALETTE[index % len(PALETTE)] for index, variant in enumerate(variants)}


def metric_chart_svg(metric: str, rows: list[MetricRow], colors: dict[str, str]) -> str:
    """Grouped horizontal bars for one metric: a group per dataset, a bar per variant."""
    label_width, bar_width, bar_height, gap = 210, 360, 16, 10
    top = max([1.0, *(abs(row.value) for row in rows)])
    datasets = list(dict.fromkeys(row.evaluator_dataset for row in rows))
    height = sum(
        bar_height * sum(1 for r in rows if r.evaluator_dataset == d) + gap for d in datasets
    )
    parts = [
        f'<svg class="chart" role="img" width="{label_width + bar_width + 70}" '
        f'height="{height + 6}" aria-label="{_esc(metric)} by dataset and variant">'
        f"<title>{_esc(metric)}</title>"
    ]
    y = 3
    for dataset in datasets:
        group = [row for row in rows if row.evaluator_dataset == dataset]
        middle = y + bar_height * len(group) / 2 + 4
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.0f}" text-anchor="end">'
            f"{_esc(_short(dataset))}</text>"
        )
        for row in group:
            width = max(0.0, row.value) / top * bar_width
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{bar_width}" height="{bar_height - 2}"'
                ' class="track"/>'
                f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{bar_height - 2}"'
                f' class="bar" fill="{colors.get(row.variant, PALETTE[-1])}">'
                f"<title>{_esc(row.variant)} / {_esc(dataset)}: {row.value:.4g}</title></rect>"
                f'<text x="{label_width + bar_width + 6}" y="{y + bar_height - 4}">'
                f"{row.value:.4g}</text>"
            )
            y += bar_height
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def legend_html(colors: dict[str, str]) -> str:
    """Colour key of the variants."""
    items = "".join(
        f'<li><span class="swatch" style="background:{color}"></span>{_esc(variant)}</li>'
        for variant, color in colors.items()
    )
    return f'<ul class="legend">{items}</ul>'


def comparison_table(metrics: list[MetricRow], variants: list[str]) -> str:
    """Variants as rows, ``metric @ dataset`` as columns; the best cell per column marked."""
    columns = list(dict.fromkeys((row.key, row.evaluator_dataset) for row in metrics))
    values = {(row.variant, row.key, row.evaluator_dataset): row.value for row in metrics}
    head = "".join(
        f"<th>{_header(key)}<br><small>{_header(ds)}</small></th>" for key, ds in columns
    )
    body = []
    for variant in variants:
        cells = []
        for key, dataset in columns:
            value = values.get((variant, key, dataset))
            column = [values.get((v, key, dataset)) for v in variants]
            known = [v for v in column if v is not None]
            best = value is not None and len(known) > 1 and value == max(known)
            text = "-" if value is None else f"{value:.4g}"
            cells.append(f'<td class="{"best" if best else ""}">{text}</td>')
        body.append(f"<tr><th>{_header(variant)}</th>{''.join(cells)}</tr>")
    return (
        f'<table id="comparison"><thead><tr><th>variant</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_html(
    record: RunRecord,
    metrics: list[MetricRow],
    tables: list[LineTable],
    ranking: Ranking | None = None,
) -> str:
    """The whole report page; every value is escaped."""
    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    title = f"{record.experiment}: experiment report"
    variants = record.variants
    colors = variant_colors(variants)
    datasets = list(dict.fromkeys(run.dataset for run in record.standard_runs))
    body = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">use case {_esc(record.use_case)} &middot; '
        f"{_environment_label(record.env)} &middot; engine {_esc(record.engine)} &middot; "
        f"{len(variants)} variant(s) x {len(datasets)} dataset(s) &middot; "
        f"generated {_esc(generated)}</p>",
    ]
    if ranking is not None and ranking.best is not None:
        direction = "higher" if ranking.higher_is_better else "lower"
        body.append(
            f'<p id="ranking">Ranked by <b>{_esc(ranking.metric)}</b> ({direction} is better, '
            f"mean over datasets): best <b>{_esc(ranking.best)}</b>"
            + (f", worst <b>{_esc(ranking.worst)}</b>" if ranking.worst != ranking.best else "")
            + ".</p>"
        )
    body.append('<h2>Metrics</h2><section id="metric-charts">')
    if metrics:
        body.append(legend_html(colors))
        for key in dict.fromkeys(row.key for row in metrics):
            rows = [row for row in metrics if row.key == key]
            body.append(
                f'<figure class="metric"><figcaption>{_esc(key)}</figcaption>'
                f"{metric_chart_svg(key, rows, colors)}</figure>"
            )
        body.append("</section>")
        body.append(comparison_table(metrics, variants))
    else:
        body.append("<p>No metrics yet: run <code>llmops evaluate</code>.</p></section>")
    body += ['<h2>Runs</h2><div id="runs">', _runs_table(record), "</div>"]
    usage = [table.usage for table in tables if table.usage]
    if usage:
        columns = [column for column in USAGE_COLUMNS if column != "run"]
        rows = [[item[column] for column in columns] for item in usage]
        body += [
            '<h2>Tokens and latency</h2><div id="usage">',
            _table(columns, rows),
            "<p><small>Latency: seconds per line (workflow run, LLM calls included).</small></p>",
            "</div>",
        ]
    body += _line_sections(tables, ranking, len(variants))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _runs_table(record: RunRecord) -> str:
    rows = [
        [
            row["kind"],
            row["variant"],
            row["dataset"],
            row.get("evaluator", ""),
            row["run"],
            row["status"],
            row["seconds"],
            row["error"],
        ]
        for row in run_rows(record)
    ]
    columns = ["kind", "variant", "dataset", "evaluator", "run", "status", "seconds", "error"]
    return _table(columns, rows)


def _line_sections(tables: list[LineTable], ranking: Ranking | None, variants: int) -> list[str]:
    """Per-line tables: best and worst variant when there are several, else every run."""
    if variants > 1 and ranking is not None and ranking.best is not None:
        picks = [("best", ranking.best)]
        if ranking.worst != ranking.best:
            picks.append(("worst", ranking.worst))
    else:
        picks = [("lines", None)]
    parts: list[str] = []
    for role, variant in picks:
        chosen = [t for t in tables if variant is None or t.variant == variant]
        parts.append(f'<section id="lines-{role}">')
        for table in chosen:
            heading = f"{role} variant {table.variant}" if variant else f"variant {table.variant}"
            shown = table.rows[:HTML_LINE_LIMIT]
            parts.append(
                f"<h2>Lines: {_esc(table.dataset)} &middot; {_esc(heading)} "
                f"<small>({_esc(table.run)})</small></h2>"
            )
            if len(table.rows) > len(shown):
                parts.append(
                    f"<p>First {len(shown)} of {len(table.rows)} lines; "
                    f"{_esc(table.file_name)} has all of them.</p>"
                )
            parts.append(
                _table(table.columns, [[row.get(c) for c in table.columns] for row in shown])
            )
        parts.append("</section>")
    return parts


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #59636e; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.875rem; }
th, td { border: 1px solid #d1d9e0; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; max-width: 32rem; overflow-wrap: anywhere; }
th { background: #f6f8fa; overflow-wrap: normal; }
td.best { background: #dafbe1; font-weight: 600; }
figure.metric { margin: 0.75rem 0 1.25rem; }
figcaption { font-weight: 600; margin-bottom: 0.25rem; }
svg text { font-size: 12px; fill: #1f2328; }
svg .track { fill: #eef1f4; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.35rem;
          vertical-align: -0.1rem; border-radius: 2px; }
"""


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "\u2026"


def _table(columns: list[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{_header(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(cell_text(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _environment_label(env: str | None) -> str:
    """Say which configuration ran: an overlay's environment, or the base file alone."""
    return f"environment {_esc(env)}" if env else "base configuration (no --env overlay)"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


HEADER_BREAKS = re.compile(r"([._/@-])")


def _header(value: Any) -> str:
    """A header may wrap after '.', '_', '/', '@' or '-' (between the parts of a name such
    as ``ner_match.exact_match_rate``), never inside a word."""
    return HEADER_BREAKS.sub(r"\1<wbr>", _esc(value))


def _read(run_name: str, read: Callable[[], T]) -> T:
    """Read results of a recorded run; a vanished run becomes a clear error."""
    try:
        return read()
    except LLMOpsError:
        raise
    except Exception as error:
        raise LLMOpsError(
            f"cannot read results of run '{run_name}' ({type(error).__name__}: {error}); "
            "was .llmops/ deleted? Run `llmops run` and `llmops evaluate` again"
        ) from None
