output "service_name" {
  description = "The ECS service's name."
  value       = aws_ecs_service.this.name
}

output "task_definition_arn" {
  description = "The task definition the service runs (also usable for one-off tasks)."
  value       = aws_ecs_task_definition.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the containers."
  value       = aws_cloudwatch_log_group.this.name
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point your domain's record at it); null without one."
  value       = local.exposed ? aws_lb.this[0].dns_name : null
}

output "load_balancer_zone_id" {
  description = "Hosted zone of the load balancer, for a Route 53 alias record; null without one."
  value       = local.exposed ? aws_lb.this[0].zone_id : null
}
