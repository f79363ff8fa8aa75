"""`fleet status --html FILE`: one self-contained page (inline CSS, no scripts, no links).

It is meant to be published as a pipeline artifact and opened offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from llmops_fleet.report import generated_at
from llmops_fleet.status import ProjectStatus

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.meta { color: #57606a; margin-bottom: 1.25rem; }
.cards { display: flex; gap: .75rem; flex-wrap: wrap; margin-bottom: 1.5rem; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
.card b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de;
         vertical-align: top; }
th { background: #f6f8fa; }
.ok { color: #1a7f37; } .warn { color: #9a6700; } .bad { color: #cf222e; }
ul { margin: 0; padding-left: 1.1rem; }
code { font-size: 12px; }
"""


def status_html(statuses: Sequence[ProjectStatus], title: str = "Template fleet status") -> str:
    """The whole page as a string."""
    rows = "\n".join(_row(status) for status in statuses)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">Generated {escape(generated_at())} by <code>fleet status</code>.</p>
<div class="cards">{_cards(statuses)}</div>
<table>
<thead><tr><th>Project</th><th>Version</th><th>Latest</th><th>Behind</th><th>Dirty</th>
<th>Drift</th><th>Policy</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def _cards(statuses: Sequence[ProjectStatus]) -> str:
    counts = {
        "projects": len(statuses),
        "current": sum(1 for s in statuses if s.versions_behind == 0),
        "behind": sum(1 for s in statuses if s.versions_behind),
        "with drift": sum(1 for s in statuses if s.drift),
        "violating policy": sum(1 for s in statuses if s.violations),
        "errors": sum(1 for s in statuses if s.error),
    }
    return "".join(
        f'<div class="card"><b>{count}</b>{escape(label)}</div>' for label, count in counts.items()
    )


def _row(status: ProjectStatus) -> str:
    behind = "?" if status.versions_behind is None else str(status.versions_behind)
    behind_class = "ok" if status.versions_behind == 0 else "warn"
    dirty = {None: "?", True: '<span class="warn">yes</span>', False: "no"}[status.dirty]
    if status.error:
        drift = f'<span class="bad">error: {escape(status.error)}</span>'
    elif status.drift is None:
        drift = "?"
    elif status.drift:
        items = [("modified", p) for p in status.drift.modified]
        items += [("missing", p) for p in status.drift.missing]
        drift = '<ul class="bad">' + "".join(
            f"<li>{label} <code>{escape(path)}</code></li>" for label, path in items
        )
        drift += "</ul>"
    else:
        drift = '<span class="ok">none</span>'
    if status.violations:
        policy = '<ul class="bad">' + "".join(
            f"<li>{escape(v.message)}</li>" for v in status.violations
        )
        policy += "</ul>"
    else:
        policy = '<span class="ok">ok</span>'
    cells = [
        f"<b>{escape(status.name)}</b><br><code>{escape(status.path)}</code>",
        escape(status.recorded_version or "?"),
        escape(status.latest_version or "?"),
        f'<span class="{behind_class}">{behind}</span>',
        dirty,
        drift,
        policy,
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
