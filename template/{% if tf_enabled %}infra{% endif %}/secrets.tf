# Managed by the LLMOps template: `copier update` rewrites this file.
#
# While API keys are allowed on the Azure OpenAI account, each azure_openai
# connection's key and endpoint go to the key vault as <name>-api-key and
# <name>-api-base (underscores become dashes), where the environment's
# Key Vault-linked variable group picks them up for the pipelines. The account key
# is in the Terraform state either way; see docs/infrastructure.md, "Secrets".

# Role assignments take a while to reach the key vault's data plane.
resource "time_sleep" "key_vault_rbac" {
  create_duration = "${var.rbac_propagation_seconds}s"

  triggers = {
    role_assignment_id = azurerm_role_assignment.this["pipeline-key-vault-secrets-officer"].id
  }
}

locals {
  openai_secret_connections = {
    for name, connection in local.openai_connections :
    name => replace(lower(name), "_", "-") if var.openai_local_auth_enabled
  }
}

resource "azurerm_key_vault_secret" "openai_api_key" {
  #checkov:skip=CKV_AZURE_41:The value is the account key, rotated by regenerating it on the account; an expiry would silently break the pipelines' variable group.
  for_each = local.openai_secret_connections

  name         = "${each.value}-api-key"
  value        = module.openai[0].primary_access_key
  key_vault_id = module.key_vault.id
  content_type = "text/plain"
  tags         = local.tags

  depends_on = [time_sleep.key_vault_rbac]
}

resource "azurerm_key_vault_secret" "openai_api_base" {
  #checkov:skip=CKV_AZURE_41:The endpoint URL does not expire; it is stored as a secret only so the Key Vault-linked variable group can serve it.
  for_each = local.openai_secret_connections

  name         = "${each.value}-api-base"
  value        = module.openai[0].endpoint
  key_vault_id = module.key_vault.id
  content_type = "text/uri-list"
  tags         = local.tags

  depends_on = [time_sleep.key_vault_rbac]
}
