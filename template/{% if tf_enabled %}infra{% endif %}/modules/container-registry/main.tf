# Managed by the LLMOps template: `copier update` rewrites this file.
# Registry for flow images (Azure ML environments, App Service and Docker targets).
# No admin user: every client pulls or pushes with its own Entra ID identity.

resource "azurerm_container_registry" "this" {
  #checkov:skip=CKV_AZURE_139:Microsoft-hosted agents push and Azure ML pulls from changing addresses; public access needs an Entra ID identity with AcrPush or AcrPull.
  #checkov:skip=CKV_AZURE_164:Docker Content Trust is being retired by Azure Container Registry; sign images with Notation when the project needs signed images.
  #checkov:skip=CKV_AZURE_165:Geo-replication is Premium-only and serves multi-region deployments; each environment here lives in one region.
  #checkov:skip=CKV_AZURE_166:Quarantine blocks every pull until a scanner releases the image, and no scanner is configured, so deployments would hang.
  #checkov:skip=CKV_AZURE_233:Zone redundancy is Premium-only and fixed at creation; choose acr_sku = "Premium" in the environment's tfvars before the first apply.
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = var.sku
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = true
  # Premium-only features, on whenever the SKU allows them.
  retention_policy_in_days = var.sku == "Premium" ? 7 : null
  data_endpoint_enabled    = var.sku == "Premium"
  tags                     = var.tags
}
