"""Managed by the LLMOps template. Deploy stage: the registered flow to an environment's targets.

``prepare`` reads and checks everything (experiment, deployment config, connections,
the smoke request, required environment variables) before any Azure call. ``plan``
builds the real azure-ai-ml entities; ``--dry-run`` prints them as YAML and stops.
``deploy`` then rolls out target by target (``online.py`` for Azure ML endpoints,
``containers.py`` for App Service and Docker) and smoke-tests each one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from llmops.azure import AzureServices
from llmops.azure.settings import AzureSettings
from llmops.config import ConnectionSpec, ExperimentConfig, load_connections, load_experiment
from llmops.deploy import entities
from llmops.deploy.containers import (
    AppServicePlan,
    ImagePlan,
    app_settings,
    ensure_image,
    rollout_app_service,
)
from llmops.deploy.image import Builder, ImageContext, build_context
from llmops.deploy.online import OnlinePlan, RolloutResult, rollout
from llmops.deployment_config import (
    ONLINE_TARGETS,
    TARGETS,
    EnvironmentDeployment,
    OnlineSettings,
    load_deployment_config,
)
from llmops.engine.agent_framework import refuse_outside_local_runs
from llmops.engine.base import FlowEngine
from llmops.errors import LLMOpsError
from llmops.paths import CONNECTIONS_FILE, relative, use_case_dir
from llmops.register import find_flow_model, folder_hash, model_entity, model_name
from llmops.smoke import SmokeRequest, SmokeResult, http_invoker, load_request, report, run_smoke

Echo = Callable[[str], None]
WORKSPACE = ("subscription_id", "resource_group", "workspace")
NEEDS = {
    "aml_managed": WORKSPACE,
    "kubernetes": WORKSPACE,
    "app_service": (
        *WORKSPACE,
        "container_registry",
        "key_vault",
        "app_service_plan",
        "app_identity_id",
        "app_identity_client_id",
    ),
    "docker": (*WORKSPACE, "container_registry"),
}

__all__ = ["DeployContext", "TargetPlan", "deploy", "plan", "prepare", "select_targets", "smoke"]


@dataclass
class DeployContext:
    """What every target of one use case and environment shares; checked up front."""

    root: Path
    use_case: str
    env: str
    config: ExperimentConfig
    settings: EnvironmentDeployment
    azure: AzureSettings
    flow_dir: Path
    flow_hash: str
    connections: list[ConnectionSpec]
    request: SmokeRequest


@dataclass
class TargetPlan:
    """One target's rollout, plus the YAML documents ``--dry-run`` prints."""

    target: str
    summary: str
    documents: list[tuple[str, str]] = field(default_factory=list)
    online: OnlinePlan | None = None
    app_service: AppServicePlan | None = None
    image: ImagePlan | None = None


def prepare(
    root: Path, use_case: str, env: str | None, engine: FlowEngine, azure: AzureSettings
) -> DeployContext:
    """Load and check everything a deployment reads; no Azure call happens here."""
    settings = load_deployment_config(root, env)
    if env is None:  # load_deployment_config already refused it; this narrows the type
        raise LLMOpsError("deployment needs an environment")
    config = load_experiment(use_case_dir(root, use_case), env)
    flow_dir = config.path(config.flow)
    refuse_outside_local_runs(flow_dir, relative(flow_dir, root), "deploy")
    signature = engine.describe(flow_dir)
    specs = {spec.name: spec for spec in load_connections(root)}
    unknown = sorted(signature.connections - set(specs))
    if unknown:
        raise LLMOpsError(
            f"{relative(flow_dir, root)} uses connection(s) {', '.join(unknown)} that "
            f"{CONNECTIONS_FILE.as_posix()} does not define"
        )
    request_path = config.path(settings.smoke.request_file)
    request = load_request(request_path, signature.outputs, relative(request_path, root))
    return DeployContext(
        root=root,
        use_case=use_case,
        env=env,
        config=config,
        settings=settings,
        azure=azure,
        flow_dir=flow_dir,
        flow_hash=folder_hash(flow_dir),
        connections=[specs[name] for name in sorted(signature.connections)],
        request=request,
    )


def select_targets(context: DeployContext, requested: list[str] | None) -> list[str]:
    """The requested targets (default: the environment's ``targets``), each configured."""
    targets = list(requested or context.settings.targets)
    for target in targets:
        if target not in TARGETS:
            raise LLMOpsError(f"unknown target '{target}' (available: {', '.join(TARGETS)})")
        if getattr(context.settings, target) is None:
            raise LLMOpsError(
                f"target {target} has no settings for environment {context.env}: add a "
                f"'{target}' section to config/deployment.yaml"
            )
    if not context.azure.placeholders:
        for target in targets:
            context.azure.require(*NEEDS[target], purpose=f"deploy target {target}")
    return targets


def _online_settings(context: DeployContext, target: str) -> OnlineSettings:
    settings = getattr(context.settings, target)
    if settings is None:  # select_targets checked it; keeps type checkers content
        raise LLMOpsError(f"no settings for {target}")
    return settings


