"""Public tracking endpoints."""
