"""The ``storeops`` command line."""
