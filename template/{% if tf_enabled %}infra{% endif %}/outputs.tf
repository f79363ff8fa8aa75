# Managed by the LLMOps template: `copier update` rewrites this file.
# What the deployment pipelines and the llmops CLI read after an apply
# (terraform output -json).

output "environment" {
  description = "Environment these resources belong to."
  value       = var.environment
}

output "resource_group_name" {
  description = "Resource group of the environment."
  value       = data.azurerm_resource_group.this.name
}

output "location" {
  description = "Azure region of the environment's resources."
  value       = var.location
}

output "ml_workspace_name" {
  description = "Azure ML workspace the flows run and deploy in."
  value       = module.ml_workspace.name
}

output "ml_workspace_id" {
  description = "ID of the Azure ML workspace."
  value       = module.ml_workspace.id
}

output "ml_workspace_connections" {
  description = "Azure OpenAI workspace connections (named after the connection answers)."
  value       = module.ml_workspace.connection_names
}

output "key_vault_name" {
  description = "Key vault of the environment (link the ADO variable group to it)."
  value       = module.key_vault.name
}

output "key_vault_uri" {
  description = "URI of the key vault."
  value       = module.key_vault.uri
}

output "storage_account_name" {
  description = "Default storage account of the workspace."
  value       = module.storage.name
}

output "container_registry_name" {
  description = "Container registry for flow images."
  value       = module.container_registry.name
}

output "container_registry_login_server" {
  description = "Login server of the container registry."
  value       = module.container_registry.login_server
}

output "openai_account_name" {
  description = "Azure OpenAI account (null without azure_openai connections)."
  value       = one(module.openai[*].name)
}

output "openai_endpoint" {
  description = "Endpoint of the Azure OpenAI account (null without azure_openai connections)."
  value       = one(module.openai[*].endpoint)
}

output "openai_deployments" {
  description = "Model and version of each Azure OpenAI deployment, by deployment name."
  value       = try(module.openai[0].deployments, {})
}

output "openai_secret_names" {
  description = "Key vault secrets holding each azure_openai connection's API key and endpoint."
  value = {
    for name, stem in local.openai_secret_connections :
    name => { api_key = "${stem}-api-key", api_base = "${stem}-api-base" }
  }
}

output "endpoint_identity_id" {
  description = "Resource ID of the online endpoints' user-assigned identity."
  value       = azurerm_user_assigned_identity.endpoints.id
}

output "endpoint_identity_client_id" {
  description = "Client ID of the online endpoints' user-assigned identity."
  value       = azurerm_user_assigned_identity.endpoints.client_id
}

output "log_analytics_workspace_id" {
  description = "ID of the Log Analytics workspace."
  value       = module.monitoring.log_analytics_workspace_id
}

output "application_insights_connection_string" {
  description = "Connection string of Application Insights (for endpoint and flow tracing)."
  value       = module.monitoring.app_insights_connection_string
  sensitive   = true
}
