"""Operator commands run with `python -m app.cli.<name>` (the Makefile wraps them)."""
