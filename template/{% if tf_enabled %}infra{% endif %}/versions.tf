# Managed by the LLMOps template: `copier update` rewrites this file. Put your own
# resources in files the template does not ship (for example custom.tf).
terraform {
  required_version = ">= 1.9, < 2.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.77"
    }
    azapi = {
      source  = "Azure/azapi"
      version = "~> 2.6"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13"
    }
  }

  # Partial configuration: each environment's values live in
  # environments/<env>.backend.hcl (terraform init -backend-config=...).
  backend "azurerm" {}
}
