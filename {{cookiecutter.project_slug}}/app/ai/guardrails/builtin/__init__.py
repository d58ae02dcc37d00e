"""The checks every agent can list in its `guardrails`."""
