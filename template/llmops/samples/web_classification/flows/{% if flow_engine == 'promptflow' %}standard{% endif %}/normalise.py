"""Map the model's answer onto one known category, or "Other"."""

from promptflow.core import tool

CATEGORIES = ("Sports", "Technology", "Finance", "Health", "Travel")


@tool
def normalise(answer: str) -> str:
    """The first known category named in the answer, ignoring case and punctuation."""
    words = answer.replace(".", " ").replace(",", " ").lower().split()
    for word in words:
        for category in CATEGORIES:
            if word == category.lower():
                return category
    return "Other"
