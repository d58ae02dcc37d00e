# One KMS key for the deployment's secrets and log groups, the token signing key, and
# one empty secret per provider API key. No secret value ever reaches the state: the
# signing key is generated ephemerally and written with a write-only argument, and
# the provider keys are put by an operator (see the project's README).

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  log_groups   = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"
}

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; the account administers its own key.
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; the account administers its own key.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself, not every resource.
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_groups]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: secrets, logs, database and cache storage"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# SECRET_KEY signs the service's tokens. Bump `signing_key_version` to rotate it
# (every issued token stops working).
ephemeral "aws_secretsmanager_random_password" "signing_key" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "signing_key" {
  #checkov:skip=CKV2_AWS_57:Rotating the signing key logs every user out; rotate on purpose with signing_key_version.
  name                    = "${var.name}/SECRET_KEY"
  description             = "Signs the service's access and refresh tokens"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_in_days
}

resource "aws_secretsmanager_secret_version" "signing_key" {
  secret_id                = aws_secretsmanager_secret.signing_key.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.signing_key.random_password
  secret_string_wo_version = var.signing_key_version
}

# Provider API keys are issued by the vendors: Terraform makes the empty secrets, an
# operator puts each value with `aws secretsmanager put-secret-value`.
resource "aws_secretsmanager_secret" "provider" {
  #checkov:skip=CKV2_AWS_57:Provider keys are issued and rotated at the vendor, then put here by an operator.
  for_each = var.provider_key_names

  name                    = "${var.name}/${each.key}"
  description             = "${each.key} for the service's model provider"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_in_days
}
