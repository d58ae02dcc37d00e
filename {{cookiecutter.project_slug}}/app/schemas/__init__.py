"""Request and response bodies, apart from the tables they are stored in."""
