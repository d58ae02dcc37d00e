"""Search backends over stored chunks: pgvector on PostgreSQL, exact search on SQLite."""
