# Managed by the LLMOps template: `copier update` rewrites this file.

output "id" {
  description = "ID of the account."
  value       = azurerm_cognitive_account.this.id
}

output "name" {
  description = "Name of the account."
  value       = azurerm_cognitive_account.this.name
}

output "endpoint" {
  description = "Endpoint of the account (https://<name>.openai.azure.com/)."
  value       = azurerm_cognitive_account.this.endpoint
}

output "primary_access_key" {
  description = "Primary API key; null when local authentication is disabled."
  value       = azurerm_cognitive_account.this.primary_access_key
  sensitive   = true
}

output "deployments" {
  description = "Model and version of each deployment, by deployment name."
  value = {
    for name, deployment in azurerm_cognitive_deployment.this :
    name => { model = deployment.model[0].name, version = deployment.model[0].version }
  }
}
