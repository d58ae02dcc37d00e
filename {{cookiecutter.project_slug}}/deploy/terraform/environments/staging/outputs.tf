output "url" {
  description = "The service's address through the load balancer; point your domain at load_balancer_dns_name."
  value       = "https://${module.api.load_balancer_dns_name}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer, for your domain's CNAME or alias record."
  value       = module.api.load_balancer_dns_name
}

output "load_balancer_zone_id" {
  description = "Hosted zone of the load balancer, for a Route 53 alias record."
  value       = module.api.load_balancer_zone_id
}

output "provider_secret_names" {
  description = "Secrets to fill with `aws secretsmanager put-secret-value --secret-id NAME --secret-string VALUE`."
  value       = module.secrets.provider_secret_names
}

output "api_log_group" {
  description = "CloudWatch log group of the API tasks."
  value       = module.api.log_group_name
}

output "worker_log_group" {
  description = "CloudWatch log group of the worker tasks."
  value       = module.worker.log_group_name
}

output "migrate_command" {
  description = "Runs `alembic upgrade head` once as a one-off task; run it before each release that adds migrations."
  value = join(" ", [
    "aws ecs run-task --region ${var.region} --cluster ${aws_ecs_cluster.this.name} --launch-type FARGATE",
    "--task-definition ${module.api.task_definition_arn}",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", module.network.private_subnet_ids)}],securityGroups=[${module.network.app_security_group_id}],assignPublicIp=DISABLED}'",
    "--overrides '${jsonencode({ containerOverrides = [{ name = "app", command = ["alembic", "upgrade", "head"] }] })}'",
  ])
}
