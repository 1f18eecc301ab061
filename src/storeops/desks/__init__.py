"""One package per desk of the store. ``builtin_desks`` is the explicit list the engine runs."""

from __future__ import annotations

from storeops.engine.desk import Desk, load_desk


def builtin_desks() -> list[Desk]:
    """The desks storeops ships, in display order."""
    from storeops.desks import inventory, orders, returns, support, vendors

    return [orders.DESK, support.DESK, inventory.DESK, returns.DESK, vendors.DESK]


def configured_desks(spec: str | None) -> list[Desk]:
    """The built-in desks, or those named in ``STOREOPS_DESKS`` (``module:attr,…``)."""
    if not spec:
        return builtin_desks()
    return [load_desk(part.strip()) for part in spec.split(",") if part.strip()]
