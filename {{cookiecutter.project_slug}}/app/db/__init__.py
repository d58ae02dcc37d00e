"""The engine, sessions, base model and column types shared by every table."""
