"""Guardrails: checks on a run's input, its tool results and the model's output."""
