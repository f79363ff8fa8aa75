"""Managed by the LLMOps template. ``pf flow build --format docker`` in a throw-away home.

Run as ``python -m llmops.deploy._pf_build`` by ``llmops.deploy.image``, in its own
process because prompt flow reads its home at import time. The build needs each
connection to exist locally; it gets a placeholder (no real value ever), in a
temporary home, so your own local connections are neither read nor changed. The
connection files the build writes are replaced afterwards by ``image.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

PLACEHOLDER_BASE = "https://placeholder.invalid/"
PLACEHOLDER_KEY = "placeholder-not-a-key"


def main(argv: list[str] | None = None) -> int:
    """Build ``--flow`` into ``--output``; ``--connections`` is a JSON list of specs."""
    parser = argparse.ArgumentParser(prog="python -m llmops.deploy._pf_build")
    parser.add_argument("--flow", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--connections", default="[]")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llmops-pf-build-") as home:
        # prompt flow's docker export requires its home inside $HOME.
        os.environ["HOME"] = home
        os.environ["USERPROFILE"] = home
        os.environ["PF_HOME_DIRECTORY"] = str(Path(home) / ".promptflow")
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
        os.environ["KEYRING_PROPERTY_FILE_PATH"] = str(Path(home) / "keyring.cfg")
        from llmops.engine.promptflow_engine import prepare_environment

        prepare_environment(Path(home))
        from promptflow.client import PFClient
        from promptflow.entities import AzureOpenAIConnection, OpenAIConnection

        pf = PFClient()
        for spec in json.loads(args.connections):
            if spec["type"] == "azure_openai":
                options = {"api_version": spec["api_version"]} if spec.get("api_version") else {}
                connection: object = AzureOpenAIConnection(
                    name=spec["name"], api_key=PLACEHOLDER_KEY, api_base=PLACEHOLDER_BASE, **options
                )
            else:
                connection = OpenAIConnection(name=spec["name"], api_key=PLACEHOLDER_KEY)
            pf.connections.create_or_update(connection)
        pf.flows.build(flow=str(args.flow), output=str(args.output), format="docker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
