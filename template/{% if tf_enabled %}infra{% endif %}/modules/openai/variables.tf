# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name and custom subdomain of the account."
  type        = string
}

variable "location" {
  description = "Azure region (must offer the deployed models)."
  type        = string
}

variable "resource_group_name" {
  description = "Resource group of the environment."
  type        = string
}

variable "local_auth_enabled" {
  description = "Allow API-key authentication next to Entra ID."
  type        = bool
}

variable "deployment_sku" {
  description = "SKU of every model deployment (GlobalStandard, DataZoneStandard, Standard, ...)."
  type        = string
}

variable "deployments" {
  description = "Model deployments by deployment name."
  type = map(object({
    model    = string
    version  = optional(string)
    capacity = number
  }))
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
