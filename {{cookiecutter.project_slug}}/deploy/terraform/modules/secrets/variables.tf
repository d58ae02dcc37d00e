variable "name" {
  description = "Prefix for every resource's name; secrets are named <name>/<VARIABLE>."
  type        = string
}

variable "provider_key_names" {
  description = "Environment variables holding provider API keys (VENDOR_API_KEY): one empty secret each, for an operator to fill."
  type        = set(string)
  default     = []
}

variable "signing_key_version" {
  description = "Bump to generate and store a new SECRET_KEY (issued tokens stop working)."
  type        = number
  default     = 1
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once; 7 to 30 otherwise)."
  type        = number
  default     = 30
}
