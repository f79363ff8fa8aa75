# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name of the registry (5-50 letters and digits)."
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

variable "sku" {
  description = "Registry SKU (Basic, Standard or Premium)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
