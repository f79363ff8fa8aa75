"""Every `az` command line a generated project can issue parses with the real Azure CLI.

No Azure and no sign-in are needed: the Azure CLI parses and validates a command's
arguments before it looks for an account. A well-formed command stops at "Please run
'az login'" (exit 1); a misspelt option, a missing required argument or a bad choice
is an argument error (exit 2, or "... are required"). azure-cli is installed with uv
into its own virtual environment under .cache/ (never into the dev dependencies: it
pins many packages), keyed by version and reused across runs; it runs with a throw-away
config directory, no telemetry and no extension installs, so nothing leaves the machine.

The command lines come from:

* ``llmops``: the services ``llmops.azure.connect`` builds (az.py), driven through
  ``deploy`` (all four targets, first and second rollout, rollback, both image
  builders) and ``smoke``. Only the ``az`` executable is a stand-in: it records each
  argument list the real ``AzCli`` builds and answers like az would;
* ``infra/bootstrap.sh``: run by bash with a recording ``az`` on PATH, on a fresh
  subscription and on one that was set up before (every branch of the script);
* every other ``az ...`` line in the rendered scripts, pipelines and docs (both CI
  platforms), with shell variables and ``<placeholders>`` turned into plain values.

Commands of az extensions (``ml``, ``repos``, ``pipelines``, ...) cannot be checked: the
extensions are not on PyPI. They are listed in a skip, like sign-in commands.
"""

from __future__ import annotations

import ast
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import copier
import pytest

from conftest import DEFAULT_ANSWERS, REPO_ROOT

pytestmark = pytest.mark.slow

AZ_VERSION = "2.91.0"
AZ_VENV = (
    REPO_ROOT
    / ".cache"
    / f"azure-cli-{AZ_VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
)
TARGETS = ["aml_managed", "kubernetes", "app_service", "docker"]
RENDERS = {"azure_devops": {}, "github": {"ci_platform": "github"}}
SUBSCRIPTION = "3f2b8c1e-5d4a-4e6f-9a7b-0c1d2e3f4a5b"
CLIENT_ID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PRINCIPAL = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-probe-dev"
IDENTITY_ID = f"{GROUP_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app"

# What az says when the arguments are wrong (exit 2, except a missing `--name | --ids`).
ARGUMENT_ERRORS = (
    "unrecognized arguments",
    "the following arguments are required",
    "are required",
    "is misspelled or not recognized",
    "expected one argument",
    "invalid choice",
    "is not a valid value for",
    "usage error",
)
# Where a well-formed command stops without an account (and without network: the
# az process gets a proxy on a closed local port): the sign-in check, or for the
# registry's data plane (`acr login`, `acr repository`) the registry's URL.
STOPS_AFTER_PARSING = ("Please run 'az login'", "is reachable from your environment")
DEAD_PROXY = "http://127.0.0.1:9"
# az command groups that come from extensions, which are not on PyPI.
EXTENSION_GROUPS = frozenset({"ml", "repos", "pipelines", "devops", "boards", "artifacts"})
# Commands that do their job without an account: running them would sign in, etc.
NOT_RUN = frozenset({"login", "logout", "upgrade", "extension", "config", "configure", "bicep"})

# Runs in the azure-cli venv: one process, many commands (start-up alone takes seconds).
RUNNER = textwrap.dedent(
    """
    import io, json, sys

    class Sink(io.TextIOBase):
        # az's log handlers keep the stream they saw first; swap the buffer behind it.
        def __init__(self):
            self.text = io.StringIO()
        def write(self, text):
            return self.text.write(text)
        def isatty(self):
            return False

    out, err = sys.stdout, Sink()
    sys.stdout, sys.stderr = Sink(), err
    from azure.cli.core import get_default_cli

    results = []
    for argv in json.load(sys.stdin):
        err.text = io.StringIO()
        try:
            code = get_default_cli().invoke(argv, out_file=sys.stdout)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        results.append({"code": code, "stderr": err.text.getvalue()})
    out.write(json.dumps(results))
    """
)

