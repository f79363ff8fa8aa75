"""Experiment-level metrics: mean exact match and mean F1 over all lines.

evaluator.yaml lists the returned names under `aggregate.metrics`, so `llmops validate`
can check that every gate in experiment.yaml names a metric this evaluator produces.
"""


def aggregate(scores: list[dict[str, float]]) -> dict[str, float]:
    """Average the per-line scores into the run's metrics."""
    count = len(scores) or 1
    exact_match_rate = round(sum(s["exact_match"] for s in scores) / count, 4)
    f1 = round(sum(s["f1"] for s in scores) / count, 4)
    return {"exact_match_rate": exact_match_rate, "f1": f1}
