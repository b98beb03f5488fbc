"""Tokens: the value and its units, when to refresh, the per-audience handler, the shared cache."""
