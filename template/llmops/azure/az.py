"""Managed by the LLMOps template. Container registry, App Service and role assignments via ``az``.

These services have no SDK in the project's dependencies, so they go through the
Azure CLI, which pipelines already have (``AzureCLI@2``) and which reuses the same
login. Each interface is small so tests can pass a fake. Output of ``az`` is parsed,
never echoed: some commands (app settings) print values. Errors show the command's
first three words and az's own message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from llmops.errors import LLMOpsError

# Roles this project must never hand out, whatever a config says.
FORBIDDEN_ROLES = frozenset(
    {
        "Owner",
        "Contributor",
        "User Access Administrator",
        "Role Based Access Control Administrator",
    }
)


class AzCliError(LLMOpsError):
    """An ``az`` command failed; the message is az's, without the arguments."""


class AzCli:
    """Run ``az`` commands and parse their JSON output."""

    def __init__(self, executable: str = "az") -> None:
        self.executable = executable

    def __call__(self, *args: str, stream: bool = False) -> Any:
        path = shutil.which(self.executable)
        if path is None:
            raise LLMOpsError(
                "the Azure CLI (az) is not installed or not on PATH: "
                "install it and run `az login` (pipelines: use the AzureCLI@2 task)"
            )
        command = [path, *args, "--only-show-errors"]
        if stream:  # long builds: show az's progress, it holds no secret values
            result = subprocess.run(command, check=False)
            if result.returncode != 0:
                raise AzCliError(f"`az {' '.join(args[:3])}` failed (exit {result.returncode})")
            return None
        result = subprocess.run(
            [*command, "--output", "json"], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise AzCliError(f"`az {' '.join(args[:3])}` failed: {_az_message(result.stderr)}")
        text = result.stdout.strip()
        return json.loads(text) if text else None


def _az_message(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "(", "Code:"))]
    return (errors or lines or ["no message"])[0].removeprefix("ERROR: ")


def _not_found(error: AzCliError) -> bool:
    text = str(error).lower()
    return "not found" in text or "resourcenotfound" in text or "could not be found" in text


@runtime_checkable
class RoleService(Protocol):
    """Role assignments for the identities the deploy stage creates."""

    def ensure_role(self, principal_id: str, role: str, scope: str) -> bool:
        """Assign ``role`` at ``scope`` unless already assigned; True when newly created."""
        ...


class AzRoles:
    """``RoleService`` through ``az role assignment``."""

    def __init__(self, az: AzCli | None = None) -> None:
        self.az = az or AzCli()

    def ensure_role(self, principal_id: str, role: str, scope: str) -> bool:
        check_role(role)
        # By object ID, without Microsoft Graph: `--assignee` looks the principal up in
        # Graph, which a pipeline identity may not read and which may not know an
        # endpoint identity created a moment ago (that fails the deploy).
        existing = self.az(
            "role", "assignment", "list", "--assignee-object-id", principal_id, "--role", role,
            "--scope", scope, "--fill-principal-name", "false",
        )  # fmt: skip
        if existing:
            return False
        self.az(
            "role", "assignment", "create", "--assignee-object-id", principal_id,
            "--assignee-principal-type", "ServicePrincipal", "--role", role, "--scope", scope,
        )  # fmt: skip
        return True


def check_role(role: str) -> None:
    """Refuse privileged roles: deployments only ever need data-plane read roles."""
    if role in FORBIDDEN_ROLES:
        raise LLMOpsError(f"refusing to assign '{role}': endpoints get least-privilege roles only")


@runtime_checkable
class RegistryService(Protocol):
    """Build and look up flow images in Azure Container Registry."""

    def image_exists(self, registry: str, repository: str, tag: str) -> bool:
        """True when ``repository:tag`` is already in the registry."""
        ...

    def build_image(
        self, registry: str, repository: str, tag: str, context: Path, builder: str
    ) -> str:
        """Build the context's Dockerfile and push it; returns the full image reference."""
        ...


