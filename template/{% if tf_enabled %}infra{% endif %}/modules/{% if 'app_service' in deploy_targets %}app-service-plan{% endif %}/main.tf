# Managed by the LLMOps template: `copier update` rewrites this file.
# Linux App Service plan for flow containers. The web app itself is created by the
# deployment pipeline with the app identity from app-service.tf.

resource "azurerm_service_plan" "this" {
  #checkov:skip=CKV_AZURE_212:Instance count is per environment (app_service_worker_count); one instance keeps development environments affordable.
  #checkov:skip=CKV_AZURE_225:Zone balancing is per environment (app_service_zone_balancing) because it needs 2+ instances and a zonal region.
  name                   = var.name
  location               = var.location
  resource_group_name    = var.resource_group_name
  os_type                = "Linux"
  sku_name               = var.sku_name
  worker_count           = var.worker_count
  zone_balancing_enabled = var.zone_balancing_enabled
  tags                   = var.tags
}
