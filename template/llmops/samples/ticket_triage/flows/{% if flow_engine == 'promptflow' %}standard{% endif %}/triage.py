"""Flex flow entry: triage one support ticket with a Prompty prompt."""

import os
from pathlib import Path
from typing import TypedDict

from promptflow.core import AzureOpenAIModelConfiguration, OpenAIModelConfiguration, Prompty
from triage_settings import API_VERSION, CONNECTION, CONNECTION_TYPE, DEPLOYMENT

PROMPT = Path(__file__).parent / "triage.prompty"
PRIORITIES = ("high", "medium", "low")


class Triage(TypedDict):
    """The flow's outputs (prompt flow reads their names from this type)."""

    priority: str
    summary: str


def _model_configuration() -> AzureOpenAIModelConfiguration | OpenAIModelConfiguration:
    """Endpoint and key from <CONNECTION>_API_BASE / <CONNECTION>_API_KEY."""
    prefix = CONNECTION.upper()
    api_base = os.environ.get(f"{prefix}_API_BASE", "")
    api_key = os.environ.get(f"{prefix}_API_KEY", "")
    if CONNECTION_TYPE == "azure_openai":
        return AzureOpenAIModelConfiguration(
            azure_deployment=DEPLOYMENT,
            azure_endpoint=api_base,
            api_key=api_key,
            api_version=API_VERSION or None,
        )
    return OpenAIModelConfiguration(model=DEPLOYMENT, base_url=api_base or None, api_key=api_key)


def parse(answer: str) -> Triage:
    """Read the two reply lines; an unknown priority becomes "medium"."""
    fields = {}
    for line in str(answer).splitlines():
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    priority = fields.get("priority", "").lower()
    return Triage(
        priority=priority if priority in PRIORITIES else "medium",
        summary=fields.get("summary", str(answer).strip()),
    )


def triage(ticket: str) -> Triage:
    """Ask the model for a priority and a summary of the ticket."""
    prompt = Prompty.load(source=PROMPT, model={"configuration": _model_configuration()})
    return parse(prompt(ticket=ticket))
