"""Marketing pages: sources."""
