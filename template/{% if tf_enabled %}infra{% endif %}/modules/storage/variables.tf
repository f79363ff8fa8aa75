# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name of the storage account (3-24 lowercase letters and digits)."
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

variable "replication_type" {
  description = "Replication type (LRS, ZRS, GRS, GZRS, ...)."
  type        = string
}

variable "shared_key_enabled" {
  description = "Allow shared-key (account key) authorization."
  type        = bool
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
