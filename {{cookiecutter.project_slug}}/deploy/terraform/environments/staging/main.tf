# {{ cookiecutter.project_name }} on AWS, staging: ECS Fargate behind an ALB, RDS PostgreSQL{% if cookiecutter.use_redis %},
# ElastiCache Redis{% endif %}, Secrets Manager. Usage and the first deploy: the project's README.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in S3: terraform init -backend-config=backend.hcl (bucket, key, region).
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "{{ cookiecutter.project_slug }}"
      Environment = "staging"
      ManagedBy   = "terraform"
    }
  }
}

locals {
  # Plain settings only; anything secret goes in `secrets` below.
  environment = merge(
    {
      ENVIRONMENT  = "staging"
      LOG_JSON     = "true"
      AUTO_MIGRATE = "false"
{%- if cookiecutter.use_redis %}
      REDIS_URL    = module.cache.url
{%- endif %}
      # Requests arrive through the load balancer, whose addresses lie in the VPC: its
      # X-Forwarded-For names the client that rate limits and sign-in delays count.
      TRUSTED_PROXIES = jsonencode([module.network.vpc_cidr_block])
    },
    var.extra_environment,
  )

  secrets = merge(
    {
      SECRET_KEY   = module.secrets.signing_key_secret_arn
      DATABASE_URL = module.database.url_secret_arn
    },
    module.secrets.provider_secret_arns,
  )
}

module "secrets" {
  source = "../../modules/secrets"

  name                    = var.name
  provider_key_names      = var.provider_key_names
  signing_key_version     = var.signing_key_version
  recovery_window_in_days = 7
}

module "network" {
  source = "../../modules/network"

  name               = var.name
  cidr_block         = var.vpc_cidr_block
  availability_zones = var.availability_zones
  single_nat_gateway = true
  internal_ports     = [5432{% if cookiecutter.use_redis %}, 6379{% endif %}]
  kms_key_arn        = module.secrets.kms_key_arn
}

module "database" {
  #checkov:skip=CKV_AWS_157:Staging runs one database instance to save cost; prod sets multi_az.
  source = "../../modules/database"

  name                     = var.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  client_security_group_id = module.network.app_security_group_id
  kms_key_arn              = module.secrets.kms_key_arn
  instance_class           = var.database_instance_class
  multi_az                 = false
  deletion_protection      = var.deletion_protection
  password_version         = var.database_password_version
  recovery_window_in_days  = 7
}
{%- if cookiecutter.use_redis %}

module "cache" {
  source = "../../modules/cache"

  name                     = var.name
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  client_security_group_id = module.network.app_security_group_id
  kms_key_arn              = module.secrets.kms_key_arn
  node_type                = var.cache_node_type
  replicas                 = 0
}
{%- endif %}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

module "api" {
  source = "../../modules/service"

  name              = "${var.name}-api"
  cluster_arn       = aws_ecs_cluster.this.arn
  cluster_name      = aws_ecs_cluster.this.name
  image             = var.image
  cpu               = var.api_cpu
  memory            = var.api_memory
  environment       = local.environment
  secrets           = local.secrets
  kms_key_arn       = module.secrets.kms_key_arn
  vpc_id            = module.network.vpc_id
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.app_security_group_id
  desired_count     = var.api_min_count
  min_count         = var.api_min_count
  max_count         = var.api_max_count

  load_balancer = {
    subnet_ids          = module.network.public_subnet_ids
    certificate_arn     = var.certificate_arn
    health_check_path   = "/health"
    requests_per_target = var.api_requests_per_target
    deletion_protection = var.deletion_protection
    access_logs_bucket  = var.access_logs_bucket
    web_acl_arn         = var.web_acl_arn
  }
}

# Background workers: the same image running `worker_command`, no load balancer.
# worker_count = 0 keeps the service empty until the project has a worker.
module "worker" {
  source = "../../modules/service"

  name              = "${var.name}-worker"
  cluster_arn       = aws_ecs_cluster.this.arn
  cluster_name      = aws_ecs_cluster.this.name
  image             = var.image
  command           = var.worker_command
  cpu               = var.worker_cpu
  memory            = var.worker_memory
  environment       = local.environment
  secrets           = local.secrets
  kms_key_arn       = module.secrets.kms_key_arn
  vpc_id            = module.network.vpc_id
  subnet_ids        = module.network.private_subnet_ids
  security_group_id = module.network.app_security_group_id
  desired_count     = var.worker_count
  min_count         = var.worker_count
  max_count         = var.worker_max_count
}
