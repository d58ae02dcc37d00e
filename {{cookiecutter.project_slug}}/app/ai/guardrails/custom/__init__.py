"""Your own guardrails, apart from the built-ins; list them in `catalog.py` here."""
