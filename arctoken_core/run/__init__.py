"""Run with Credentials: its targets (script, REST request, GP job) and the outcome file."""
