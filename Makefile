# Tasks for developing the template itself. `make help` lists them.
SHELL := bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
DEMO_DIR ?= demo
DEMO_NAME ?= Demo LLMOps

.DEFAULT_GOAL := help
.PHONY: help bootstrap venv demo test lint docs bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

bootstrap: ## Install uv when the machine has none
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

venv: bootstrap ## Create .venv with Copier and the test tools
	@$(UV) sync --quiet

demo: venv ## Generate $(DEMO_DIR)/ with default answers and run its offline experiment
	rm -rf "$(DEMO_DIR)"
	.venv/bin/copier copy --trust --defaults --vcs-ref HEAD --data project_name="$(DEMO_NAME)" . "$(DEMO_DIR)"
	$(MAKE) -C "$(DEMO_DIR)" setup experiment-offline

test: venv ## Run the whole test suite (what CI runs)
	.venv/bin/pytest

lint: venv ## ruff on the template's own code
	.venv/bin/ruff check extensions llmops_fleet migrations tests benchmarks
	.venv/bin/ruff format --check extensions llmops_fleet migrations tests benchmarks

docs: venv ## Build the documentation site
	.venv/bin/mkdocs build --strict

bench: venv ## Print copy and update timings
	.venv/bin/python benchmarks/copier_timings.py

clean: ## Remove generated folders
	rm -rf "$(DEMO_DIR)" site .cache
