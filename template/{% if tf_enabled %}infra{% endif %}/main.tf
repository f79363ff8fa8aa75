# Managed by the LLMOps template: `copier update` rewrites this file. Put your own
# resources in files the template does not ship (for example custom.tf).

data "azurerm_client_config" "current" {}

# The resource group is created once by infra/bootstrap.sh, which also grants the
# environment's pipeline identity its rights on this group only (nothing at
# subscription scope), so Terraform reads it instead of creating it.
data "azurerm_resource_group" "this" {
  name = local.names.resource_group
}

module "monitoring" {
  source = "./modules/monitoring"

  log_analytics_name  = local.names.log_analytics
  app_insights_name   = local.names.app_insights
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  retention_days      = var.log_retention_days
  tags                = local.tags
}

module "key_vault" {
  source = "./modules/key-vault"

  name                = local.names.key_vault
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  tags                = local.tags
}

module "storage" {
  source = "./modules/storage"

  name                = local.names.storage_account
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  replication_type    = var.storage_replication_type
  shared_key_enabled  = var.storage_shared_key_enabled
  tags                = local.tags
}

module "container_registry" {
  source = "./modules/container-registry"

  name                = local.names.container_registry
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  sku                 = var.acr_sku
  tags                = local.tags
}

module "openai" {
  source = "./modules/openai"
  count  = local.openai_enabled ? 1 : 0

  name                = local.names.openai_account
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  local_auth_enabled  = var.openai_local_auth_enabled
  deployment_sku      = var.openai_deployment_sku
  deployments         = local.openai_deployments
  tags                = local.tags
}

module "ml_workspace" {
  source = "./modules/ml-workspace"

  name                    = local.names.ml_workspace
  location                = var.location
  resource_group_name     = data.azurerm_resource_group.this.name
  application_insights_id = module.monitoring.app_insights_id
  key_vault_id            = module.key_vault.id
  storage_account_id      = module.storage.id
  container_registry_id   = module.container_registry.id
  storage_identity_access = !var.storage_shared_key_enabled
  openai_connections      = local.openai_connections
  openai_endpoint         = one(module.openai[*].endpoint)
  openai_account_id       = one(module.openai[*].id)
  tags                    = local.tags
}

# Identity of the Azure ML online endpoints (managed and Kubernetes): the
# deployment configuration assigns it, roles.tf gives it what scoring needs.
resource "azurerm_user_assigned_identity" "endpoints" {
  name                = local.names.endpoint_identity
  location            = var.location
  resource_group_name = data.azurerm_resource_group.this.name
  tags                = local.tags
}
