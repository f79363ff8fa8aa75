# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name of the plan."
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

variable "sku_name" {
  description = "SKU of the plan."
  type        = string
}

variable "worker_count" {
  description = "Number of instances."
  type        = number
}

variable "zone_balancing_enabled" {
  description = "Spread instances across availability zones."
  type        = bool
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
