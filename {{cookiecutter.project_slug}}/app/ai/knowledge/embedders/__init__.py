"""Embedders: text to vectors, through a vendor SDK or the offline hashing embedder."""
