"""Managed by the LLMOps template. The flow's serving image: one build context for every target.

``pf flow build --format docker`` copies the flow and writes connection files; this
module then swaps in the project's ``docker/Dockerfile``, ``docker/serve.sh`` and
``docker/requirements-serving.txt`` (pinned, non-root, linted with hadolint) and
rewrites each connection to read its values from the container's environment
(``<NAME>_API_BASE`` / ``<NAME>_API_KEY``), so no value is ever baked in.

The same context becomes an Azure ML environment (managed and Kubernetes endpoints;
Azure ML builds it) or an image in the container registry (App Service and Docker).
Its tag is a hash of the flow and the serving files: unchanged content, same image.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from llmops.config import ConnectionSpec
from llmops.connections import env_var_names
from llmops.errors import LLMOpsError
from llmops.paths import relative, state_dir
from llmops.register import EXCLUDED_DIRS, file_hash, folder_hash

DOCKER_DIR = Path("docker")
SERVING_FILES = ("Dockerfile", "serve.sh", "requirements-serving.txt")
GENERATED_LEFTOVERS = ("Dockerfile", "start.sh", "README.md", "runit")

Builder = Callable[[Path, Path, list[ConnectionSpec]], None]


@dataclass(frozen=True)
class ImageContext:
    """A ready-to-build folder and the content hash that names its image."""

    path: Path
    content_hash: str
    connections: tuple[str, ...]

    @property
    def tag(self) -> str:
        """Image tag: the first 12 characters of the content hash."""
        return self.content_hash[:12]


def connection_yaml(spec: ConnectionSpec) -> str:
    """A prompt flow connection file whose values come from environment variables."""
    base_var, key_var = env_var_names(spec.name)
    lines = [
        "# Written by llmops deploy: values come from the container's environment.",
        f"name: {spec.name}",
    ]
    if spec.type == "azure_openai":
        lines += [
            "type: azure_open_ai",
            f"api_base: ${{env:{base_var}}}",
            f"api_key: ${{env:{key_var}}}",
            "api_type: azure",
        ]
        if spec.api_version:
            lines.append(f'api_version: "{spec.api_version}"')
    else:
        lines += ["type: open_ai", f"api_key: ${{env:{key_var}}}", f"base_url: ${{env:{base_var}}}"]
    return "\n".join(lines) + "\n"


def serving_files(root: Path) -> list[Path]:
    """The project's serving files; all must exist."""
    paths = [root / DOCKER_DIR / name for name in SERVING_FILES]
    missing = [relative(path, root) for path in paths if not path.is_file()]
    if missing:
        raise LLMOpsError(
            f"{', '.join(missing)}: not found (template-owned: `copier update` restores them)"
        )
    return paths


def image_hash(root: Path, flow_dir: Path, specs: list[ConnectionSpec]) -> str:
    """Hash of what goes into the image: flow files, serving files, connection files."""
    digest = hashlib.sha256(folder_hash(flow_dir).encode())
    for path in serving_files(root):
        digest.update(f"{path.name}:{file_hash(path)}".encode())
    for spec in sorted(specs, key=lambda item: item.name):
        digest.update(connection_yaml(spec).encode())
    return digest.hexdigest()


def pf_flow_build(flow_dir: Path, output: Path, specs: list[ConnectionSpec]) -> None:
    """Run ``pf flow build --format docker`` in a subprocess with a throw-away home."""
    payload = json.dumps([spec.model_dump() for spec in specs])
    command = [
        sys.executable, "-m", "llmops.deploy._pf_build",
        "--flow", str(flow_dir), "--output", str(output), "--connections", payload,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = [line for line in result.stderr.splitlines() if line.strip()][-5:]
        raise LLMOpsError("pf flow build failed:\n" + "\n".join(tail or ["(no output)"]))


def build_context(
    root: Path,
    use_case: str,
    flow_dir: Path,
    specs: list[ConnectionSpec],
    builder: Builder | None = None,
) -> ImageContext:
    """Assemble ``.llmops/build/<use case>/`` (git-ignored) for the image build.

    ``builder`` defaults to ``pf_flow_build``; tests pass a fast stand-in.
    """
    files = serving_files(root)
    output = state_dir(root) / "build" / use_case
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (builder or pf_flow_build)(flow_dir, output, specs)
    for name in GENERATED_LEFTOVERS:  # replaced by the project's serving files
        leftover = output / name
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
    flow_copy = output / "flow"
    if not (flow_copy / "flow.dag.yaml").is_file():
        raise LLMOpsError(f"pf flow build wrote no flow to {relative(flow_copy, root)}")
    for cache in [p for p in flow_copy.rglob("*") if p.is_dir() and p.name in EXCLUDED_DIRS]:
        shutil.rmtree(cache, ignore_errors=True)
    connections = output / "connections"
    if connections.exists():
        shutil.rmtree(connections)
    connections.mkdir()
    variables: dict[str, str] = {}
    for spec in specs:
        (connections / f"{spec.name}.yaml").write_text(connection_yaml(spec), encoding="utf-8")
        variables.update(dict.fromkeys(env_var_names(spec.name), ""))
    # Names of the variables the container expects (values stay empty here).
    (output / "settings.json").write_text(json.dumps(variables, indent=2) + "\n", encoding="utf-8")
    for path in files:
        shutil.copy2(path, output / path.name)
    return ImageContext(output, image_hash(root, flow_dir, specs), tuple(s.name for s in specs))
