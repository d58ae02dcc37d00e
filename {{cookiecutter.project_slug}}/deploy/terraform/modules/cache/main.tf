# Redis on ElastiCache for rate limits, token revocation, cancellation and stream
# fan-out: encrypted at rest and in transit (rediss://), reachable only from the
# service tasks. The URL holds no password, so the tasks get it as plain config.

locals {
  group_id = trimsuffix(substr(var.name, 0, 40), "-")
}

resource "aws_elasticache_subnet_group" "this" {
  name       = local.group_id
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-cache-"
  description = "Redis: admits the service tasks only"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from the service tasks"
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  referenced_security_group_id = var.client_security_group_id
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/elasticache/${var.name}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV2_AWS_50:With replicas = 0 (staging, to save cost) there is no node to fail over to; replicas >= 1 turns failover on.
  #checkov:skip=CKV_AWS_31:No AUTH token: ElastiCache keeps it in the Terraform state. Only the tasks' security group reaches the cache, over TLS.
  replication_group_id = local.group_id
  description          = "${var.name}: limits, revocation, cancellation, stream fan-out"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379

  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true

  auto_minor_version_upgrade = true
  snapshot_retention_limit   = var.snapshot_retention_days
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}
