variable "name" {
  description = "Prefix for every resource's name, e.g. agent-service-staging."
  type        = string
}

variable "cidr_block" {
  description = "The VPC's address range; a /16 leaves room for 16 subnets of /20."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Availability zones to spread subnets over, by name (2 or 3, e.g. [\"us-east-1a\", \"us-east-1b\"])."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3
    error_message = "Give 2 or 3 availability zones: RDS and the load balancer need two."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for every zone (cheaper, one zone's outage cuts egress) instead of one per zone."
  type        = bool
  default     = false
}

variable "internal_ports" {
  description = "TCP ports the tasks may reach inside the VPC (the database's and the cache's)."
  type        = list(number)
  default     = [5432]
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the flow log group."
  type        = string
}

variable "log_retention_days" {
  description = "How long flow logs are kept, in days."
  type        = number
  default     = 365
}
