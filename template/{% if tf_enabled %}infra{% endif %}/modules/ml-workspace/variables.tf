# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name of the workspace."
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

variable "application_insights_id" {
  description = "Application Insights the workspace reports to."
  type        = string
}

variable "key_vault_id" {
  description = "Key vault of the workspace."
  type        = string
}

variable "storage_account_id" {
  description = "Default storage of the workspace."
  type        = string
}

variable "container_registry_id" {
  description = "Registry for the workspace's environment images."
  type        = string
}

variable "storage_identity_access" {
  description = "Reach the default storage with the workspace identity instead of account keys."
  type        = bool
}

variable "openai_connections" {
  description = "Workspace connections to create, by connection name."
  type = map(object({
    api_version = string
  }))
}

variable "openai_endpoint" {
  description = "Endpoint of the Azure OpenAI account the connections point to."
  type        = string
  default     = null
}

variable "openai_account_id" {
  description = "ID of the Azure OpenAI account the connections point to."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
