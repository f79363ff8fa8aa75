"""Azure resource naming rules and name-shaping filters for the template.

Loaded by Copier through copier-template-extensions; it runs in every render,
so it stays pure: no I/O, no subprocess, no state.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from jinja2 import Environment
from jinja2.ext import Extension


@dataclass(frozen=True)
class NameRule:
    """The naming rule Azure enforces for one resource type."""

    label: str
    min_len: int
    max_len: int
    pattern: str
    allowed: str
    short: str
    lowercase: bool
    separator: str


RULES: dict[str, NameRule] = {
    "resource_group": NameRule(
        "resource group",
        1,
        90,
        r"[A-Za-z0-9._()-]*[A-Za-z0-9_()-]",
        "letters, digits, '-', '_', '.', '(' and ')', not ending with '.'",
        "Only A-Za-z0-9._()-",
        False,
        "-",
    ),
    "storage_account": NameRule(
        "storage account",
        3,
        24,
        r"[a-z0-9]+",
        "lowercase letters and digits only",
        "Only a-z and 0-9",
        True,
        "",
    ),
    "key_vault": NameRule(
        "key vault",
        3,
        24,
        r"[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and single dashes, starting with a letter",
        "Only A-Za-z0-9 and single -",
        False,
        "-",
    ),
    "container_registry": NameRule(
        "container registry",
        5,
        50,
        r"[A-Za-z0-9]+",
        "letters and digits only",
        "Only A-Za-z0-9",
        True,
        "",
    ),
    "ml_workspace": NameRule(
        "Azure ML workspace",
        3,
        33,
        r"[A-Za-z0-9][A-Za-z0-9_-]*",
        "letters, digits, '-' and '_', starting with a letter or digit",
        "Only A-Za-z0-9_-",
        False,
        "-",
    ),
    "online_endpoint": NameRule(
        "online endpoint",
        3,
        32,
        r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and dashes, starting with a letter",
        "Only A-Za-z0-9-",
        True,
        "-",
    ),
    "openai_account": NameRule(
        "Azure OpenAI account",
        2,
        64,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and dashes, not starting or ending with a dash",
        "Only A-Za-z0-9-",
        True,
        "-",
    ),
    "app_service": NameRule(
        "App Service app",
        2,
        60,
        r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]",
        "letters, digits and dashes, not starting or ending with a dash",
        "Only A-Za-z0-9-",
        True,
        "-",
    ),
}


def slugify(value: str, separator: str = "-") -> str:
    """Turn any text into lowercase ASCII words joined by ``separator``."""
    ascii_text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return separator.join(words)


def azure_name_error(value: str, kind: str) -> str:
    """Return why ``value`` is not a valid name for ``kind``, or '' when it is."""
    rule = RULES[kind]
    text = str(value)
    if not rule.min_len <= len(text) <= rule.max_len:
        return (
            f"Use {rule.min_len}-{rule.max_len} characters; '{text}' has {len(text)} "
            f"(a {rule.label} name)."
        )
    if text.endswith(".") and re.fullmatch(rule.pattern, text[:-1] + "a"):
        return f"No '.' at the end; '{text}' does not fit (a {rule.label} name)."
    if not re.fullmatch(rule.pattern, text):
        return f"{rule.short}; '{text}' does not fit (a {rule.label} name: {rule.allowed})."
    return ""


def azure_name(parts: list[str] | str, kind: str) -> str:
    """Join name parts into a valid ``kind`` name, trimmed to its maximum length."""
    rule = RULES[kind]
    pieces = [parts] if isinstance(parts, str) else list(parts)
    words = [slugify(piece, rule.separator) for piece in pieces if str(piece).strip()]
    name = rule.separator.join(word for word in words if word)
    if rule.lowercase:
        name = name.lower()
    name = name[: rule.max_len].strip("-")
    error = azure_name_error(name, kind)
    if error:
        raise ValueError(f"Cannot derive a {rule.label} name from {pieces!r}: {error}")
    return name


class AzureNaming(Extension):
    """Jinja filters: ``slugify``, ``azure_name`` and ``azure_name_error``."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["azure_name"] = azure_name
        environment.filters["azure_name_error"] = azure_name_error
