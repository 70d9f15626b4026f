"""Dashboard pages (each module lists its own routes)."""
