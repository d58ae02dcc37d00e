variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix for every resource's name: lowercase letters, digits and single hyphens, at most 28 characters."
  type        = string
  default     = "{{ cookiecutter.project_slug.replace("_", "-")[:20].rstrip("-") }}-prod"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9]|-[a-z0-9]){1,27}$", var.name))
    error_message = "name must be 2-28 lowercase letters, digits and single hyphens, starting with a letter."
  }
}

variable "image" {
  description = "The project's container image, by tag or digest, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/{{ cookiecutter.project_slug }}@sha256:..."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener (your domain's)."
  type        = string
}

variable "availability_zones" {
  description = "Zones of `region` to spread the VPC's subnets over (2 or 3)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]

  validation {
    condition     = alltrue([for zone in var.availability_zones : startswith(zone, var.region)])
    error_message = "Every availability zone must be in `region`."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the database and the load balancer; turn off before `terraform destroy`."
  type        = bool
  default     = true
}

variable "vpc_cidr_block" {
  description = "The VPC's address range."
  type        = string
  default     = "10.0.0.0/16"
}

variable "provider_key_names" {
  description = "Provider API key variables to keep in Secrets Manager; every one listed must be given a value before the service starts."
  type        = set(string)
  default     = [{% if cookiecutter.use_openai %}"OPENAI_API_KEY"{% if cookiecutter.use_anthropic or cookiecutter.use_gemini %}, {% endif %}{% endif %}{% if cookiecutter.use_anthropic %}"ANTHROPIC_API_KEY"{% if cookiecutter.use_gemini %}, {% endif %}{% endif %}{% if cookiecutter.use_gemini %}"GEMINI_API_KEY"{% endif %}]
}

variable "signing_key_version" {
  description = "Bump to generate a new SECRET_KEY (every issued token stops working)."
  type        = number
  default     = 1
}

variable "database_password_version" {
  description = "Bump to generate a new database password and DATABASE_URL."
  type        = number
  default     = 1
}

variable "database_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.m7g.large"
}
{%- if cookiecutter.use_redis %}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.m7g.large"
}
{%- endif %}

variable "api_cpu" {
  description = "CPU units per API task (1024 = one vCPU)."
  type        = number
  default     = 1024
}

variable "api_memory" {
  description = "Memory per API task, in MiB."
  type        = number
  default     = 2048
}

variable "api_min_count" {
  description = "Fewest API tasks (also the count at first deploy)."
  type        = number
  default     = 2
}

variable "api_max_count" {
  description = "Most API tasks auto-scaling starts."
  type        = number
  default     = 10
}

variable "api_requests_per_target" {
  description = "ALB requests per API task auto-scaling aims for."
  type        = number
  default     = 500
}

variable "worker_command" {
  description = "Command the worker tasks run instead of the API."
  type        = list(string)
  default     = ["python", "-m", "app.worker"]
}

variable "worker_count" {
  description = "Worker tasks to run; 0 (the default) until the project has a worker entry point."
  type        = number
  default     = 0
}

variable "worker_max_count" {
  description = "Most worker tasks auto-scaling starts on CPU; 0 turns worker auto-scaling off."
  type        = number
  default     = 0
}

variable "worker_cpu" {
  description = "CPU units per worker task."
  type        = number
  default     = 1024
}

variable "worker_memory" {
  description = "Memory per worker task, in MiB."
  type        = number
  default     = 2048
}

variable "extra_environment" {
  description = "More plain settings for every task, e.g. { CORS_ORIGINS = \"[\\\"https://app.example.com\\\"]\" }. Never secrets."
  type        = map(string)
  default     = {}
}

variable "access_logs_bucket" {
  description = "S3 bucket for the load balancer's access logs (its policy must let ELB write); null keeps them off."
  type        = string
  default     = null
}

variable "web_acl_arn" {
  description = "WAFv2 web ACL to attach to the load balancer; null attaches none."
  type        = string
  default     = null
}