# A recording `az` for shell scripts: answers the queries infra/bootstrap.sh makes.
FAKE_AZ = textwrap.dedent(
    f"""
    import json, os, sys

    args = sys.argv[1:]
    with open(os.environ["FAKE_AZ_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(args) + "\\n")
    existing = os.environ["FAKE_AZ_STATE"] == "existing"
    query = args[args.index("--query") + 1] if "--query" in args else None
    if args[:3] == ["storage", "account", "show"] and query is None:
        sys.exit(0 if existing else 3)
    answers = {{
        "length(@)": "1" if existing else "0",
        "[0].condition": "a condition from an older template",
        "exists": "true" if existing else "false",
        "[0].name": "{CLIENT_ID}",
        "id": "{GROUP_ID}",
        "[name, id]": "Probe subscription\\n{SUBSCRIPTION}",
    }}
    print(answers.get(query, ""))
    """
)


@dataclass(frozen=True)
class Command:
    """One az argument list (without the leading ``az``) and where it comes from."""

    args: tuple[str, ...]
    source: str

    @property
    def words(self) -> tuple[str, ...]:
        """The command's name: the words before the first option."""
        words = []
        for arg in self.args:
            if arg.startswith("-"):
                break
            words.append(arg)
        return tuple(words)

    def __str__(self) -> str:
        return "az " + shlex.join(self.args)


@dataclass(frozen=True)
class AzResult:
    code: int
    stderr: str

    @property
    def argument_error(self) -> bool:
        return self.code == 2 or any(message in self.stderr for message in ARGUMENT_ERRORS)

    @property
    def well_formed(self) -> bool:
        """Parsed and validated; az stopped only because it has no account or network."""
        stopped = any(stop in self.stderr for stop in STOPS_AFTER_PARSING)
        return self.code == 1 and stopped and not self.argument_error

    def first_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[0] if lines else f"(exit {self.code}, no message)"


# --- azure-cli in its own cached venv ----------------------------------------------


