"""Managed by the LLMOps template. Resolve connection secrets from the environment.

Secrets never live in tracked files: connection ``aoai`` reads ``AOAI_API_BASE`` and
``AOAI_API_KEY`` from the environment. An ``azure_openai`` connection without a key
signs in with Microsoft Entra ID instead (``DefaultAzureCredential``: ``az login``,
a managed identity or a pipeline's service connection), so keyless resources work.
The CLI loads ``.env`` first, without overriding variables that are already set, so
a pipeline's variables win. The local
mock LLM uses exactly this mechanism, so offline runs exercise the real code path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from llmops.config import ConnectionSpec
from llmops.errors import LLMOpsError
from llmops.paths import CONNECTIONS_FILE

MASK = "***"


def env_var_names(connection_name: str) -> tuple[str, str]:
    """The ``(<NAME>_API_BASE, <NAME>_API_KEY)`` variables of a connection."""
    prefix = connection_name.upper()
    return f"{prefix}_API_BASE", f"{prefix}_API_KEY"


@dataclass(frozen=True)
class ResolvedConnection:
    """Everything an engine needs to create a connection; repr never shows the key."""

    name: str
    type: str
    deployment: str
    api_base: str | None
    api_version: str | None
    api_key: str = field(repr=False)

    @property
    def keyless(self) -> bool:
        """An Azure OpenAI connection without a key: engines sign in with Entra ID."""
        return self.type == "azure_openai" and not self.api_key

    def __repr__(self) -> str:
        return (
            f"ResolvedConnection(name={self.name!r}, type={self.type!r}, "
            f"deployment={self.deployment!r}, api_base={self.api_base!r}, "
            f"api_version={self.api_version!r}, api_key={MASK!r})"
        )

    __str__ = __repr__


def resolve_connections(
    names: Iterable[str],
    specs: Iterable[ConnectionSpec],
    environ: Mapping[str, str] | None = None,
) -> list[ResolvedConnection]:
    """Pair each named connection with its secrets; report every missing variable at once."""
    env = os.environ if environ is None else environ
    by_name = {spec.name: spec for spec in specs}
    resolved: list[ResolvedConnection] = []
    missing: list[str] = []
    for name in dict.fromkeys(names):
        spec = by_name.get(name)
        if spec is None:
            raise LLMOpsError(
                f"connection '{name}' is not defined in {CONNECTIONS_FILE.as_posix()} "
                f"(defined: {', '.join(by_name) or 'none'})"
            )
        base_var, key_var = env_var_names(name)
        api_base = _value(env, base_var)
        api_key = _value(env, key_var) or ""
        if spec.type == "azure_openai" and not api_base:
            missing.append(base_var)
        if not api_key and spec.type != "azure_openai":  # Azure OpenAI: Entra ID sign-in
            missing.append(key_var)
        resolved.append(
            ResolvedConnection(
                name=name,
                type=spec.type,
                deployment=spec.deployment,
                api_base=api_base,
                api_version=spec.api_version,
                api_key=api_key,
            )
        )
    if missing:
        raise LLMOpsError(
            f"missing environment variable(s) {', '.join(missing)}: set them in .env "
            "(copy .env.sample) or in the environment; for a local try without an "
            "endpoint use `llmops experiment --offline`"
        )
    return resolved


def _value(env: Mapping[str, str], name: str) -> str | None:
    """A set, non-empty value; ``$(NAME)`` is an undefined Azure Pipelines macro, so unset."""
    value = env.get(name, "").strip()
    if not value or value == f"$({name})":
        return None
    return value
