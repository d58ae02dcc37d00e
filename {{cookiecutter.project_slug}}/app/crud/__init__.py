"""All queries live here, one module per entity; functions flush and never commit."""
