"""Managed by the LLMOps template. Wiring of the Azure outer-loop commands of ``llmops``.

``register-data``, ``register-flow``, ``deploy`` and ``smoke``, plus ``--target`` for
``run`` / ``evaluate`` / ``experiment``. Like ``cli``, this module only wires stages
together. Every command takes ``--env`` and ``--use-case NAME`` or ``--all``;
``--dry-run`` prints the plan and the azure-ai-ml entities as YAML without any Azure
call or credential.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import yaml

from llmops import azure
from llmops.cli_each import OK, RUN_FAILED, add_use_case_choice, chosen_use_cases, each_use_case
from llmops.config import load_experiment
from llmops.deploy import deploy, dry_run, prepare, print_plans, select_targets, smoke
from llmops.deployment_config import ONLINE_TARGETS, TARGETS
from llmops.engine import TARGETS as RUN_TARGETS
from llmops.engine import FlowEngine, get_engine, target_of
from llmops.errors import LLMOpsError
from llmops.paths import relative, use_case_dir
from llmops.register import (
    datasets,
    file_hash,
    folder_hash,
    model_entity,
    model_name,
    register_data,
    register_flow,
)

Add = Callable[[str, object, str], argparse.ArgumentParser]
Project = Callable[[argparse.Namespace], tuple[Path, str | None]]
Handler = Callable[[argparse.Namespace, Path, str | None, str], int]


def add_run_target(parser: argparse.ArgumentParser) -> None:
    """``--target local|azure`` for run, evaluate and experiment."""
    parser.add_argument(
        "--target",
        choices=RUN_TARGETS,
        default="local",
        help="where runs execute: local (default) or azure (the Azure ML workspace in "
        "AZURE_SUBSCRIPTION_ID / AZURE_RESOURCE_GROUP / AZURE_ML_WORKSPACE)",
    )


def run_engine(args: argparse.Namespace, root: Path, env: str | None) -> FlowEngine:
    """The engine for ``--target``; ``--offline`` (the local mock LLM) is local only."""
    target = getattr(args, "target", "local")
    if target == "azure" and getattr(args, "offline", False):
        raise LLMOpsError("--offline runs against a local mock LLM: it cannot be combined with "
                          "--target azure")  # fmt: skip
    return get_engine(root=root, target=target, env=env)


def recorded_engine(root: Path, use_case: str, env: str | None) -> FlowEngine:
    """The engine that made the recorded runs (report reads their results from it)."""
    from llmops.state import load_record

    return get_engine(root=root, target=target_of(load_record(root, use_case).engine), env=env)


def add_outer_loop(add: Add, project: Project) -> None:
    """Add register-data, register-flow, deploy and smoke to the parser."""

    def common(parser: argparse.ArgumentParser, dry_run_help: str) -> None:
        add_use_case_choice(parser, "every use case in turn; one failing does not stop the rest")
        parser.add_argument(
            "--env",
            help="environment: picks experiment.<env>.yaml and the deployment settings "
            "(default: $ENV_NAME)",
        )
        parser.add_argument("--dry-run", action="store_true", help=dry_run_help)

    def wired(command: str, handler: Handler) -> object:
        def run(args: argparse.Namespace) -> int:
            if getattr(args, "url", None) and args.all:
                raise LLMOpsError("--url tests one deployment: name its use case with --use-case")
            root, env = project(args)
            names = chosen_use_cases(root, args)
            return each_use_case(names, command, lambda name: handler(args, root, env, name))

        return run

    sub = add(
        "register-data",
        wired("register-data", _register_data),
        "register each dataset as an Azure ML data asset (new version only when it changed)",
    )
    common(sub, "print the data assets that would be registered; no Azure call")
    sub = add(
        "register-flow",
        wired("register-flow", _register_flow),
        "register the standard flow as an Azure ML model (new version only when it changed)",
    )
    common(sub, "print the model that would be registered; no Azure call")
    sub = add(
        "deploy",
        wired("deploy", _deploy),
        "deploy the registered flow to the environment's targets, smoke-test, roll back",
    )
    common(sub, "build the image context and print every entity as YAML; no Azure call")
    sub.add_argument(
        "--target",
        action="append",
        choices=TARGETS,
        help="deploy only this target (repeatable; default: the environment's targets)",
    )
    sub = add(
        "smoke",
        wired("smoke", _smoke),
        "send sample-request.json to a deployment and check the answer; exit 1 when it fails",
    )
    common(sub, "print what would be invoked and checked; no request is sent")
    sub.add_argument(
        "--target", choices=TARGETS, help="default: every target of the environment but docker"
    )
    sub.add_argument("--deployment", help="online deployment (default: the one with most traffic)")
    sub.add_argument("--url", help="score URL to test instead, e.g. http://localhost:8080/score")


def _register_data(args: argparse.Namespace, root: Path, env: str | None, use_case: str) -> int:
    config = load_experiment(use_case_dir(root, use_case), env)
    if args.dry_run:
        from llmops.deploy.entities import to_yaml
        from llmops.register import data_entity

        print(f"[register-data] {config.name} (env {env or 'none'}): dry run, nothing is sent")
        documents = []
        for name, path, description in datasets(config):
            digest = file_hash(path)
            print(f"[register-data] {name}: {relative(path, root)} hash {digest[:12]}: a new "
                  "version only if no version has this content_hash")  # fmt: skip
            entity = data_entity(name, path, digest, description)
            documents.append(f"--- # data asset {name}\n{to_yaml(entity).rstrip()}")
        print("\n".join(documents))
        return OK
    services = azure.connect(azure.settings_from_env())
    register_data(services.ml, config)
    return OK


def _register_flow(args: argparse.Namespace, root: Path, env: str | None, use_case: str) -> int:
    config = load_experiment(use_case_dir(root, use_case), env)
    if args.dry_run:
        from llmops.deploy.entities import to_yaml

        flow_dir = config.path(config.flow)
        digest = folder_hash(flow_dir)
        print(f"[register-flow] {model_name(config, env)}: {relative(flow_dir, root)} hash "
              f"{digest[:12]}: a new version only if no version has this content_hash")  # fmt: skip
        print(f"--- # model\n{to_yaml(model_entity(config, env, flow_dir, digest))}")
        return OK
    services = azure.connect(azure.settings_from_env())
    made = register_flow(services.ml, config, env)
    print(f"[register-flow] version: {made.version}")
    return OK


def _deploy(args: argparse.Namespace, root: Path, env: str | None, use_case: str) -> int:
    settings = azure.settings_from_env(placeholders=args.dry_run)
    context = prepare(root, use_case, env, get_engine(root=root), settings)
    targets = select_targets(context, args.target)
    if args.dry_run:
        print_plans(context, dry_run(context, targets))
        return OK
    results = deploy(context, azure.connect(settings), targets)
    return OK if results and all(result.ok for result in results) else RUN_FAILED


def _smoke(args: argparse.Namespace, root: Path, env: str | None, use_case: str) -> int:
    settings = azure.settings_from_env(placeholders=args.dry_run or bool(args.url))
    context = prepare(root, use_case, env, get_engine(root=root), settings)
    if args.url:
        targets = [args.target or "url"]
    elif args.target:
        targets = [args.target]
    else:  # everything that serves requests in this environment; docker only builds
        targets = [target for target in context.settings.targets if target != "docker"]
    if not targets:
        print(f"[smoke] {use_case}: the targets of {env} only build an image; nothing to test")
        return OK
    if args.dry_run:
        print("[smoke] dry run, nothing is sent")
        for target in targets:
            plan = {
                "target": target,
                "url": args.url,
                "deployment": args.deployment
                or ("most traffic" if target in ONLINE_TARGETS else None),
                "request": relative(context.request.file, root),
                "checks": [
                    "HTTP 200",
                    "body is a JSON object",
                    f"outputs present: {', '.join(sorted(context.request.outputs))}",
                    "no output is empty",
                ],
            }
            shown = yaml.safe_dump({k: v for k, v in plan.items() if v}, sort_keys=False)
            print(f"--- # smoke {target}\n{shown.rstrip()}")
        return OK
    services = None if args.url else azure.connect(settings)
    results = [smoke(context, services, t, args.deployment, args.url) for t in targets]
    return OK if all(result.passed for result in results) else RUN_FAILED
