"""Per-line score: is the category right, and is it one of the known categories."""

CATEGORIES = {"sports", "technology", "finance", "health", "travel"}


def score(prediction: str, label: str) -> dict[str, int]:
    """1/0 for a correct category and for a category from the known list."""
    predicted = str(prediction).strip().lower()
    return {
        "correct": int(predicted == str(label).strip().lower()),
        "valid_label": int(predicted in CATEGORIES),
    }
