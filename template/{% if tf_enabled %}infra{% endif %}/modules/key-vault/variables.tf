# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name of the key vault (3-24 letters, digits, single dashes)."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the environment."
  type        = string
}

variable "tenant_id" {
  description = "Entra ID tenant of the vault."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
