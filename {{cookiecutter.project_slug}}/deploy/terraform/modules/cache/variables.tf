variable "name" {
  description = "Prefix for every resource's name; also the replication group id."
  type        = string
}

variable "vpc_id" {
  description = "VPC the cache lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cache nodes."
  type        = list(string)
}

variable "client_security_group_id" {
  description = "Security group allowed to connect on 6379 (the service tasks')."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and the slow-log group."
  type        = string
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

variable "node_type" {
  description = "Cache node type, e.g. cache.t4g.micro for staging."
  type        = string
  default     = "cache.t4g.small"
}

variable "replicas" {
  description = "Read replicas beside the primary; one or more turns on automatic failover across zones."
  type        = number
  default     = 1
}

variable "snapshot_retention_days" {
  description = "Days daily snapshots are kept."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "How long the slow log is kept, in days."
  type        = number
  default     = 365
}
