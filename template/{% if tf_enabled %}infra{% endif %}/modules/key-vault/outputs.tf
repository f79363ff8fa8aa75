# Managed by the LLMOps template: `copier update` rewrites this file.

output "id" {
  description = "ID of the key vault."
  value       = azurerm_key_vault.this.id
}

output "name" {
  description = "Name of the key vault."
  value       = azurerm_key_vault.this.name
}

output "uri" {
  description = "URI of the key vault."
  value       = azurerm_key_vault.this.vault_uri
}