def _image_plan(context: DeployContext, image: ImageContext) -> ImagePlan:
    docker = context.settings.docker
    return ImagePlan(
        registry=context.azure.container_registry,
        repository=docker.image_repository(context.use_case, context.env),
        context=image,
        builder=docker.builder,
    )


def plan(
    context: DeployContext, targets: list[str], image: ImageContext, model: str
) -> list[TargetPlan]:
    """Build each target's entities; ``model`` is ``azureml:<name>:<version>`` (or ``@latest``)."""
    plans = []
    tags = {
        "use_case": context.use_case,
        "env": context.env,
        "model": model.removeprefix("azureml:"),
        "flow_hash": context.flow_hash[:12],
        "image_hash": image.tag,
    }
    for target in targets:
        if target in ONLINE_TARGETS:
            plans.append(_plan_online(context, target, image, model, tags))
        elif target == "app_service":
            plans.append(_plan_app_service(context, image))
        else:
            image_plan = _image_plan(context, image)
            summary = f"image {image_plan.reference} (built only when the registry lacks the tag)"
            document = {
                "image": image_plan.reference,
                "builder": image_plan.builder,
                "context": str(image.path),
            }
            plans.append(
                TargetPlan(
                    target,
                    summary,
                    [("docker image", yaml.safe_dump(document, sort_keys=False))],
                    image=image_plan,
                )
            )
    return plans


def _plan_online(
    context: DeployContext, target: str, image: ImageContext, model: str, tags: dict[str, str]
) -> TargetPlan:
    settings = _online_settings(context, target)
    endpoint_name = settings.endpoint(context.use_case, context.env)
    digest = entities.fingerprint(
        target=target,
        flow=context.flow_hash,
        image=image.content_hash,
        settings=settings.model_dump(exclude={"endpoint_name", "delete_idle_deployments"}),
        identity=context.azure.endpoint_identity_id,
    )
    name = entities.deployment_name(digest)
    variables = entities.serving_variables(settings, context.azure, endpoint_name, name)

    def build() -> tuple[object, object]:
        endpoint = entities.online_endpoint(
            target, endpoint_name, settings, context.azure, {"use_case": context.use_case}
        )
        environment = entities.serving_environment(image.path)
        deployment = entities.online_deployment(
            target, name, endpoint_name, model, environment, settings, variables, tags
        )
        return endpoint, deployment

    # One set of entities to print and one to send: printing rewrites some nested objects.
    shown_endpoint, shown_deployment = build()
    endpoint, deployment = build()
    roles = [] if context.azure.endpoint_identity_id else entities.role_scopes(context.azure)
    split = context.settings.traffic
    summary = (
        f"endpoint {endpoint_name} (created only if absent), deployment {name}, traffic "
        f"{split.new} % new / {split.previous} % previous (100 % on a first deployment)"
    )
    documents = [
        (f"{target} endpoint", entities.to_yaml(shown_endpoint)),
        (f"{target} deployment", entities.to_yaml(shown_deployment)),
    ]
    online = OnlinePlan(
        target=target,
        endpoint_name=endpoint_name,
        endpoint=endpoint,
        deployment_name=name,
        deployment=deployment,
        traffic=split,
        roles=roles,
        delete_idle=settings.delete_idle_deployments,
    )
    return TargetPlan(target, summary, documents, online=online)


def _plan_app_service(context: DeployContext, image: ImageContext) -> TargetPlan:
    settings = context.settings.app_service
    if settings is None:
        raise LLMOpsError("no app_service settings")
    image_plan = _image_plan(context, image)
    web_app = settings.web_app(context.use_case, context.env)
    values = app_settings(
        context.connections,
        context.azure.key_vault or "<AZURE_KEY_VAULT>",
        settings.workers,
        settings.environment_variables,
    )
    app = AppServicePlan(
        web_app=web_app,
        service_plan=context.azure.app_service_plan or "<AZURE_APP_SERVICE_PLAN>",
        image=image_plan,
        identity_id=context.azure.app_identity_id or "<AZURE_APP_IDENTITY_ID>",
        identity_client_id=context.azure.app_identity_client_id or "<AZURE_APP_IDENTITY_CLIENT_ID>",
        settings=values,
    )
    document = {
        "web_app": web_app,
        "plan": app.service_plan,
        "image": image_plan.reference,
        "identity": app.identity_id,
        "acr_pull": "managed identity",
        "app_settings": values,
    }
    summary = f"web app {web_app} on {app.service_plan}, image {image_plan.reference}"
    return TargetPlan(
        "app_service",
        summary,
        [("app_service web app", yaml.safe_dump(document, sort_keys=False))],
        app_service=app,
        image=image_plan,
    )


def dry_run(
    context: DeployContext, targets: list[str], builder: Builder | None = None
) -> list[TargetPlan]:
    """Build the image context and every entity, send nothing; includes the model entity."""
    image = build_context(
        context.root, context.use_case, context.flow_dir, context.connections, builder
    )
    name = model_name(context.config, context.env)
    plans = plan(context, targets, image, f"azureml:{name}@latest")
    model = model_entity(context.config, context.env, context.flow_dir, context.flow_hash)
    document = ("model (llmops register-flow; deploy uses the version with this content_hash)",
                entities.to_yaml(model))  # fmt: skip
    if plans:
        plans[0].documents.insert(0, document)
    return plans


