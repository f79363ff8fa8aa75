#!/bin/sh
# Managed by the LLMOps template. Runs a tool of the project's virtual environment,
# so that git hooks (pre-commit) work without an activated venv: the venv `make setup`
# recorded (git config llmops.venv), else $VIRTUAL_ENV, else .venv.
# Usage: sh scripts/venv-tool.sh TOOL [ARGS...]
set -u
tool=${1:?usage: venv-tool.sh TOOL [ARGS...]}
shift
for venv in "$(git config --get llmops.venv 2>/dev/null)" "${VIRTUAL_ENV:-}" .venv; do
  if [ -n "$venv" ] && [ -x "$venv/bin/$tool" ]; then
    exec "$venv/bin/$tool" "$@"
  fi
done
echo "$tool: not found in the project's virtual environment; run 'make setup' first" >&2
exit 1
