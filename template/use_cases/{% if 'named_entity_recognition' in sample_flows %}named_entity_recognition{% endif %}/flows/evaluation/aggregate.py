"""Experiment-level metrics: mean exact match and mean F1 over all lines."""

from promptflow.core import log_metric, tool


@tool
def aggregate(scores: list[dict[str, float]]) -> dict[str, float]:
    """Average the per-line scores and log them as run metrics."""
    count = len(scores) or 1
    metrics = {
        "exact_match_rate": round(sum(s["exact_match"] for s in scores) / count, 4),
        "f1": round(sum(s["f1"] for s in scores) / count, 4),
    }
    for name, value in metrics.items():
        log_metric(name, value)
    return metrics
