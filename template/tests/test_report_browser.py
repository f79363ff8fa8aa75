"""Managed by the LLMOps template. The HTML report loads in a real browser (headless Chromium).

Skipped when no Chromium is installed (``apt-get install chromium`` provides one). The
browser runs offline-safe: no network features, a throwaway profile, and the DOM it
built is checked for the charts, the comparison table and the per-line tables.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import recorded

from llmops.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.mark.skipif(browser() is None, reason="no Chromium installed")
def test_report_renders_in_headless_chromium(project: Path, tmp_path: Path) -> None:
    write_report(project, "demo", recorded(project), echo=lambda _line: None)
    page = project / "reports" / "demo" / "report.html"
    result = subprocess.run(
        [
            str(browser()),
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert dom.count('<svg class="chart"') == 2
    assert dom.count('class="bar"') == 4
    assert 'id="comparison"' in dom and '<td class="best">' in dom
    assert 'id="lines-best"' in dom and 'id="lines-worst"' in dom
    assert "The nurse &lt;b&gt;helped&lt;/b&gt;" in dom  # escaped text stayed text
    assert "<script" not in dom
