"""Signing in: one module per way of obtaining a token, discovery, and the factory by kind."""
