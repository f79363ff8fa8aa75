# Managed by the LLMOps template: `copier update` rewrites this file.

output "id" {
  description = "ID of the plan."
  value       = azurerm_service_plan.this.id
}

output "name" {
  description = "Name of the plan."
  value       = azurerm_service_plan.this.name
}
