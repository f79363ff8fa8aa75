#!/usr/bin/env bash
# Managed by the LLMOps template: `copier update` rewrites this file.
#
# Terraform steps of the infrastructure pipeline, kept in one script so they can be
# linted and tried locally.
#   infra/pipeline.sh install              install the pinned Terraform on the agent
#   infra/pipeline.sh plan <environment>   init, fmt check, validate, plan -> tfplan, summary
#   infra/pipeline.sh apply <environment>  init with the plan's lock file, apply tfplan
#   infra/pipeline.sh summary <environment>  tfplan -> tfplan.txt and a short summary
# GitHub Actions runs install, plan and apply: the job has `id-token: write` and the
# environment's AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID variables;
# Terraform and its providers request fresh federated tokens themselves, and
# credentials reach Terraform as environment variables, never as arguments.
# Azure Pipelines runs init, validate, plan and apply with Microsoft's Terraform tasks
# (.azure-pipelines/templates/terraform-*.yml) and only `summary` from here.
# On a workstation, plan uses your `az login` (read-only use is the safe one).
set -euo pipefail

readonly TERRAFORM_VERSION="1.15.5"

cd "$(dirname "$0")"

install_terraform() {
  local dir="${AGENT_TOOLSDIRECTORY:-$HOME/.cache}/terraform/$TERRAFORM_VERSION"
  if [[ ! -x "$dir/terraform" ]]; then
    local tmp base="https://releases.hashicorp.com/terraform/$TERRAFORM_VERSION"
    local zip="terraform_${TERRAFORM_VERSION}_linux_amd64.zip"
    tmp=$(mktemp -d)
    curl --fail --silent --show-error --location --output "$tmp/$zip" "$base/$zip"
    curl --fail --silent --show-error --location \
      --output "$tmp/SHA256SUMS" "$base/terraform_${TERRAFORM_VERSION}_SHA256SUMS"
    (cd "$tmp" && grep " $zip\$" SHA256SUMS | sha256sum --check --status)
    mkdir -p "$dir"
    unzip -o -q "$tmp/$zip" terraform -d "$dir"
    rm -rf "$tmp"
  fi
  if on_github; then
    echo "$dir" >>"$GITHUB_PATH"
  elif [[ -n "${TF_BUILD:-}" ]]; then
    echo "##vso[task.prependpath]$dir"
  else
    echo "Terraform $TERRAFORM_VERSION is in $dir: add it to PATH"
  fi
  "$dir/terraform" version
}

on_github() {
  [[ "${GITHUB_ACTIONS:-}" == "true" ]]
}

authenticate_github() {
  : "${ACTIONS_ID_TOKEN_REQUEST_URL:?give the job the permission id-token: write}"
  : "${AZURE_CLIENT_ID:?set the GitHub environment variable AZURE_CLIENT_ID}"
  : "${AZURE_TENANT_ID:?set the GitHub environment variable AZURE_TENANT_ID}"
  : "${AZURE_SUBSCRIPTION_ID:?set the GitHub environment variable AZURE_SUBSCRIPTION_ID}"
  # The providers and the azurerm backend read ACTIONS_ID_TOKEN_REQUEST_URL and
  # ACTIONS_ID_TOKEN_REQUEST_TOKEN themselves.
  export ARM_USE_OIDC=true
  export ARM_CLIENT_ID="$AZURE_CLIENT_ID"
  export ARM_TENANT_ID="$AZURE_TENANT_ID"
  export ARM_SUBSCRIPTION_ID="$AZURE_SUBSCRIPTION_ID"
}

authenticate() {
  if on_github; then
    authenticate_github
  fi
  # Elsewhere the providers use the Azure CLI sign-in (az login).
}

check_environment() {
  [[ -f "environments/$1.tfvars" && -f "environments/$1.backend.hcl" ]] ||
    { echo "pipeline.sh: unknown environment '$1' (no environments/$1.tfvars and .backend.hcl)" >&2; exit 2; }
}

plan() {
  local env_name="$1" rc=0 changes
  check_environment "$env_name"
  authenticate
  terraform init -input=false -backend-config="environments/$env_name.backend.hcl"
  terraform fmt -check -recursive
  terraform validate
  terraform plan -input=false -detailed-exitcode \
    -var-file="environments/$env_name.tfvars" -out=tfplan || rc=$?
  case "$rc" in
    0) changes=false ;;
    2) changes=true ;;
    *) exit "$rc" ;;
  esac
  summary "$env_name"
  if on_github; then
    echo "changes_present=$changes" >>"$GITHUB_OUTPUT"
  else
    echo "changes present: $changes"
  fi
}

summary() {
  local env_name="$1"
  check_environment "$env_name"
  [[ -f tfplan ]] || { echo "pipeline.sh: no tfplan here; run the plan first" >&2; exit 2; }
  terraform show -no-color tfplan >tfplan.txt
  {
    echo "## Terraform plan: $env_name"
    echo
    echo '```'
    grep -E '^(Plan:|No changes\.|  # )' tfplan.txt || true
    echo '```'
    echo
    echo "Full plan: artifact tfplan-$env_name, file tfplan.txt."
  } >tfplan.md
  if on_github; then
    cat tfplan.md >>"$GITHUB_STEP_SUMMARY"
  elif [[ -n "${TF_BUILD:-}" ]]; then
    echo "##vso[task.uploadsummary]$PWD/tfplan.md"
  else
    cat tfplan.md
  fi
}

apply() {
  local env_name="$1"
  check_environment "$env_name"
  [[ -f tfplan && -f .terraform.lock.hcl ]] || { echo "pipeline.sh: tfplan or .terraform.lock.hcl missing" >&2; exit 2; }
  authenticate
  terraform init -input=false -lockfile=readonly -backend-config="environments/$env_name.backend.hcl"
  terraform apply -input=false tfplan
}

case "${1:-}:$#" in
  install:1) install_terraform ;;
  plan:2) plan "$2" ;;
  apply:2) apply "$2" ;;
  summary:2) summary "$2" ;;
  *)
    sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
