#!/usr/bin/env bash
# Managed by the LLMOps template.
# Lists the use cases a CI/CD run covers and hands them to the jobs that follow.
#   scripts/use-cases.sh [--all | --changed] [--base REF]
# --all (default) takes every use case: each use_cases/<name>/ with an experiment.yaml
# (the rule of `llmops use-cases`, read here without installing the project).
# --changed takes the use cases whose files changed between REF (default HEAD~1, the
# previous commit) and HEAD. A change to shared code, anything outside use_cases/
# except docs, tests, infra and the infrastructure and update pipelines, takes every
# use case; so does a REF that cannot be read (a first commit, a shallow clone).
# Prints the names, one per line. Under Azure Pipelines it also sets the output
# variables matrix ({"<name>": {"useCase": "<name>"}}, for `strategy: matrix`), names
# (space-separated) and count; under GitHub Actions it writes use_cases (a JSON
# array, for `fromJSON`), names and count to $GITHUB_OUTPUT.
set -euo pipefail
export LC_ALL=C

usage() {
  sed -n '4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode=all
base=HEAD~1
while [ $# -gt 0 ]; do
  case "$1" in
    --all) mode=all; shift ;;
    --changed) mode=changed; shift ;;
    --base) [ $# -ge 2 ] || usage; base="$2"; shift 2 ;;
    *) usage ;;
  esac
done

cd "$(dirname "$0")/.."

# Paths whose changes never reach a flow run or a deployment.
not_shared() {
  case "$1" in
    docs/* | tests/* | infra/* | *.md | .gitignore | .gitattributes | .pre-commit-config.yaml | \
      .env.sample | .azure-pipelines/infra.yml | .azure-pipelines/template-update.yml | \
      .azure-pipelines/templates/terraform-* | .github/workflows/infra.yml | \
      .github/workflows/template-update.yml)
      return 0 ;;
  esac
  return 1
}

all=()
for experiment in use_cases/*/experiment.yaml; do
  [ -f "$experiment" ] || continue
  name="${experiment#use_cases/}"
  name="${name%/experiment.yaml}"
  if [[ ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
    echo "use-cases.sh: use case '$name': use letters, digits, '_' and '-' in folder names" >&2
    exit 2
  fi
  all+=("$name")
done

selected=()
if [ "$mode" = all ]; then
  selected=("${all[@]}")
elif ! git rev-parse --verify --quiet "${base}^{commit}" >/dev/null; then
  echo "use-cases.sh: cannot read $base (first commit or shallow clone): taking every use case" >&2
  selected=("${all[@]}")
else
  shared=""
  touched=" "
  while IFS= read -r path; do
    [ -n "$path" ] || continue
    case "$path" in
      use_cases/*/*)
        name="${path#use_cases/}"
        touched+="${name%%/*} "
        ;;
      *)
        if ! not_shared "$path"; then
          shared="$path"
        fi
        ;;
    esac
  done < <(git diff --name-only "$base" HEAD)
  if [ -n "$shared" ]; then
    echo "use-cases.sh: shared code changed ($shared and maybe more): taking every use case" >&2
    selected=("${all[@]}")
  else
    for name in "${all[@]}"; do
      if [[ "$touched" == *" $name "* ]]; then
        selected+=("$name")
      fi
    done
  fi
fi

array=""
matrix=""
for name in "${selected[@]}"; do
  printf '%s\n' "$name"
  array+="${array:+,}\"$name\""
  matrix+="${matrix:+,}\"${name//-/_}\":{\"useCase\":\"$name\"}"
done
names="${selected[*]}"
count="${#selected[@]}"
echo "use-cases.sh: $count of ${#all[@]} use case(s) selected ($mode)" >&2

if [ "${TF_BUILD:-}" = "True" ]; then
  echo "##vso[task.setvariable variable=matrix;isOutput=true]{$matrix}"
  echo "##vso[task.setvariable variable=names;isOutput=true]$names"
  echo "##vso[task.setvariable variable=count;isOutput=true]$count"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "use_cases=[$array]"
    echo "names=$names"
    echo "count=$count"
  } >>"$GITHUB_OUTPUT"
fi
