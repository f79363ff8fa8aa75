#!/bin/sh
# Managed by the LLMOps template. Prints the path of a Python interpreter of the
# version given (e.g. 3.12), so `make setup` never asks uv to download one (which
# fails offline). Looks at, in order: pythonX.Y on PATH, uv's known interpreters,
# pyenv's versions, python3 on PATH, and the usual install folders. Override with
# `make setup PYTHON=/path/to/python3.12`.
set -u
want=${1:?usage: find-python.sh VERSION}

works() {  # the candidate runs and is the wanted version
  [ -n "$1" ] && "$1" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$want')" >/dev/null 2>&1
}

candidates() {
  command -v "python$want" 2>/dev/null
  if command -v uv >/dev/null 2>&1; then
    UV_PYTHON_DOWNLOADS=never uv python find --no-project "$want" 2>/dev/null
  fi
  root=${PYENV_ROOT:-$HOME/.pyenv}
  for dir in "$root"/versions/"$want".*; do
    [ -x "$dir/bin/python$want" ] && echo "$dir/bin/python$want"
  done
  command -v python3 2>/dev/null
  for dir in /usr/local/bin /usr/bin /opt/homebrew/bin "$HOME/.local/bin"; do
    echo "$dir/python$want"
  done
}

found=$(candidates | while IFS= read -r candidate; do
  if works "$candidate"; then
    # A pyenv shim is a script that runs another interpreter: print the real one.
    "$candidate" -c "import sys; print(sys.executable)"
    break
  fi
done)
if [ -n "$found" ]; then
  echo "$found"
  exit 0
fi
echo "No Python $want found (looked on PATH, in uv's and pyenv's interpreters)." >&2
echo "Install it (uv python install $want, pyenv install $want, or your OS package)" >&2
echo "or point at one: make setup PYTHON=/path/to/python$want" >&2
exit 1
