"""Writes of sales: keyword-only verbs, one transaction each (one module per concern)."""
