# Managed by the LLMOps template: `copier update` rewrites this file.

output "id" {
  description = "ID of the workspace."
  value       = azurerm_machine_learning_workspace.this.id
}

output "name" {
  description = "Name of the workspace."
  value       = azurerm_machine_learning_workspace.this.name
}

output "principal_id" {
  description = "Object ID of the workspace's system-assigned identity."
  value       = azurerm_machine_learning_workspace.this.identity[0].principal_id
}

output "connection_names" {
  description = "Names of the Azure OpenAI workspace connections."
  value       = sort(keys(azapi_resource.openai_connection))
}
