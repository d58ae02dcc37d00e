"""Command-line tools of the project: database set-up, checks and benchmarks (see the Makefile)."""
