"""Marketing pages: campaigns."""
