# The internet-facing Application Load Balancer, only when `load_balancer` is set:
# HTTPS with a modern TLS policy, HTTP redirected to it, health checks on the
# service's liveness path, and the tasks reachable from it alone.

locals {
  lb_name = trimsuffix(substr(var.name, 0, 32), "-")
  tg_name = "${trimsuffix(substr(var.name, 0, 29), "-")}-tg"
}

resource "aws_security_group" "lb" {
  count = local.exposed ? 1 : 0

  name_prefix = "${var.name}-lb-"
  description = "Load balancer: HTTPS from anywhere, forwards to the tasks"
  vpc_id      = var.vpc_id

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb_https" {
  count = local.exposed ? 1 : 0

  security_group_id = aws_security_group.lb[0].id
  description       = "HTTPS from clients"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "lb_http" {
  #checkov:skip=CKV_AWS_260:Port 80 only answers with a redirect to HTTPS.
  count = local.exposed ? 1 : 0

  security_group_id = aws_security_group.lb[0].id
  description       = "HTTP from clients, redirected to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "lb_to_tasks" {
  count = local.exposed ? 1 : 0

  security_group_id            = aws_security_group.lb[0].id
  description                  = "Forward to the service tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_lb" {
  count = local.exposed ? 1 : 0

  security_group_id            = var.security_group_id
  description                  = "Requests from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = aws_security_group.lb[0].id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:Attach the account's WAF web ACL with the web_acl_arn variable; WAF rules are an account-wide choice.
  #checkov:skip=CKV2_AWS_76:No web ACL is defined here, so its rule set (Log4j included) is the attached ACL's.
  #checkov:skip=CKV_AWS_91:Access logs need an S3 bucket with an ELB-writable policy; set access_logs_bucket to the account's log bucket.
  count = local.exposed ? 1 : 0

  name                       = local.lb_name
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.lb[0].id]
  subnets                    = var.load_balancer.subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.load_balancer.deletion_protection
  idle_timeout               = var.load_balancer.idle_timeout_seconds

  dynamic "access_logs" {
    for_each = var.load_balancer.access_logs_bucket == null ? [] : [var.load_balancer.access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  count = local.exposed && try(var.load_balancer.web_acl_arn, null) != null ? 1 : 0

  resource_arn = aws_lb.this[0].arn
  web_acl_arn  = var.load_balancer.web_acl_arn
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the tasks stays inside the VPC's private subnets.
  count = local.exposed ? 1 : 0

  name                 = local.tg_name
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = var.load_balancer.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  count = local.exposed ? 1 : 0

  load_balancer_arn = aws_lb.this[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.load_balancer.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[0].arn
  }
}

resource "aws_lb_listener" "http" {
  count = local.exposed ? 1 : 0

  load_balancer_arn = aws_lb.this[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}
