"""Returns & refunds desk."""
