# Managed by the LLMOps template: `copier update` rewrites this file.
#
# Credentials come from the environment, never from this file: the pipeline's
# TerraformTaskV4 sets ARM_CLIENT_ID, ARM_TENANT_ID, ARM_SUBSCRIPTION_ID and an OIDC
# token (workload identity federation); locally, `az login` and ARM_SUBSCRIPTION_ID.
provider "azurerm" {
  # The pipeline identity holds rights on its resource group only, so it cannot
  # register resource providers; infra/bootstrap.sh registers them once.
  resource_provider_registrations = "none"
  # Entra ID instead of account keys for any storage data-plane call.
  storage_use_azuread = true

  features {
    key_vault {
      # Purge protection is on: a destroyed vault stays recoverable for the
      # retention period, and a re-created one is recovered instead of purged.
      purge_soft_delete_on_destroy          = false
      purge_soft_deleted_secrets_on_destroy = false
      recover_soft_deleted_key_vaults       = true
      recover_soft_deleted_secrets          = true
    }
    storage {
      # No queue or static-website settings here, so no data-plane reads are needed.
      data_plane_available = false
    }
  }
}

provider "azapi" {}
