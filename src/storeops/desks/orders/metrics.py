"""The orders desk's own figures for the owner's report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from storeops.engine.metrics import action_subjects


def figures(conn: Connection, since: datetime | None, until: datetime | None) -> dict[str, float | None]:
    """``fulfilment_accuracy``: the share of orders sent to fulfilment in the period that shipped
    without a shipping irregularity (None when none was sent)."""
    counts = action_subjects(conn, "orders", ["order.fulfil", "shipment.flag"], since, until)
    fulfilled = counts.get("order.fulfil", 0)
    flagged = min(counts.get("shipment.flag", 0), fulfilled)
    return {"fulfilment_accuracy": round(1 - flagged / fulfilled, 4) if fulfilled else None}
