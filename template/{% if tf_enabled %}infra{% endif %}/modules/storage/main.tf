# Managed by the LLMOps template: `copier update` rewrites this file.
# Default storage of the Azure ML workspace (datastores, run outputs, flow
# snapshots): no anonymous blob access, TLS 1.2, HTTPS only, soft delete for blobs
# and containers. Shared-key access follows var.shared_key_enabled (see
# docs/infrastructure.md, "Storage and shared keys").

resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV_AZURE_33:Azure ML uses no queues, and queue logging needs data-plane access that the pipeline identity does not have.
  #checkov:skip=CKV_AZURE_59:Azure ML compute, Microsoft-hosted agents and the studio reach the storage from changing addresses; there is no anonymous access.
  #checkov:skip=CKV_AZURE_206:Zone-redundant (ZRS) by default; geo-replication is a per-environment choice (storage_replication_type).
  #checkov:skip=CKV2_AZURE_1:Data is encrypted with Microsoft-managed keys; customer-managed keys are an organisation-level key decision.
  #checkov:skip=CKV2_AZURE_33:Private endpoints need a virtual network and private DNS, which this template does not create.
  #checkov:skip=CKV2_AZURE_40:Azure ML supports workspaces on shared-key-disabled storage only in preview; set storage_shared_key_enabled = false per environment to opt in.
  name                             = var.name
  location                         = var.location
  resource_group_name              = var.resource_group_name
  account_kind                     = "StorageV2"
  account_tier                     = "Standard"
  account_replication_type         = var.replication_type
  min_tls_version                  = "TLS1_2"
  https_traffic_only_enabled       = true
  allow_nested_items_to_be_public  = false
  shared_access_key_enabled        = var.shared_key_enabled
  default_to_oauth_authentication  = true
  cross_tenant_replication_enabled = false
  local_user_enabled               = false
  tags                             = var.tags

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "01.00:00:00"
    expiration_action = "Log"
  }

  lifecycle {
    # Azure ML adds the CORS rules its studio needs; keep Terraform from removing them.
    ignore_changes = [blob_properties[0].cors_rule]
  }
}
