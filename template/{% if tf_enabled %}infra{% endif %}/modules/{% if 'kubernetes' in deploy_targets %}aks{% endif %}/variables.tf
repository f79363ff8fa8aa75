# Managed by the LLMOps template: `copier update` rewrites this file.

variable "name" {
  description = "Name and DNS prefix of the cluster."
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
  description = "Entra ID tenant for cluster RBAC."
  type        = string
}

variable "sku_tier" {
  description = "Control plane tier (Free or Standard)."
  type        = string
}

variable "node_vm_size" {
  description = "VM size of the nodes."
  type        = string
}

variable "os_disk_size_gb" {
  description = "Ephemeral OS disk size of the nodes."
  type        = number
}

variable "node_count" {
  description = "Minimum number of nodes."
  type        = number
}

variable "node_max_count" {
  description = "Maximum number of nodes."
  type        = number
}

variable "log_analytics_workspace_id" {
  description = "Log Analytics workspace for Container Insights."
  type        = string
}

variable "workspace_id" {
  description = "Azure ML workspace the cluster is attached to."
  type        = string
}

variable "compute_name" {
  description = "Name of the Kubernetes compute in the workspace."
  type        = string
}

variable "instance_type" {
  description = "Default instance type of the compute; defaultinstancetype is the one the extension creates."
  type        = string
}

variable "key_vault_id" {
  description = "Key vault holding the optional TLS certificate."
  type        = string
}

variable "tls_certificate_name" {
  description = "Certificate for HTTPS scoring; empty for plain HTTP."
  type        = string
}

variable "tls_cname" {
  description = "Host name of the TLS certificate."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
