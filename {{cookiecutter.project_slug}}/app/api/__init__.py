"""HTTP surface: dependencies, error handlers and the versioned routers."""
