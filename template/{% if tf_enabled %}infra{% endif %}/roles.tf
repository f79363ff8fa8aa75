# Managed by the LLMOps template: `copier update` rewrites this file.
#
# Every role this configuration grants, in one table. No identity gets Owner or
# Contributor: each gets the data-plane or workspace role its job needs, scoped to
# one resource. infra/bootstrap.sh allows the pipeline identity to assign exactly
# these roles (and those in kubernetes.tf / app-service.tf) and nothing else.

locals {
  role_assignment_list = [
    # Deployment pipelines (the environment's service connection unless
    # pipeline_principal_id names another identity).
    {
      key          = "pipeline-workspace-data-scientist"
      enabled      = true
      role         = "AzureML Data Scientist"
      scope        = module.ml_workspace.id
      principal_id = local.pipeline_principal_id
      managed      = false
    },
    {
      # Writes the connection secrets below; the variable group reads them.
      key          = "pipeline-key-vault-secrets-officer"
      enabled      = true
      role         = "Key Vault Secrets Officer"
      scope        = module.key_vault.id
      principal_id = local.pipeline_principal_id
      managed      = false
    },
    {
      # Uploads run data and flow snapshots to the workspace datastores.
      key          = "pipeline-storage-blob-data-contributor"
      enabled      = true
      role         = "Storage Blob Data Contributor"
      scope        = module.storage.id
      principal_id = local.pipeline_principal_id
      managed      = false
    },
    {
      # Pushes flow images.
      key          = "pipeline-acr-push"
      enabled      = true
      role         = "AcrPush"
      scope        = module.container_registry.id
      principal_id = local.pipeline_principal_id
      managed      = false
    },
    {
      key          = "pipeline-openai-user"
      enabled      = local.openai_enabled
      role         = "Cognitive Services OpenAI User"
      scope        = one(module.openai[*].id)
      principal_id = local.pipeline_principal_id
      managed      = false
    },
    # Online endpoints: pull the image, read the model, resolve the workspace
    # connections, write metrics, call Azure OpenAI with Entra ID.
    {
      key          = "endpoints-acr-pull"
      enabled      = true
      role         = "AcrPull"
      scope        = module.container_registry.id
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    {
      key          = "endpoints-storage-blob-data-reader"
      enabled      = true
      role         = "Storage Blob Data Reader"
      scope        = module.storage.id
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    {
      key          = "endpoints-workspace-connection-secrets-reader"
      enabled      = true
      role         = "AzureML Workspace Connection Secrets Reader"
      scope        = module.ml_workspace.id
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    {
      key          = "endpoints-workspace-metrics-writer"
      enabled      = true
      role         = "AzureML Metrics Writer (preview)"
      scope        = module.ml_workspace.id
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    {
      key          = "endpoints-key-vault-secrets-user"
      enabled      = true
      role         = "Key Vault Secrets User"
      scope        = module.key_vault.id
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    {
      key          = "endpoints-openai-user"
      enabled      = local.openai_enabled
      role         = "Cognitive Services OpenAI User"
      scope        = one(module.openai[*].id)
      principal_id = azurerm_user_assigned_identity.endpoints.principal_id
      managed      = true
    },
    # Workspace identity: prompt flow runs call Azure OpenAI through the Entra ID
    # connections; with identity-based storage it also reads and writes datastores.
    {
      key          = "workspace-openai-user"
      enabled      = local.openai_enabled
      role         = "Cognitive Services OpenAI User"
      scope        = one(module.openai[*].id)
      principal_id = module.ml_workspace.principal_id
      managed      = true
    },
    {
      key          = "workspace-storage-blob-data-contributor"
      enabled      = !var.storage_shared_key_enabled
      role         = "Storage Blob Data Contributor"
      scope        = module.storage.id
      principal_id = module.ml_workspace.principal_id
      managed      = true
    },
    {
      key          = "workspace-storage-file-data-privileged-contributor"
      enabled      = !var.storage_shared_key_enabled
      role         = "Storage File Data Privileged Contributor"
      scope        = module.storage.id
      principal_id = module.ml_workspace.principal_id
      managed      = true
    },
  ]

  role_assignments = { for item in local.role_assignment_list : item.key => item if item.enabled }
}

resource "azurerm_role_assignment" "this" {
  for_each = local.role_assignments

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = each.value.principal_id
  # Managed identities are brand new: the hint avoids replication-delay failures.
  principal_type = each.value.managed ? "ServicePrincipal" : null
}
