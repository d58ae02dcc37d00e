"""One module of routes per resource, each a thin layer over crud and runs."""
