"""storeops: automation handles the routine work of a store's back office; people decide the exceptions."""

__version__ = "0.1.0"
