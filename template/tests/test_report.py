"""Managed by the LLMOps template. Reports: CSV files and one self-contained HTML page."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from conftest import FakeEngine

from llmops.engine.base import COMPLETED, FAILED
from llmops.report import write_report
from llmops.state import EvaluationRun, RunRecord, StandardRun, save_record

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
    record = RunRecord(
        use_case="demo",
        experiment="demo",
        env="pr",
        standard_runs=[
            StandardRun(dataset="train", run_name="demo_train_1", status=COMPLETED),
            StandardRun(dataset="extra", run_name="demo_extra_1", status=FAILED, error="boom"),
        ],
        evaluation_runs=[
            EvaluationRun(
                evaluator="match",
                dataset="train",
                base_run="demo_train_1",
                run_name="demo_match_train_1",
                status=COMPLETED,
            )
        ],
    )
    save_record(root, record)
    return FakeEngine(
        lines={"demo_match_train": EVAL_LINES, "demo_train": LINES},
        scores={"demo_match_train": {"f1": 0.75, "exact_match_rate": 0.5}},
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_report_writes_csv_files(project: Path) -> None:
    paths = write_report(project, "demo", recorded(project), echo=lambda _line: None)
    out = project / "reports" / "demo"
    assert sorted(path.name for path in paths) == [
        "metrics.csv",
        "outputs_train.csv",
        "report.html",
    ]
    assert read_csv(out / "metrics.csv") == [
        {
            "evaluator": "match",
            "dataset": "train",
            "run": "demo_match_train_1",
            "metric": name,
            "value": value,
        }
        for name, value in (("exact_match_rate", "0.5"), ("f1", "0.75"))
    ]
    rows = read_csv(out / "outputs_train.csv")
    assert [row["line_number"] for row in rows] == ["0", "1"]
    assert rows[0]["outputs.entities"] == '["Maria", "Tom"]'
    assert rows[1]["inputs.text"] == "The nurse <b>helped</b>"
    assert [row["match.f1"] for row in rows] == ["1.0", "0.5"]


def test_html_is_self_contained_and_escaped(project: Path) -> None:
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = (project / "reports" / "demo" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<style>" in page and "<svg" in page
    assert "The nurse &lt;b&gt;helped&lt;/b&gt;" in page
    assert page.count('class="bar"') == 2  # one bar per metric
    assert "boom" in page  # the failed run is listed with its error


def test_stale_dataset_files_are_removed(project: Path) -> None:
    stale = project / "reports" / "demo" / "outputs_old.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("x\n")
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    assert not stale.exists()
