"""Managed by the LLMOps template. Image targets: Docker (build and push) and App Service.

* ``docker``: build the flow image (``az acr build`` by default, so no Docker engine
  is needed) and push it to the environment's registry; skipped when the registry
  already has the tag (the tag is the content hash).
* ``app_service``: the same image on a Linux web app. The web app pulls it with its
  user-assigned managed identity (AcrPull, no registry password) and resolves the
  connection secrets through Key Vault references with the same identity, so no
  secret value passes through this code. After the switch the app is smoke-tested;
  on failure it goes back to the previous image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from llmops.azure.az import RegistryService, WebAppService
from llmops.config import ConnectionSpec
from llmops.connections import env_var_names
from llmops.deploy.image import ImageContext
from llmops.deploy.online import RolloutResult
from llmops.smoke import SmokeResult

Echo = Callable[[str], None]


@dataclass(frozen=True)
class ImagePlan:
    """Where the flow image goes."""

    registry: str
    repository: str
    context: ImageContext
    builder: str

    @property
    def reference(self) -> str:
        """``<registry>.azurecr.io/<repository>:<tag>``."""
        return f"{self.registry}.azurecr.io/{self.repository}:{self.context.tag}"


@dataclass(frozen=True)
class AppServicePlan:
    """A web app running the flow image."""

    web_app: str
    service_plan: str
    image: ImagePlan
    identity_id: str
    identity_client_id: str
    settings: dict[str, str] = field(default_factory=dict)


def key_vault_reference(vault: str, secret: str) -> str:
    """An App Service Key Vault reference: the platform resolves it, we never see the value."""
    return f"@Microsoft.KeyVault(VaultName={vault};SecretName={secret})"


def app_settings(
    specs: list[ConnectionSpec], key_vault: str, workers: int, extra: dict[str, str]
) -> dict[str, str]:
    """App settings of the web app: each connection variable is a Key Vault reference.

    Secret names follow infra/secrets.tf: ``<connection name, '_' -> '-'>-api-key`` and
    ``-api-base``.
    """
    settings = {**extra, "WEBSITES_PORT": "8080", "PROMPTFLOW_WORKER_NUM": str(workers)}
    for spec in specs:
        stem = spec.name.lower().replace("_", "-")
        base_var, key_var = env_var_names(spec.name)
        settings[base_var] = key_vault_reference(key_vault, f"{stem}-api-base")
        settings[key_var] = key_vault_reference(key_vault, f"{stem}-api-key")
    return settings


def ensure_image(registry: RegistryService, plan: ImagePlan, echo: Echo = print) -> str:
    """Build and push the image unless the registry already has this content's tag."""
    if registry.image_exists(plan.registry, plan.repository, plan.context.tag):
        echo(f"[deploy] image {plan.reference}: already in the registry")
        return plan.reference
    echo(f"[deploy] image {plan.reference}: building with {plan.builder}")
    return registry.build_image(
        plan.registry, plan.repository, plan.context.tag, plan.context.path, plan.builder
    )


def rollout_app_service(
    web_apps: WebAppService,
    registry: RegistryService,
    plan: AppServicePlan,
    smoke: Callable[[str], SmokeResult],
    echo: Echo = print,
) -> RolloutResult:
    """Switch the web app to the new image; smoke-test it; go back to the old image on failure."""
    image = ensure_image(registry, plan.image, echo)
    server = f"{plan.image.registry}.azurecr.io"
    app = web_apps.get_web_app(plan.web_app)
    previous = app.image if app else None
    if app is None:
        echo(f"[deploy] web app {plan.web_app}: creating on plan {plan.service_plan}")
        web_apps.create_web_app(plan.web_app, plan.service_plan, image)
    echo(f"[deploy] web app {plan.web_app}: identity, ACR pull and settings ({len(plan.settings)})")
    web_apps.configure_web_app(
        plan.web_app,
        identity_id=plan.identity_id,
        identity_client_id=plan.identity_client_id,
        settings=plan.settings,
    )
    echo(f"[deploy] web app {plan.web_app}: image {previous or 'none'} -> {image}")
    web_apps.set_image(plan.web_app, image, server)
    current = web_apps.get_web_app(plan.web_app)
    host = current.host if current and current.host else f"{plan.web_app}.azurewebsites.net"
    check = smoke(f"https://{host}/score")
    if check.passed:
        return RolloutResult(True, {}, f"{plan.web_app}: serving {image}")
    if previous and previous != image:
        echo(f"[deploy] web app {plan.web_app}: smoke test failed; back to {previous}")
        web_apps.set_image(plan.web_app, previous, server)
        return RolloutResult(False, {}, f"smoke test failed; {plan.web_app} restored to {previous}")
    return RolloutResult(
        False, {}, f"smoke test failed on {plan.web_app}; it has no earlier image to go back to"
    )
