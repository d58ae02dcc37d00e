output "url" {
  description = "REDIS_URL for the service: TLS to the primary endpoint; it carries no password."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:6379/0"
}
