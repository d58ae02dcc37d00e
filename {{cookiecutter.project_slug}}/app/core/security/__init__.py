"""Passwords, tokens and secrets kept apart from the routes that use them."""