class AzRegistry:
    """``RegistryService``: ``az acr build`` (no Docker daemon) or ``docker build`` + push."""

    def __init__(self, az: AzCli | None = None) -> None:
        self.az = az or AzCli()

    def image_exists(self, registry: str, repository: str, tag: str) -> bool:
        try:
            tags = self.az("acr", "repository", "show-tags", "--name", registry,
                           "--repository", repository)  # fmt: skip
        except AzCliError as error:
            if _not_found(error):
                return False
            raise
        return tag in (tags or [])

    def build_image(
        self, registry: str, repository: str, tag: str, context: Path, builder: str
    ) -> str:
        reference = f"{registry}.azurecr.io/{repository}:{tag}"
        if builder == "acr":
            self.az("acr", "build", "--registry", registry, "--image", f"{repository}:{tag}",
                    "--file", str(context / "Dockerfile"), str(context), stream=True)  # fmt: skip
            return reference
        docker = shutil.which("docker")
        if docker is None:
            raise LLMOpsError("builder 'docker' needs the docker CLI and a running Docker engine")
        build = [docker, "build", "--tag", reference, str(context)]
        if subprocess.run(build, check=False).returncode != 0:
            raise LLMOpsError(f"`docker build` of {reference} failed")
        self.az("acr", "login", "--name", registry)
        if subprocess.run([docker, "push", reference], check=False).returncode != 0:
            raise LLMOpsError(f"`docker push` of {reference} failed")
        return reference


@dataclass(frozen=True)
class WebAppState:
    """The parts of an App Service web app the deploy stage reads."""

    name: str
    image: str | None
    host: str | None
    identity_ids: list[str] = field(default_factory=list)


@runtime_checkable
class WebAppService(Protocol):
    """Linux container web apps on an existing App Service plan."""

    def get_web_app(self, name: str) -> WebAppState | None:
        """The web app, or None when it does not exist."""
        ...

    def create_web_app(self, name: str, plan: str, image: str) -> WebAppState:
        """Create a web app running ``image`` on ``plan``."""
        ...

    def configure_web_app(
        self,
        name: str,
        *,
        identity_id: str,
        identity_client_id: str,
        settings: dict[str, str],
    ) -> None:
        """Attach the identity, pull images with it, resolve Key Vault references with it,
        and set the app settings (values are names and Key Vault references, no secrets)."""
        ...

    def set_image(self, name: str, image: str, registry_server: str) -> None:
        """Point the web app at ``image`` (App Service restarts the container)."""
        ...


class AzWebApps:
    """``WebAppService`` through ``az webapp`` in one resource group."""

    def __init__(self, resource_group: str, az: AzCli | None = None) -> None:
        self.resource_group = resource_group
        self.az = az or AzCli()

    def _app(self, *args: str) -> Any:
        return self.az("webapp", *args, "--resource-group", self.resource_group)

    def get_web_app(self, name: str) -> WebAppState | None:
        try:
            site = self._app("show", "--name", name)
        except AzCliError as error:
            if _not_found(error):
                return None
            raise
        fx = ((site or {}).get("siteConfig") or {}).get("linuxFxVersion") or ""
        identities = ((site or {}).get("identity") or {}).get("userAssignedIdentities") or {}
        return WebAppState(
            name=name,
            image=fx.partition("|")[2] or None,
            host=(site or {}).get("defaultHostName"),
            identity_ids=list(identities),
        )

    def create_web_app(self, name: str, plan: str, image: str) -> WebAppState:
        self._app("create", "--name", name, "--plan", plan, "--container-image-name", image,
                  "--https-only", "true")  # fmt: skip
        state = self.get_web_app(name)
        if state is None:
            raise LLMOpsError(f"web app {name} was created but cannot be read back")
        return state

    def configure_web_app(
        self,
        name: str,
        *,
        identity_id: str,
        identity_client_id: str,
        settings: dict[str, str],
    ) -> None:
        self._app("identity", "assign", "--name", name, "--identities", identity_id)
        pull = {"acrUseManagedIdentityCreds": True, "acrUserManagedIdentityID": identity_client_id}
        self._app("config", "set", "--name", name, "--generic-configurations", json.dumps(pull))
        self._app("update", "--name", name, "--set", f"keyVaultReferenceIdentity={identity_id}")
        pairs = [f"{key}={value}" for key, value in sorted(settings.items())]
        self._app("config", "appsettings", "set", "--name", name, "--settings", *pairs)

    def set_image(self, name: str, image: str, registry_server: str) -> None:
        self._app("config", "container", "set", "--name", name, "--container-image-name", image,
                  "--container-registry-url", f"https://{registry_server}")  # fmt: skip
