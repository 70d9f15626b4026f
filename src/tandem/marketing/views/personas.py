"""Marketing pages: personas."""
