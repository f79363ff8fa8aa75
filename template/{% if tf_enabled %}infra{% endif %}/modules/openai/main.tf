# Managed by the LLMOps template: `copier update` rewrites this file.
# Azure OpenAI account and one model deployment per distinct deployment name of
# the azure_openai connection answers. The custom subdomain is what Entra ID token
# authentication needs; API keys stay available while var.local_auth_enabled is true.

resource "azurerm_cognitive_account" "this" {
  #checkov:skip=CKV_AZURE_134:Microsoft-hosted agents, Azure ML and App Service call the account from changing addresses; access needs Entra ID or a key.
  #checkov:skip=CKV_AZURE_236:The generated llmops CLI authenticates with <CONNECTION>_API_KEY; turn keys off per environment with openai_local_auth_enabled = false.
  #checkov:skip=CKV_AZURE_247:Outbound access is restricted with an empty allow-list, stricter than the check, which expects at least one allowed FQDN.
  #checkov:skip=CKV2_AZURE_22:Data is encrypted with Microsoft-managed keys; customer-managed keys are an organisation-level key decision.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  kind                          = "OpenAI"
  sku_name                      = "S0"
  custom_subdomain_name         = var.name
  local_auth_enabled            = var.local_auth_enabled
  public_network_access_enabled = true
  # No outbound calls from the account (data-loss prevention); the template uses no
  # "on your data" features that would need them.
  outbound_network_access_restricted = true
  fqdns                              = []
  tags                               = var.tags

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_cognitive_deployment" "this" {
  for_each = var.deployments

  name                 = each.key
  cognitive_account_id = azurerm_cognitive_account.this.id
  # A pinned version moves only when Azure retires it; an unpinned one follows the
  # model's default version.
  version_upgrade_option = each.value.version == null ? "OnceNewDefaultVersionAvailable" : "OnceCurrentVersionExpired"

  model {
    format  = "OpenAI"
    name    = each.value.model
    version = each.value.version
  }

  sku {
    name     = var.deployment_sku
    capacity = each.value.capacity
  }
}
