variable "name" {
  description = "Service name, e.g. agent-service-staging-api; prefixes its resources."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of that cluster (auto-scaling addresses services by it)."
  type        = string
}

variable "image" {
  description = "Container image, by tag or digest (repo/name:tag or repo/name@sha256:...)."
  type        = string
}

variable "command" {
  description = "Command overriding the image's, e.g. [\"python\", \"-m\", \"app.worker\"]; null runs the image's (the API)."
  type        = list(string)
  default     = null
}

variable "cpu" {
  description = "Task CPU units (256 = a quarter vCPU)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB; must suit `cpu` (Fargate's table)."
  type        = number
  default     = 1024
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64; the image must be built for it."
  type        = string
  default     = "X86_64"
}

variable "container_port" {
  description = "Port the container listens on (uvicorn's, 8000 in the project's image)."
  type        = number
  default     = 8000
}

variable "environment" {
  description = "Plain settings for the container, e.g. ENVIRONMENT and LOG_JSON. Never secrets: use `secrets`."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Secret settings: environment variable name => Secrets Manager secret ARN, read by ECS at start."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the secrets and the log group."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks and the load balancer."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the tasks."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the tasks (the network module's app group)."
  type        = string
}

variable "desired_count" {
  description = "Tasks to start with; auto-scaling moves it between min_count and max_count afterwards."
  type        = number
  default     = 2
}

variable "min_count" {
  description = "Fewest tasks auto-scaling keeps."
  type        = number
  default     = 2
}

variable "max_count" {
  description = "Most tasks auto-scaling starts; 0 turns auto-scaling off."
  type        = number
  default     = 6
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation auto-scaling aims for."
  type        = number
  default     = 60
}

variable "load_balancer" {
  description = "Expose the service through an internet-facing ALB (the API); null for workers. requests_per_target is the ALB request count per task auto-scaling aims for."
  type = object({
    subnet_ids           = list(string)
    certificate_arn      = string
    health_check_path    = optional(string, "/health")
    requests_per_target  = optional(number, 500)
    idle_timeout_seconds = optional(number, 120)
    deletion_protection  = optional(bool, true)
    access_logs_bucket   = optional(string)
    web_acl_arn          = optional(string)
  })
  default = null
}

variable "log_retention_days" {
  description = "How long the container logs are kept, in days."
  type        = number
  default     = 365
}
