"""Experiment-level metrics: mean exact match and mean F1 over all lines.

Metric names are string literals in log_metric(...) calls, so `llmops validate` can
check that every gate in experiment.yaml names a metric this flow produces.
"""

from promptflow.core import log_metric, tool


@tool
def aggregate(scores: list[dict[str, float]]) -> dict[str, float]:
    """Average the per-line scores and log them as run metrics."""
    count = len(scores) or 1
    exact_match_rate = round(sum(s["exact_match"] for s in scores) / count, 4)
    f1 = round(sum(s["f1"] for s in scores) / count, 4)
    log_metric("exact_match_rate", exact_match_rate)
    log_metric("f1", f1)
    return {"exact_match_rate": exact_match_rate, "f1": f1}
