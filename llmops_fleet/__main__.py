"""`python -m llmops_fleet` runs the `fleet` command (handy where scripts are not on PATH)."""

import sys

from llmops_fleet.cli import main

if __name__ == "__main__":  # worker processes import this module under another name
    sys.exit(main())
