"""Sales pages (each view module lists its own routes)."""
