# Managed by the LLMOps template: `copier update` rewrites this file.
# Azure ML workspace wired to the environment's key vault, storage, registry and
# Application Insights, with a system-assigned identity, plus one workspace
# connection per azure_openai connection answer. The connections use Entra ID
# (authType AAD): prompt flow and the endpoints call Azure OpenAI with their own
# identity and no key is copied into the workspace.
#
# azurerm 4 has no resource for Azure ML workspace connections, so they are
# created with azapi against the ARM API version below.

terraform {
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
    azapi = {
      source = "Azure/azapi"
    }
  }
}

resource "azurerm_machine_learning_workspace" "this" {
  #checkov:skip=CKV_AZURE_144:Microsoft-hosted agents and developers reach the workspace over the internet; a private workspace needs a virtual network and self-hosted agents.
  #checkov:skip=CKV2_AZURE_49:Same reason: the workspace has no managed or private network in this template.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  application_insights_id       = var.application_insights_id
  key_vault_id                  = var.key_vault_id
  storage_account_id            = var.storage_account_id
  container_registry_id         = var.container_registry_id
  public_network_access_enabled = true
  storage_account_access_type   = var.storage_identity_access ? "Identity" : "AccessKey"
  v1_legacy_mode_enabled        = false
  sku_name                      = "Basic"
  tags                          = var.tags

  # Not a high-business-impact workspace. HBI data needs private storage and a new
  # workspace (the flag is fixed at creation).
  high_business_impact = false

  identity {
    type = "SystemAssigned"
  }
}

resource "azapi_resource" "openai_connection" {
  for_each = var.openai_connections

  type      = "Microsoft.MachineLearningServices/workspaces/connections@2024-10-01"
  name      = each.key
  parent_id = azurerm_machine_learning_workspace.this.id

  body = {
    properties = {
      category      = "AzureOpenAI"
      authType      = "AAD"
      target        = var.openai_endpoint
      isSharedToAll = true
      metadata = {
        ApiType    = "Azure"
        ApiVersion = each.value.api_version
        ResourceId = var.openai_account_id
      }
    }
  }
}
