# Managed by the LLMOps template: `copier update` rewrites this file.
# AKS cluster for Azure ML Kubernetes online endpoints: the Azure ML extension
# (inference only) and the cluster attached to the workspace as a Kubernetes
# compute. Entra ID + Azure RBAC only (no local accounts), Azure CNI overlay with
# network policy, Azure Policy, Container Insights and automatic patch upgrades.

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

locals {
  tls_enabled = var.tls_certificate_name != ""
  # A custom default instance type gets modest requests and limits; tune them on
  # the compute in Azure ML studio (defaultinstancetype is the extension's own).
  instance_types = var.instance_type == "defaultinstancetype" ? {} : {
    (var.instance_type) = {
      resources = {
        requests = { cpu = "500m", memory = "2Gi" }
        limits   = { cpu = "2", memory = "4Gi" }
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "this" {
  #checkov:skip=CKV_AZURE_6:Microsoft-hosted agents and Azure ML reach the API server from changing addresses; access needs Entra ID and Azure RBAC.
  #checkov:skip=CKV_AZURE_115:A private cluster needs a virtual network, private DNS and self-hosted agents, which this template does not create.
  #checkov:skip=CKV_AZURE_117:Disks use platform-managed encryption; a customer-managed disk encryption set is an organisation-level key decision.
  #checkov:skip=CKV_AZURE_227:Encryption at host needs the EncryptionAtHost feature registered on the subscription, which the pipeline identity cannot do.
  #checkov:skip=CKV_AZURE_232:One autoscaled pool runs the system and Azure ML inference pods to keep small environments affordable; add a user pool in a custom file for heavy traffic.
  name                              = var.name
  location                          = var.location
  resource_group_name               = var.resource_group_name
  dns_prefix                        = var.name
  sku_tier                          = var.sku_tier
  automatic_upgrade_channel         = "patch"
  node_os_upgrade_channel           = "NodeImage"
  local_account_disabled            = true
  role_based_access_control_enabled = true
  azure_policy_enabled              = true
  tags                              = var.tags

  default_node_pool {
    name                        = "system"
    temporary_name_for_rotation = "systemtmp"
    vm_size                     = var.node_vm_size
    os_disk_type                = "Ephemeral"
    os_disk_size_gb             = var.os_disk_size_gb
    auto_scaling_enabled        = true
    min_count                   = var.node_count
    max_count                   = var.node_max_count
    max_pods                    = 50

    upgrade_settings {
      max_surge = "10%"
    }
  }

  identity {
    type = "SystemAssigned"
  }

  azure_active_directory_role_based_access_control {
    tenant_id          = var.tenant_id
    azure_rbac_enabled = true
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    network_policy      = "azure"
    load_balancer_sku   = "standard"
  }

  oms_agent {
    log_analytics_workspace_id      = var.log_analytics_workspace_id
    msi_auth_for_monitoring_enabled = true
  }

  key_vault_secrets_provider {
    secret_rotation_enabled = true
  }
}

# HTTPS for the scoring router: a certificate (PEM, with its key) from the
# project key vault. Without one, scoring is served over plain HTTP.
data "azurerm_key_vault_certificate_data" "tls" {
  count = local.tls_enabled ? 1 : 0

  name         = var.tls_certificate_name
  key_vault_id = var.key_vault_id
}

resource "azurerm_kubernetes_cluster_extension" "azureml" {
  name              = "azureml"
  cluster_id        = azurerm_kubernetes_cluster.this.id
  extension_type    = "Microsoft.AzureML.Kubernetes"
  release_train     = "stable"
  release_namespace = "azureml"

  configuration_settings = merge(
    {
      enableTraining             = "False"
      enableInference            = "True"
      inferenceRouterServiceType = "LoadBalancer"
      inferenceRouterHA          = var.node_count >= 3 ? "True" : "False"
      allowInsecureConnections   = local.tls_enabled ? "False" : "True"
      clusterPurpose             = "FastProd"
      clusterId                  = azurerm_kubernetes_cluster.this.id
      cluster_name               = azurerm_kubernetes_cluster.this.id
      cluster_name_friendly      = azurerm_kubernetes_cluster.this.name
      location                   = var.location
      jobSchedulerLocation       = var.location
      domain                     = "${var.location}.cloudapp.azure.com"
      "relayserver.enabled"      = "false"
      "servicebus.enabled"       = "false"
      installNvidiaDevicePlugin  = "False"
      installDcgmExporter        = "False"
      installPromOp              = "True"
      installVolcano             = "False"
    },
    local.tls_enabled ? { sslCname = var.tls_cname } : {},
  )

  configuration_protected_settings = local.tls_enabled ? {
    "scoringFe.sslCert" = base64encode(data.azurerm_key_vault_certificate_data.tls[0].pem)
    "scoringFe.sslKey"  = base64encode(data.azurerm_key_vault_certificate_data.tls[0].key)
  } : {}
}

resource "azapi_resource" "compute" {
  type      = "Microsoft.MachineLearningServices/workspaces/computes@2024-10-01"
  name      = var.compute_name
  parent_id = var.workspace_id
  location  = var.location

  body = {
    properties = {
      computeType = "Kubernetes"
      resourceId  = azurerm_kubernetes_cluster.this.id
      description = "AKS cluster for Azure ML Kubernetes online endpoints"
      properties = {
        namespace           = "default"
        defaultInstanceType = var.instance_type
        instanceTypes       = local.instance_types
      }
    }
  }

  depends_on = [azurerm_kubernetes_cluster_extension.azureml]
}
