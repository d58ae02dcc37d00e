output "kms_key_arn" {
  description = "The deployment's KMS key: secrets, log groups, database and cache storage."
  value       = aws_kms_key.this.arn
}

output "signing_key_secret_arn" {
  description = "ARN of the SECRET_KEY secret (the ARN only, never the value)."
  value       = aws_secretsmanager_secret.signing_key.arn
}

output "provider_secret_arns" {
  description = "ARN of each provider key's secret, by environment variable name."
  value       = { for name, secret in aws_secretsmanager_secret.provider : name => secret.arn }
}

output "provider_secret_names" {
  description = "Name of each provider key's secret, for `aws secretsmanager put-secret-value --secret-id`."
  value       = sort([for secret in aws_secretsmanager_secret.provider : secret.name])
}
