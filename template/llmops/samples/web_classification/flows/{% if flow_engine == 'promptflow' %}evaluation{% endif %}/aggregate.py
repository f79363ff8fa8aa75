"""Experiment-level metrics: accuracy and the share of answers in the known categories.

Metric names are string literals in log_metric(...) calls, so `llmops validate` can
check that every gate in experiment.yaml names a metric this flow produces.
"""

from promptflow.core import log_metric, tool


@tool
def aggregate(scores: list[dict[str, int]]) -> dict[str, float]:
    """Average the per-line scores and log them as run metrics."""
    count = len(scores) or 1
    accuracy = round(sum(s["correct"] for s in scores) / count, 4)
    valid_label_rate = round(sum(s["valid_label"] for s in scores) / count, 4)
    log_metric("accuracy", accuracy)
    log_metric("valid_label_rate", valid_label_rate)
    return {"accuracy": accuracy, "valid_label_rate": valid_label_rate}
