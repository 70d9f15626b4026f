"""Marketing pages: forms."""
