# Managed by the LLMOps template: `copier update` rewrites this file.
# Key vault of the environment: RBAC authorization (no access policies), purge
# protection and 90 days of soft delete. Azure ML keeps workspace secrets here and
# the pipelines' variable group reads the connection secrets from it.

resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV_AZURE_109:Microsoft-hosted pipeline agents and Azure ML reach the vault over the internet from changing addresses; access is Entra ID + RBAC only.
  #checkov:skip=CKV_AZURE_189:Same reason: public network access stays on until the project runs self-hosted agents in a virtual network.
  #checkov:skip=CKV2_AZURE_32:Private endpoints need a virtual network and private DNS, which this template does not create.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  tenant_id                     = var.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 90
  public_network_access_enabled = true
  tags                          = var.tags

  network_acls {
    bypass         = "AzureServices"
    default_action = "Allow"
  }
}
