# Managed by the LLMOps template: `copier update` rewrites this file.

output "id" {
  description = "ID of the cluster."
  value       = azurerm_kubernetes_cluster.this.id
}

output "name" {
  description = "Name of the cluster."
  value       = azurerm_kubernetes_cluster.this.name
}

output "kubelet_object_id" {
  description = "Object ID of the kubelet identity (pulls images)."
  value       = azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id
}

output "compute_name" {
  description = "Name of the Kubernetes compute in the workspace."
  value       = azapi_resource.compute.name
}
