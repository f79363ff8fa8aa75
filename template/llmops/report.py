"""Managed by the LLMOps template. Report stage: CSV files and one self-contained HTML page.

``reports/<use_case>/`` gets ``outputs_<dataset>.csv`` (per line: inputs, outputs and
the evaluators' per-line scores, joined by line number), ``metrics.csv`` (one row per
evaluator, dataset, run and metric) and ``report.html``: inline CSS and an inline SVG
chart, no scripts and no external assets, so it opens offline and as a CI artifact.
"""

from __future__ import annotations

import csv
import html
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from llmops.engine.base import COMPLETED, FlowEngine
from llmops.errors import LLMOpsError
from llmops.paths import relative, reports_dir
from llmops.run import Echo
from llmops.state import RunRecord, load_record

METRIC_COLUMNS = ("evaluator", "dataset", "run", "metric", "value")
HTML_LINE_LIMIT = 1000
LABEL_CHARS = 46
T = TypeVar("T")


@dataclass(frozen=True)
class MetricRow:
    """One aggregated metric of one evaluation run."""

    evaluator: str
    dataset: str
    run: str
    metric: str
    value: float


@dataclass(frozen=True)
class LineTable:
    """Per-line results of one dataset, ready for CSV and HTML."""

    dataset: str
    run: str
    columns: list[str]
    rows: list[dict[str, Any]]


def write_report(root: Path, use_case: str, engine: FlowEngine, echo: Echo = print) -> list[Path]:
    """Write all report files for the recorded runs of a use case; return their paths."""
    record = load_record(root, use_case)
    out = reports_dir(root, use_case)
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("outputs_*.csv"), out / "metrics.csv", out / "report.html"]:
        stale.unlink(missing_ok=True)  # files of an earlier report with other datasets
    metrics = collect_metrics(record, engine)
    tables = collect_lines(record, engine)
    paths = []
    for table in tables:
        path = out / f"outputs_{table.dataset}.csv"
        write_csv(path, table.columns, table.rows)
        paths.append(path)
    metrics_path = out / "metrics.csv"
    write_csv(metrics_path, list(METRIC_COLUMNS), [vars(row) for row in metrics])
    html_path = out / "report.html"
    html_path.write_text(render_html(record, metrics, tables), encoding="utf-8")
    paths += [metrics_path, html_path]
    for path in paths:
        echo(f"[report] wrote {relative(path, root)}")
    return paths


def collect_metrics(record: RunRecord, engine: FlowEngine) -> list[MetricRow]:
    """Metrics of every completed evaluation run."""
    rows = []
    for run in record.evaluation_runs:
        if run.status != COMPLETED:
            continue
        values = _read(run.run_name, lambda name=run.run_name: engine.metrics(name))
        rows += [
            MetricRow(run.evaluator, run.dataset, run.run_name, metric, value)
            for metric, value in sorted(values.items())
        ]
    return rows


def collect_lines(record: RunRecord, engine: FlowEngine) -> list[LineTable]:
    """Per-line tables: standard inputs/outputs joined with evaluators' line outputs."""
    tables = []
    for run in record.standard_runs:
        if run.status != COMPLETED:
            continue
        lines = _read(run.run_name, lambda name=run.run_name: engine.line_results(name))
        scores = {
            evaluation.evaluator: {
                line["line_number"]: line["outputs"]
                for line in _read(
                    evaluation.run_name,
                    lambda name=evaluation.run_name: engine.line_results(name),
                )
            }
            for evaluation in record.evaluation_runs
            if evaluation.dataset == run.dataset and evaluation.status == COMPLETED
        }
        columns, rows = join_lines(lines, scores)
        tables.append(LineTable(run.dataset, run.run_name, columns, rows))
    return tables


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
        parts += [(name, by_line.get(number, {})) for name, by_line in scores.items()]
        for prefix, values in parts:
            for key, value in values.items():
                row[f"{prefix}.{key}"] = value
        columns.update(dict.fromkeys(row))
        rows.append(row)
    return list(columns), rows


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


def bar_chart_svg(metrics: list[MetricRow]) -> str:
    """Inline SVG with one horizontal bar per metric (0..1 scale unless values exceed 1)."""
    if not metrics:
        return "<p>No metrics yet: run <code>llmops evaluate</code>.</p>"
    label_width, bar_width, row_height = 320, 360, 26
    top = max([1.0, *(abs(row.value) for row in metrics)])
    height = row_height * len(metrics) + 10
    parts = [
        f'<svg role="img" width="{label_width + bar_width + 80}"'
        f' height="{height}" aria-label="metric values">'
    ]
    for index, row in enumerate(metrics):
        y = 5 + index * row_height
        width = max(0.0, row.value) / top * bar_width
        label = f"{row.evaluator} / {row.dataset} / {row.metric}"
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "\u2026"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end">'
            f"<title>{_esc(label)}</title>{_esc(short)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="18" class="track"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="18" class="bar"/>'
            f'<text x="{label_width + bar_width + 6}" y="{y + 17}">{row.value:.4g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(record: RunRecord, metrics: list[MetricRow], tables: list[LineTable]) -> str:
    """The whole report page; every value is escaped."""
    generated = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    title = f"{record.experiment}: experiment report"
    runs = [
        ("standard", run.dataset, "", run.run_name, run.status, run.error)
        for run in record.standard_runs
    ] + [
        ("evaluation", run.dataset, run.evaluator, run.run_name, run.status, run.error)
        for run in record.evaluation_runs
    ]
    body = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">use case {_esc(record.use_case)} &middot; env '
        f"{_esc(record.env or 'none')} &middot; engine {_esc(record.engine)} &middot; "
        f"generated {_esc(generated)}</p>",
        "<h2>Metrics</h2>",
        bar_chart_svg(metrics),
        _table(list(METRIC_COLUMNS), [[getattr(m, c) for c in METRIC_COLUMNS] for m in metrics]),
        "<h2>Runs</h2>",
        _table(["kind", "dataset", "evaluator", "run", "status", "error"], runs),
    ]
    for table in tables:
        shown = table.rows[:HTML_LINE_LIMIT]
        body.append(f"<h2>Lines: {_esc(table.dataset)} <small>({_esc(table.run)})</small></h2>")
        if len(table.rows) > len(shown):
            body.append(
                f"<p>First {len(shown)} of {len(table.rows)} lines; "
                f"outputs_{_esc(table.dataset)}.csv has all of them.</p>"
            )
        body.append(_table(table.columns, [[row.get(c) for c in table.columns] for row in shown]))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #59636e; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.875rem; }
th, td { border: 1px solid #d1d9e0; padding: 0.25rem 0.5rem; text-align: left;
         vertical-align: top; max-width: 32rem; overflow-wrap: anywhere; }
th { background: #f6f8fa; }
svg text { font-size: 12px; fill: #1f2328; }
svg .track { fill: #eef1f4; } svg .bar { fill: #2f6fde; }
"""


def _table(columns: list[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{_esc(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(cell_text(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


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
