"""``storeops``: every command people and scripts use. Run ``storeops --help``.

The commands live one module per group (``store``, ``events``, ``work``, ``inbox``, ``people``,
``models``, ``support``, ``returns``, ``vendors``, ``connect``); importing them here registers them on the one
Typer ``app``.
"""

from __future__ import annotations

from storeops.cli import connect, events, inbox, models, people, returns, store, support, vendors, work
from storeops.cli.app import app

COMMAND_MODULES = (store, events, work, inbox, people, models, support, returns, vendors, connect)
"""Each module adds its commands to ``app`` when it is imported."""


def main() -> None:
    """Entry point of the ``storeops`` script."""
    app()


__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
