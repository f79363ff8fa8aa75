"""Managed by the LLMOps template. Reports: CSV files and one self-contained HTML page."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from conftest import FakeEngine

from llmops.engine.base import COMPLETED, FAILED
from llmops.report import write_report
from llmops.state import EvaluationRun, RunRecord, StandardRun, load_record, save_record

LINES = [
    {
        "line_number": 1,
        "inputs": {"text": "The nurse <b>helped</b>", "entity_type": "job title"},
        "outputs": {"entities": ["nurse"]},
    },
    {
        "line_number": 0,
        "inputs": {"text": "Maria met Tom", "entity_type": "person"},
        "outputs": {"entities": ["Maria", "Tom"]},
    },
]
EVAL_LINES = [
    {"line_number": 0, "inputs": {}, "outputs": {"f1": 1.0}},
    {"line_number": 1, "inputs": {}, "outputs": {"f1": 0.5}},
]


def recorded(root: Path) -> FakeEngine:
    """Two variants on dataset train (one evaluated), a failed run on dataset extra."""
    record = RunRecord(
        use_case="demo",
        experiment="demo",
        env="pr",
        standard_runs=[
            StandardRun(dataset="train", run_name="demo_default_train_1", status=COMPLETED),
            StandardRun(
                dataset="train",
                run_name="demo_extract-v1_train_1",
                status=COMPLETED,
                variant="extract.v1",
                overrides={"extract": "v1"},
            ),
            StandardRun(
                dataset="extra", run_name="demo_default_extra_1", status=FAILED, error="boom"
            ),
        ],
        evaluation_runs=[
            EvaluationRun(
                evaluator="match",
                dataset="train",
                standard_dataset="train",
                base_run="demo_default_train_1",
                run_name="demo_match_default_train_1",
                status=COMPLETED,
                metrics={"f1": 0.75, "exact_match_rate": 0.5},
            ),
            EvaluationRun(
                evaluator="match",
                dataset="train",
                standard_dataset="train",
                variant="extract.v1",
                base_run="demo_extract-v1_train_1",
                run_name="demo_match_extract-v1_train_1",
                status=COMPLETED,
                metrics={"f1": 0.25, "exact_match_rate": 0.0},
            ),
        ],
    )
    save_record(root, record)
    return FakeEngine(
        lines={
            "demo_match_default_train": EVAL_LINES,
            "demo_match_extract-v1_train": EVAL_LINES,
            "_train_": LINES,
        },
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_report_writes_csv_files(project: Path) -> None:
    paths = write_report(project, "demo", recorded(project), echo=lambda _line: None)
    out = project / "reports" / "demo"
    assert sorted(path.name for path in paths) == [
        "lines_train__default.csv",
        "lines_train__extract.v1.csv",
        "metrics.csv",
        "report.html",
        "runs.csv",
    ]
    metrics = read_csv(out / "metrics.csv")
    assert [(m["variant"], m["metric"], m["value"]) for m in metrics] == [
        ("default", "exact_match_rate", "0.5"),
        ("default", "f1", "0.75"),
        ("extract.v1", "exact_match_rate", "0.0"),
        ("extract.v1", "f1", "0.25"),
    ]
    assert {m["dataset"] for m in metrics} == {"train"}
    rows = read_csv(out / "lines_train__default.csv")
    assert [row["line_number"] for row in rows] == ["0", "1"]
    assert rows[0]["outputs.entities"] == '["Maria", "Tom"]'
    assert rows[1]["inputs.text"] == "The nurse <b>helped</b>"
    assert [row["match.f1"] for row in rows] == ["1.0", "0.5"]
    runs = read_csv(out / "runs.csv")
    assert [(r["kind"], r["status"]) for r in runs].count(("standard", FAILED)) == 1
    assert any(r["error"] == "boom" for r in runs)


def test_html_is_self_contained_and_escaped(project: Path) -> None:
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<style>" in page and "<svg" in page
    assert "The nurse &lt;b&gt;helped&lt;/b&gt;" in page
    assert page.count('class="chart"') == 2  # one chart per metric
    assert page.count('class="bar"') == 4  # one bar per variant x dataset x metric
    assert "boom" in page  # the failed run is listed with its error


def test_html_compares_variants_and_shows_best_and_worst_lines(project: Path) -> None:
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert 'id="comparison"' in page
    assert "best <b>default</b>, worst <b>extract.v1</b>" in page
    assert 'id="lines-best"' in page and 'id="lines-worst"' in page
    best = page[page.index('id="lines-best"') : page.index('id="lines-worst"')]
    assert "best variant default" in best


def test_table_headers_wrap_between_name_parts_never_inside_a_word(project: Path) -> None:
    """Headers such as exact_match_rate used to break anywhere ("exact_match_ra / te")."""
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    style = page[page.index("<style>") : page.index("</style>")]
    th_rules = re.findall(r"(?:^|\n)th \{([^}]*)\}", style)
    assert any("overflow-wrap: normal" in rule for rule in th_rules), style
    headers = re.findall(r"<th>(.*?)</th>", page)
    assert "variant" in headers
    assert any("exact_<wbr>match_<wbr>rate" in header for header in headers), headers
    for header in headers:
        plain = re.sub(r"<br><small>.*?</small>", "", header)
        for piece in plain.split("<wbr>")[:-1]:
            assert piece[-1] in "._/@-", f"a break inside a word: {header}"


def test_html_says_which_configuration_ran(project: Path) -> None:
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "environment pr &middot;" in page
    engine = recorded(project)
    record = load_record(project, "demo")
    record.env = None
    save_record(project, record)
    write_report(project, "demo", engine, echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "base configuration (no --env overlay)" in page
    assert "env none" not in page


def test_stale_dataset_files_are_removed(project: Path) -> None:
    stale = project / "reports" / "demo" / "lines_old__default.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("x\n")
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    assert not stale.exists()


def test_usage_summary_totals_tokens_and_takes_latency_percentiles() -> None:
    from llmops.report import usage_summary

    lines = [
        {
            "line_number": n,
            "usage": {
                "llm_calls": 1,
                "prompt_tokens": 10,
                "completion_tokens": n,
                "seconds": seconds,
            },
        }
        for n, seconds in enumerate([0.5, 0.1, 0.3, 0.2, 0.4, 0.9, 0.6, 0.7, 0.8, 1.0])
    ]
    summary = usage_summary(lines)
    assert summary is not None
    assert summary["lines"] == 10 and summary["llm_calls"] == 10
    assert summary["prompt_tokens"] == 100 and summary["completion_tokens"] == 45
    assert summary["completion_tokens_per_line"] == 4.5
    assert summary["latency_p50"] == 0.5 and summary["latency_p95"] == 1.0
    assert usage_summary([{"line_number": 0, "outputs": {}}]) is None  # engines without usage
