"""Pure ASGI middleware that guards every request before any route parses it."""
