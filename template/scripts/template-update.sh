#!/usr/bin/env bash
# Managed by the LLMOps template.
# Proposes the latest template version on a branch: check, update, commit.
#   scripts/template-update.sh [--base BRANCH]
# Exit 0 when up to date or when a branch was committed; the branch name and the
# files with conflict markers are printed, and handed to the next step: pipeline
# variables under Azure Pipelines (templateUpdateBranch, templateUpdateVersion,
# templateUpdateConflicts), step outputs under GitHub Actions (branch, version,
# conflicts). Needs copier and copier-template-extensions on PATH.
set -euo pipefail

base="$(git rev-parse --abbrev-ref HEAD)"
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    *) echo "usage: $0 [--base BRANCH]" >&2; exit 2 ;;
  esac
done

if [ -n "$(git status --porcelain)" ]; then
  echo "The work tree is not clean: commit or stash first (copier update refuses dirty projects)." >&2
  exit 1
fi

status=0
copier check-update --quiet || status=$?
if [ "$status" -eq 0 ]; then
  echo "Already on the latest template version."
  exit 0
elif [ "$status" -ne 2 ]; then
  echo "copier check-update failed (exit $status)." >&2
  exit "$status"
fi

latest="$(copier check-update --output-format json \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["latest_version"])')"
branch="template-update/${latest}"
for ref in "refs/heads/${branch}" "refs/remotes/origin/${branch}"; do
  if git rev-parse --verify --quiet "${ref}" >/dev/null; then
    echo "Branch ${branch} already exists: the update was proposed before."
    exit 0
  fi
done

# CI checkouts may hold the base branch only as origin/<base> (a detached HEAD).
start="${base}"
if ! git rev-parse --verify --quiet "refs/heads/${base}" >/dev/null &&
  git rev-parse --verify --quiet "refs/remotes/origin/${base}" >/dev/null; then
  start="origin/${base}"
fi
git switch --quiet -c "${branch}" "${start}"
if ! copier update --trust --defaults --skip-answered --conflict inline; then
  echo "copier update failed: restoring ${base}." >&2
  git reset --quiet --hard
  git clean --quiet -fd
  git switch --quiet "${base}"
  git branch --quiet -D "${branch}"
  exit 1
fi

conflicts="$(git diff --name-only --diff-filter=U | tr '\n' ' ')"
git add -A
git commit --quiet --no-verify -m "Update from the LLMOps template to ${latest}"
echo "Committed the update on ${branch}."
if [ -n "${conflicts}" ]; then
  echo "Files with conflict markers to resolve: ${conflicts}"
fi
if [ "${TF_BUILD:-}" = "True" ]; then
  echo "##vso[task.setvariable variable=templateUpdateBranch]${branch}"
  echo "##vso[task.setvariable variable=templateUpdateVersion]${latest}"
  echo "##vso[task.setvariable variable=templateUpdateConflicts]${conflicts}"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "branch=${branch}"
    echo "version=${latest}"
    echo "conflicts=${conflicts}"
  } >>"${GITHUB_OUTPUT}"
fi
