output "url_secret_arn" {
  description = "ARN of the DATABASE_URL secret (the ARN only, never the value)."
  value       = aws_secretsmanager_secret.url.arn
}

output "address" {
  description = "Host name of the database endpoint."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the database endpoint."
  value       = aws_db_instance.this.port
}
