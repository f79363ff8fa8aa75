# Managed by the LLMOps template: `copier update` rewrites this file.

variable "log_analytics_name" {
  description = "Name of the Log Analytics workspace."
  type        = string
}

variable "app_insights_name" {
  description = "Name of the Application Insights component."
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

variable "retention_days" {
  description = "Days logs and telemetry are kept."
  type        = number
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
}
