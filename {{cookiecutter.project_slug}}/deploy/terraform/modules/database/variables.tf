variable "name" {
  description = "Prefix for every resource's name; also the RDS instance identifier."
  type        = string
}

variable "vpc_id" {
  description = "VPC the database lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (two zones or more) for the database."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group allowed to connect on 5432 (the service tasks')."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for storage, Performance Insights and the DATABASE_URL secret."
  type        = string
}

variable "engine_major_version" {
  description = "PostgreSQL major version; minor upgrades are applied automatically."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro for staging, db.m7g.large for production."
  type        = string
  default     = "db.t4g.micro"
}

variable "allocated_storage_gb" {
  description = "Initial storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "database_name" {
  description = "Name of the application's database."
  type        = string
  default     = "app"
}

variable "username" {
  description = "Master user name (the service connects as this user)."
  type        = string
  default     = "app"
}

variable "password_version" {
  description = "Bump to generate a new master password and rewrite DATABASE_URL with it."
  type        = number
  default     = 1
}

variable "multi_az" {
  description = "A standby in a second zone that takes over on failure."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days automated backups are kept (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is turned off."
  type        = bool
  default     = true
}

variable "slow_query_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500
}

variable "recovery_window_in_days" {
  description = "Days the deleted DATABASE_URL secret can still be restored (0 or 7 to 30)."
  type        = number
  default     = 30
}
