"""Experiment-level metrics: priority accuracy and mean keyword recall.

Metric names are string literals in log_metric(...) calls, so `llmops validate` can
check that every gate in experiment.yaml names a metric this flow produces.
"""

from promptflow.core import log_metric, tool


@tool
def aggregate(scores: list[dict]) -> dict[str, float]:
    """Average the per-line scores and log them as run metrics."""
    count = len(scores) or 1
    priority_accuracy = round(sum(s["priority_match"] for s in scores) / count, 4)
    keyword_recall = round(sum(s["keyword_recall"] for s in scores) / count, 4)
    log_metric("priority_accuracy", priority_accuracy)
    log_metric("keyword_recall", keyword_recall)
    return {"priority_accuracy": priority_accuracy, "keyword_recall": keyword_recall}
