"""Turn the model's comma-separated answer into a clean list of entities."""

from promptflow.core import tool


@tool
def cleanse(raw_entities: str) -> list[str]:
    """Split on commas, trim quotes and dots, and drop 'None' answers."""
    entities = []
    for part in raw_entities.replace("\n", ",").split(","):
        entity = part.strip().strip("\"'.").strip()
        if entity and entity.lower() != "none":
            entities.append(entity)
    return entities
