"""Marketing pages: content."""
