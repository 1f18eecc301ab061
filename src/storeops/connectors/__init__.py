"""Adapters to the outside world, each behind the small ``Connector`` protocol."""
