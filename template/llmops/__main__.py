"""Managed by the LLMOps template. Entry point for ``python -m llmops``."""

import sys

from llmops.cli import main

# The guard matters: prompt flow starts batch workers with multiprocessing, which
# re-imports the main module; without it every worker would run the CLI again.
if __name__ == "__main__":
    sys.exit(main())
