#!/bin/sh
# Managed by the LLMOps template. Starts the prompt flow server of the image on port 8080.
#
# Azure ML online deployments set PRT_CONFIG_OVERRIDE: connections then come from the
# workspace, read with the endpoint's managed identity, and no key reaches the container.
# Elsewhere (App Service, docker run) each connections/<name>.yaml is created from
# <NAME>_API_BASE and <NAME>_API_KEY in the environment (App Service: Key Vault
# references). Nothing here prints a value.
set -eu

cd "${PROMPTFLOW_PROJECT_PATH:-/flow}"
if [ -n "${PRT_CONFIG_OVERRIDE:-}" ]; then
    extension=azureml
else
    extension=local
    for file in "${LLMOPS_CONNECTIONS_DIR:-/connections}"/*.yaml; do
        [ -e "$file" ] || continue
        pf connection create --file "$file" > /dev/null
    done
fi

exec gunicorn --worker-class uvicorn.workers.UvicornWorker \
    --workers "${PROMPTFLOW_WORKER_NUM:-4}" \
    --bind "0.0.0.0:${PORT:-8080}" \
    --timeout 300 \
    "promptflow.core._serving.app:create_app(engine='fastapi', extension_type='${extension}')"
