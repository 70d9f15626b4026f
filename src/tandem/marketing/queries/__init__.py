"""Marketing reads, one module per area (allow-listed sorts and filters live with their area)."""