def print_plans(context: DeployContext, plans: list[TargetPlan], echo: Echo = print) -> None:
    """Summary lines, then every entity as a YAML document with a comment title."""
    echo(f"[deploy] {context.use_case} to {context.env}: dry run, nothing is sent to Azure")
    for item in plans:
        echo(f"[deploy] {item.target}: {item.summary}")
    for item in plans:
        for title, document in item.documents:
            echo(f"--- # {title}\n{document.rstrip()}")


def _online_smoke(
    services: AzureServices, context: DeployContext, endpoint: str, echo: Echo
) -> Callable[[str], SmokeResult]:
    smoke_settings = context.settings.smoke

    def check(deployment: str) -> SmokeResult:
        result = run_smoke(
            lambda request: services.ml.invoke(endpoint, deployment, request.file),
            context.request,
            attempts=smoke_settings.attempts,
            wait_seconds=smoke_settings.wait_seconds,
        )
        report(result, f"{endpoint}/{deployment}", echo)
        return result

    return check


def _web_smoke(
    context: DeployContext, echo: Echo, starting: bool = False
) -> Callable[[str], SmokeResult]:
    """Smoke over HTTP; ``starting``: a new container may take its startup timeout."""
    smoke_settings = context.settings.smoke
    attempts = smoke_settings.attempts
    if starting:
        attempts = math.ceil(smoke_settings.startup_timeout_seconds / smoke_settings.wait_seconds)

    def check(url: str) -> SmokeResult:
        result = run_smoke(
            http_invoker(url, smoke_settings.timeout_seconds),
            context.request,
            attempts=attempts,
            wait_seconds=smoke_settings.wait_seconds,
        )
        report(result, url, echo)
        return result

    return check


def deploy(
    context: DeployContext,
    services: AzureServices,
    targets: list[str],
    builder: Builder | None = None,
    echo: Echo = print,
) -> list[RolloutResult]:
    """Roll out to each target in order; stop at the first failure (it is rolled back)."""
    model = find_flow_model(services.ml, context.config, context.env)
    echo(
        f"[deploy] {context.use_case} to {context.env}: model {model.name} version {model.version}"
    )
    image = build_context(
        context.root, context.use_case, context.flow_dir, context.connections, builder
    )
    results = []
    for item in plan(context, targets, image, f"azureml:{model.name}:{model.version}"):
        echo(f"[deploy] {item.target}: {item.summary}")
        if item.online is not None:
            smoke_check = _online_smoke(services, context, item.online.endpoint_name, echo)
            result = rollout(services.ml, services.roles, item.online, smoke_check, echo)
        elif item.app_service is not None:
            result = rollout_app_service(
                services.web_apps,
                services.registry,
                item.app_service,
                _web_smoke(context, echo, starting=True),
                echo,
            )
        elif item.image is not None:
            reference = ensure_image(services.registry, item.image, echo)
            result = RolloutResult(True, {}, f"image {reference}")
        else:  # pragma: no cover - plan() always fills one of them
            raise LLMOpsError(f"nothing to deploy for {item.target}")
        echo(f"[deploy] {item.target}: {'done' if result.ok else 'FAILED'}: {result.message}")
        results.append(result)
        if not result.ok:
            break
    return results


def smoke(
    context: DeployContext,
    services: AzureServices | None,
    target: str,
    deployment: str | None = None,
    url: str | None = None,
    echo: Echo = print,
) -> SmokeResult:
    """Smoke-test what serves ``target`` now (or ``url``, e.g. a local container)."""
    if url:
        return _web_smoke(context, echo)(url)
    if services is None:
        raise LLMOpsError("smoke needs Azure access or --url")
    if target in ONLINE_TARGETS:
        endpoint = _online_settings(context, target).endpoint(context.use_case, context.env)
        if deployment is None:
            state = services.ml.get_endpoint(endpoint)
            serving = {k: v for k, v in (state.traffic if state else {}).items() if v > 0}
            if not serving:
                raise LLMOpsError(f"endpoint {endpoint} does not exist or serves no traffic")
            deployment = max(serving, key=lambda name: (serving[name], name))
        return _online_smoke(services, context, endpoint, echo)(deployment)
    if target == "app_service":
        settings = context.settings.app_service
        if settings is None:
            raise LLMOpsError("no app_service settings")
        web_app = settings.web_app(context.use_case, context.env)
        state = services.web_apps.get_web_app(web_app)
        if state is None or not state.host:
            raise LLMOpsError(f"web app {web_app} does not exist")
        return _web_smoke(context, echo)(f"https://{state.host}/score")
    repository = context.settings.docker.image_repository(context.use_case, context.env)
    raise LLMOpsError(
        f"target {target} only builds the image ({repository}): run it, for example "
        "`docker run -p 8080:8080 -e <NAME>_API_BASE -e <NAME>_API_KEY <image>`, and pass "
        "--url http://localhost:8080/score"
    )