def uv_command() -> list[str]:
    """uv on PATH, else `python3 -m uv` (what the Makefile uses); fail loudly without it."""
    found = shutil.which("uv")
    if found:
        return [found]
    for python in filter(None, (sys.executable, shutil.which("python3"))):
        probe = subprocess.run([python, "-m", "uv", "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [python, "-m", "uv"]
    pytest.fail("uv is needed to install azure-cli for this test (`make bootstrap` installs it)")


def install_azure_cli() -> Path:
    """The python of a venv with azure-cli AZ_VERSION, installed once and then reused."""
    marker = AZ_VENV / ".installed"
    if marker.is_file() and marker.read_text().strip() == AZ_VERSION:
        return AZ_VENV / "bin" / "python"
    uv = uv_command()
    staging = AZ_VENV.with_name(f"{AZ_VENV.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    python = staging / "bin" / "python"
    for step in (
        [*uv, "venv", "--quiet", "--python", sys.executable, str(staging)],
        [*uv, "pip", "install", "--quiet", "--python", str(python), f"azure-cli=={AZ_VERSION}"],
    ):
        result = subprocess.run(step, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"installing azure-cli failed: {' '.join(step[-3:])}\n{result.stderr}")
    (staging / ".installed").write_text(AZ_VERSION + "\n")
    if AZ_VENV.exists() and not marker.is_file():  # an interrupted earlier install
        shutil.rmtree(AZ_VENV)
    try:
        staging.rename(AZ_VENV)
    except OSError:  # a parallel run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return AZ_VENV / "bin" / "python"


def az_environment(workdir: Path) -> dict[str, str]:
    """No account, no network, no telemetry, no prompts, no extension downloads."""
    workdir.mkdir()
    docker = workdir / "docker"  # `az acr login` runs `docker ps` first
    docker.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    docker.chmod(0o755)
    dropped = ("AZURE_", "ARM_", "MSI_", "IDENTITY_", "NO_PROXY", "no_proxy", "DOCKER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k != "PYTHONPATH"}
    env.update(
        HTTPS_PROXY=DEAD_PROXY,
        HTTP_PROXY=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        DOCKER_COMMAND=str(docker),
        AZURE_CONFIG_DIR=str(workdir / "config"),
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_ONLY_SHOW_ERRORS="true",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_SURVEY_MESSAGE="false",
        AZURE_CORE_ERROR_RECOMMENDATION="off",
        AZURE_EXTENSION_USE_DYNAMIC_INSTALL="no",
    )
    return env


def run_batch(python: Path, env: dict[str, str], argvs: list[list[str]]) -> list[AzResult]:
    """Run many az commands in one azure-cli process."""
    result = subprocess.run(
        [str(python), "-c", RUNNER],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [AzResult(item["code"], item["stderr"]) for item in json.loads(result.stdout)]


def run_alone(python: Path, env: dict[str, str], argv: list[str]) -> AzResult:
    """One command exactly as the `az` entry point runs it (`python -m azure.cli`)."""
    result = subprocess.run(
        [str(python), "-m", "azure.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return AzResult(result.returncode, result.stderr)


# --- rendered projects ---------------------------------------------------------------


def render(destination: Path, **answers: Any) -> Path:
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data={**DEFAULT_ANSWERS, "project_name": "Probe", "deploy_targets": TARGETS, **answers},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    return destination


@contextmanager
def generated_package(project: Path) -> Iterator[None]:
    """Import ``llmops`` from a rendered project, and forget it afterwards."""
    sys.path.insert(0, str(project))
    try:
        yield
    finally:
        sys.path.remove(str(project))
        for name in [m for m in sys.modules if m == "llmops" or m.startswith("llmops.")]:
            del sys.modules[name]


# --- llmops: the az.py services driven through deploy and smoke -----------------------


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1] if name in args else ""


@dataclass
class FakeAzure:
    """Stands in for the ``az`` executable behind ``AzCli``: records and answers.

    It replaces ``subprocess.run`` and ``shutil.which`` as az.py sees them, so the real
    ``AzCli`` builds every argument list. Docker commands are recorded separately.
    """

    az: list[list[str]] = field(default_factory=list)
    docker: list[list[str]] = field(default_factory=list)
    roles: set[tuple[str, ...]] = field(default_factory=set)
    images: set[tuple[str, str]] = field(default_factory=set)
    apps: dict[str, str] = field(default_factory=dict)

    def which(self, name: str) -> str:
        return f"/opt/fake/bin/{name}"

    def run(self, command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        argv = [str(part) for part in command]
        if Path(argv[0]).name != "az":
            self.docker.append(argv)
            return subprocess.CompletedProcess(argv, 0, "", "")
        self.az.append(argv[1:])
        code, answer = self.answer(argv[1:])
        if code:
            return subprocess.CompletedProcess(argv, code, "", f"ERROR: {answer}\n")
        return subprocess.CompletedProcess(argv, 0, json.dumps(answer), "")

    def answer(self, args: list[str]) -> tuple[int, Any]:
        words = tuple(Command(tuple(args), "").words)
        name = option(args, "--name")
        assignment = tuple(option(args, o) for o in ("--assignee-object-id", "--role", "--scope"))
        if words == ("role", "assignment", "list"):
            return 0, [{"id": "assignment"}] if assignment in self.roles else []
        if words == ("role", "assignment", "create"):
            self.roles.add(assignment)
            return 0, {"id": "assignment"}
        if words == ("acr", "repository", "show-tags"):
            repository = option(args, "--repository")
            tags = [tag for repo, tag in sorted(self.images) if repo == repository]
            if not tags:
                return 1, f"(RepositoryNotFound) repository {repository} is not found."
            return 0, tags
        if words == ("acr", "build"):
            repository, _, tag = option(args, "--image").partition(":")
            self.images.add((repository, tag))
            return 0, None
        if words == ("webapp", "show"):
            if name not in self.apps:
                return 3, f"(ResourceNotFound) The Resource 'Microsoft.Web/sites/{name}' ..."
            return 0, {
                "defaultHostName": f"{name}.azurewebsites.net",
                "siteConfig": {"linuxFxVersion": f"DOCKER|{self.apps[name]}"},
                "identity": {"userAssignedIdentities": {IDENTITY_ID: {}}},
            }
        if words in (("webapp", "create"), ("webapp", "config", "container", "set")):
            self.apps[name] = option(args, "--container-image-name")
        return 0, {}


class StubML:
    """The MLService calls of a rollout, in memory (they use azure-ai-ml, not az)."""

    def __init__(self, model: Any, good_answer: str) -> None:
        self.model = model
        self.good_answer = good_answer
        self.endpoints: dict[str, Any] = {}
        self.deployments: dict[str, dict[str, Any]] = {}

    def model_versions(self, name: str) -> list[Any]:
        return [self.model]

    def get_endpoint(self, name: str) -> Any:
        return self.endpoints.get(name)

    def create_endpoint(self, endpoint: Any) -> Any:
        from llmops.azure.ml import EndpointState

        self.endpoints[endpoint.name] = EndpointState(
            endpoint.name, "managed", {}, "system_assigned", PRINCIPAL
        )
        self.deployments[endpoint.name] = {}
        return self.endpoints[endpoint.name]

    def set_traffic(self, endpoint: str, traffic: dict[str, int]) -> Any:
        from dataclasses import replace

        self.endpoints[endpoint] = replace(self.endpoints[endpoint], traffic=dict(traffic))
        return self.endpoints[endpoint]

    def list_deployments(self, endpoint: str) -> list[Any]:
        return list(self.deployments.get(endpoint, {}).values())

    def create_deployment(self, deployment: Any) -> Any:
        from llmops.azure.ml import DeploymentState

        state = DeploymentState(deployment.name, deployment.endpoint_name, "Succeeded")
        self.deployments[deployment.endpoint_name][deployment.name] = state
        return state

    def delete_deployment(self, endpoint: str, name: str) -> None:
        del self.deployments[endpoint][name]

    def invoke(self, endpoint: str, deployment: str, request_file: Path) -> tuple[int, str]:
        return 200, self.good_answer


# The online entities need azure-ai-ml, which this venv lacks; the rollout only reads
# their names. (tests/test_deploy_render.py loads the real ones with the SDK.)
def endpoint_stand_in(_target: str, name: str, *_args: Any) -> Any:
    return SimpleNamespace(name=name)


def deployment_stand_in(_target: str, name: str, endpoint: str, *_args: Any) -> Any:
    return SimpleNamespace(name=name, endpoint_name=endpoint)


def fake_build(flow_dir: Path, output: Path, specs: list[Any]) -> None:
    """Stands in for `pf flow build --format docker` (slow, and needs promptflow)."""
    shutil.copytree(flow_dir, output / "flow", dirs_exist_ok=True)


def llmops_commands(project: Path) -> tuple[list[Command], list[list[str]]]:
    """Every az argument list `llmops deploy` and `llmops smoke` issue, plus docker's."""
    fake = FakeAzure()
    with generated_package(project), pytest.MonkeyPatch.context() as patch:
        from llmops import azure
        from llmops import deploy as stage
        from llmops.azure import az as az_module
        from llmops.azure.ml import AssetVersion
        from llmops.deploy import entities
        from llmops.engine import get_engine
        from llmops.paths import list_use_cases
        from llmops.register import HASH_TAG, model_name

        patch.setattr(az_module, "shutil", SimpleNamespace(which=fake.which))
        patch.setattr(az_module, "subprocess", SimpleNamespace(run=fake.run))
        patch.setattr(entities, "online_endpoint", endpoint_stand_in)
        patch.setattr(entities, "online_deployment", deployment_stand_in)
        patch.setattr(entities, "serving_environment", lambda path: SimpleNamespace(path=path))
        patch.setattr(entities, "to_yaml", lambda _entity: "{}\n")
        settings = azure.AzureSettings(
            subscription_id=SUBSCRIPTION,
            resource_group="rg-probe-dev",
            workspace="mlw-probe-dev",
            container_registry="crprobedev",
            key_vault="kv-probe-dev",
            app_service_plan="asp-probe-dev",
            app_identity_id=IDENTITY_ID,
            app_identity_client_id=CLIENT_ID,
        )
        use_case = list_use_cases(project)[0]
        context = stage.prepare(project, use_case, "dev", get_engine(root=project), settings)
        good = json.dumps({name: ["Maria Garcia"] for name in context.request.outputs})
        web_answers: list[bool] = []  # the web app's smoke test: passes or not, in order

        def http_invoker(_url: str, _timeout: float = 0) -> Any:
            answer = (200, good) if web_answers.pop(0) else (200, "{}")
            return lambda _request: answer

        patch.setattr(stage, "http_invoker", http_invoker)
        services = azure.connect(settings)  # the real az services, as `llmops deploy` builds them
        model = AssetVersion(model_name(context.config, "dev"), "1", {HASH_TAG: context.flow_hash})
        services.ml = StubML(model, good)
        targets = stage.select_targets(context, None)
        assert targets == TARGETS, targets

        def deploy() -> list[Any]:
            return stage.deploy(context, services, targets, fake_build, echo=lambda _l: None)

        # 1. First rollout: endpoints created, roles granted, image built (az acr build),
        #    web app created and configured; the docker target finds the image.
        web_answers[:] = [True]
        assert all(result.ok for result in deploy())
        # 2. Same content again: roles and image exist, the web app is reconfigured.
        web_answers[:] = [True]
        assert all(result.ok for result in deploy())
        # 3. New content built with the local docker engine; the web app's smoke test
        #    fails, so it goes back to the previous image.
        (project / "config" / "deployment.yaml").write_text(
            "defaults:\n  docker:\n    builder: docker\nenvironments: {}\n", encoding="utf-8"
        )
        serve = project / "docker" / "serve.sh"
        serve.write_text(serve.read_text(encoding="utf-8") + "# changed\n", encoding="utf-8")
        context = stage.prepare(project, use_case, "dev", get_engine(root=project), settings)
        web_answers[:] = [False]
        results = deploy()
        assert not results[-1].ok and "restored" in results[-1].message, results
        # 4. `llmops smoke` of the web app.
        web_answers[:] = [True]
        assert stage.smoke(context, services, "app_service", echo=lambda _l: None).passed
    return [Command(tuple(args), "llmops") for args in fake.az], fake.docker


def az_py_call_sites(source: str) -> set[tuple[str, ...]]:
    """The literal leading words of every ``self.az(...)`` / ``self._app(...)`` in az.py."""
    sites = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("az", "_app"):
            continue
        words = ["webapp"] if node.func.attr == "_app" else []
        for arg in node.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break
            if arg.value.startswith("-"):
                break
            words.append(arg.value)
        sites.add(tuple(words))
    return sites


# --- scripts: bootstrap.sh run for real, every other az line read ----------------------


def bootstrap_commands(project: Path, workdir: Path) -> list[Command]:
    """Run infra/bootstrap.sh with a recording az, fresh and on a set-up subscription."""
    bin_dir = workdir / "fake-bin"
    bin_dir.mkdir()
    fake = bin_dir / "az"
    fake.write_text(f"#!{sys.executable}\n{FAKE_AZ}", encoding="utf-8")
    fake.chmod(0o755)
    log = workdir / "az-calls.jsonl"
    for state in ("fresh", "existing"):
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_AZ_LOG": str(log),
            "FAKE_AZ_STATE": state,
        }
        result = subprocess.run(
            ["bash", str(project / "infra" / "bootstrap.sh"), "dev", PRINCIPAL],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"bootstrap.sh ({state}):\n{result.stderr}"
    lines = log.read_text(encoding="utf-8").splitlines()
    return [Command(tuple(json.loads(line)), "infra/bootstrap.sh") for line in lines]


AZ_START = re.compile(r"(?:^|(?<=[\s(`\"'=]))az (?=[a-z])")
SCANNED = (".sh", ".yml", ".yaml", ".md")
PLACEHOLDER = re.compile(r"<([A-Za-z][\w.-]*)>")


def command_end(text: str, start: int) -> int:
    """Where the shell command starting at ``start`` ends (quotes and ``$( )`` aware)."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if quote:
            if char == quote:
                quote = ""
            elif quote == '"' and text.startswith("$(", i):
                depth += 1
                i += 1
            elif quote == '"' and char == ")" and depth:
                depth -= 1
        elif char in "'\"":
            quote = char
        elif text.startswith("$(", i):
            depth += 1
            i += 1
        elif char == ")":
            if not depth:
                return i
            depth -= 1
        elif not depth and char in "\n|;&<>`":
            return i
        i += 1
    return i


def plain_values(command: str) -> str:
    """Shell expansions become plain values (``$(...)`` nested in one is dropped)."""
    out, i = [], 0
    while i < len(command):
        if command.startswith("$(", i):
            depth, i = 1, i + 2
            while i < len(command) and depth:
                depth += {"(": 1, ")": -1}.get(command[i], 0)
                i += 1
            out.append("value")
            continue
        match = re.match(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", command[i:])
        if match:
            out.append("value")
            i += match.end()
            continue
        out.append(command[i])
        i += 1
    return "".join(out)


def script_commands(project: Path, render_name: str) -> list[Command]:
    """Every `az ...` written in the project's scripts, pipelines and docs but bootstrap.sh."""
    found = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.suffix not in SCANNED or relative == "infra/bootstrap.sh":
            continue
        if relative.startswith(("llmops/", "use_cases/", ".git/")):
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            text = PLACEHOLDER.sub(lambda match: match.group(1), text)
        else:  # comments mention commands (`az login`) without running them
            text = re.sub(r"(?m)^\s*#.*$", "", text)
        for match in AZ_START.finditer(text):
            raw = text[match.start() : command_end(text, match.start())]
            raw = re.sub(r"\s+\d$", "", raw.replace("\\\n", " ").strip())  # `2>/dev/null`
            args = shlex.split(plain_values(raw))[1:]
            line = text.count("\n", 0, match.start()) + 1
            found.append(Command(tuple(args), f"{render_name}:{relative}:{line}"))
    return found


# --- the checks ------------------------------------------------------------------------


@dataclass
class Checked:
    """Everything collected and what the real az said about each command."""

    llmops: list[Command]
    docker: list[list[str]]
    scripts: list[Command]
    unverifiable: list[Command]
    not_run: list[Command]
    results: dict[tuple[str, ...], AzResult]
    controls: dict[str, AzResult]


def unique(commands: list[Command]) -> list[Command]:
    """Each argument list once, with every place it comes from."""
    sources: dict[tuple[str, ...], list[str]] = {}
    for command in commands:
        places = sources.setdefault(command.args, [])
        places += [place for place in command.source.split(", ") if place not in places]
    return [Command(args, ", ".join(places)) for args, places in sources.items()]


def misspelt(args: tuple[str, ...]) -> list[str]:
    """The same command with its first option misspelt (``--name`` -> ``--anme``)."""
    position = next(i for i, arg in enumerate(args) if arg.startswith("--"))
    name = args[position]
    typo = f"--{name[3]}{name[2]}{name[4:]}"
    if typo == name:
        typo = f"{name}-typo"
    return [*args[:position], typo, *args[position + 1 :]]


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Checked:
    root = tmp_path_factory.mktemp("az-commands")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        installing = pool.submit(install_azure_cli)
        projects = {name: render(root / name, **answers) for name, answers in RENDERS.items()}
        python = installing.result()
    llmops, docker = llmops_commands(projects["azure_devops"])
    scripts = bootstrap_commands(projects["azure_devops"], root)
    for name, project in projects.items():
        scripts += script_commands(project, name)
    scripts = unique(scripts)
    unverifiable = [c for c in scripts if c.words[:1] and c.words[0] in EXTENSION_GROUPS]
    not_run = [c for c in scripts if c.words[:1] and c.words[0] in NOT_RUN]
    to_run = unique(llmops) + [c for c in scripts if c not in unverifiable + not_run]

    env = az_environment(root / "az-home")
    sample = list(llmops[0].args)
    role_create = next(c for c in llmops if c.words == ("role", "assignment", "create"))
    without_scope = list(role_create.args)
    del without_scope[without_scope.index("--scope") : without_scope.index("--scope") + 2]
    # Negative controls run after every other command in the batch (it still notices),
    # and alone, like the `az` entry point, next to a well-formed command (same verdicts).
    in_batch = {
        "misspelt option (batch)": misspelt(llmops[0].args),
        "missing required argument (batch)": without_scope,
    }
    alone = {"misspelt option (alone)": misspelt(llmops[0].args), "well-formed (alone)": sample}
    batch = [list(c.args) for c in to_run] + list(in_batch.values())
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        batched = pool.submit(run_batch, python, env, batch)
        singles = {name: pool.submit(run_alone, python, env, argv) for name, argv in alone.items()}
        outcomes = batched.result()
        controls = {name: future.result() for name, future in singles.items()}
    results = {c.args: outcome for c, outcome in zip(to_run, outcomes, strict=False)}
    controls.update(zip(in_batch, outcomes[len(to_run) :], strict=True))
    return Checked(llmops, docker, scripts, unverifiable, not_run, results, controls)


def failures(checked: Checked, commands: list[Command]) -> list[str]:
    return [
        f"{command}\n    from {command.source}: {checked.results[command.args].first_line()}"
        for command in unique(commands)
        if not checked.results[command.args].well_formed
    ]


def test_the_check_notices_argument_errors(checked: Checked) -> None:
    """Negative controls: a misspelt option and a missing argument are argument errors."""
    for name, result in checked.controls.items():
        if name.startswith("well-formed"):
            assert result.well_formed, (name, result)
        else:
            assert result.argument_error and not result.well_formed, (name, result)
    assert "unrecognized arguments: --" in checked.controls["misspelt option (alone)"].stderr


def test_llmops_az_commands_are_well_formed(checked: Checked) -> None:
    assert failures(checked, checked.llmops) == []


def test_every_az_call_of_the_package_was_exercised(checked: Checked) -> None:
    source = (REPO_ROOT / "template" / "llmops" / "azure" / "az.py").read_text(encoding="utf-8")
    sites = az_py_call_sites(source)
    assert ("acr", "build") in sites and ("webapp", "config", "container", "set") in sites
    issued = {command.words for command in checked.llmops}
    missed = [site for site in sites if not any(words[: len(site)] == site for words in issued)]
    assert missed == [], "az calls in az.py that no deploy scenario reaches"
    assert any(argv[1] == "push" for argv in checked.docker)  # the docker builder ran too


def test_script_az_commands_are_well_formed(checked: Checked) -> None:
    assert any("infra/bootstrap.sh" in c.source for c in checked.scripts)
    verified = [c for c in checked.scripts if c.args in checked.results]
    assert failures(checked, verified) == []


# Commands az cannot check offline: the azure-devops extension is not on PyPI, and
# `az login` would start a sign-in. A new one must be added here on purpose.
UNCHECKED = {
    ("repos", "pr", "create"),
    ("pipelines", "variable-group", "create"),
    ("pipelines", "create"),
    ("login",),
}


def test_only_known_commands_go_unchecked(checked: Checked) -> None:
    """The commands left out are exactly the known extension and sign-in ones."""
    left_out = {command.words for command in checked.unverifiable + checked.not_run}
    assert left_out == UNCHECKED, [str(c) for c in checked.unverifiable + checked.not_run]
