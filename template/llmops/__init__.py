"""Managed by the LLMOps template. Run, evaluate and report prompt flow experiments.

One module per lifecycle stage; data flows one way (config -> connections -> run ->
evaluate -> report) and only `cli` wires the stages together. The flow engine sits
behind `llmops.engine` so a different engine can replace prompt flow later.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
