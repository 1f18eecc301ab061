"""Purchase orders as CSV files a supplier can open: ``<folder>/suppliers/<PO number>.csv``.

The default ``suppliers`` connector. Each confirmed purchase order becomes one file with a
header row (sku, location, quantity, unit cost, line total, currency, expected date); sending
the same order again rewrites the same file, so a retried send never duplicates an order.
Other actions are kept as JSON like the other local connectors.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

from storeops.connectors.local import FileConnector
from storeops.money import Money

HEADER = ("sku", "location", "quantity", "unit_cost", "line_total", "currency", "expected_at")


class SupplierCsvConnector:
    """Writes each ``purchase_order.send`` as ``<folder>/suppliers/<number>.csv``."""

    def __init__(self, folder: Path, name: str = "suppliers") -> None:
        self.name = name
        self.folder = folder
        self._other = FileConnector(name, folder)

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        if action != "purchase_order.send":
            self._other.send(action, payload, idempotency_key)
            return
        number = re.sub(r"[^A-Za-z0-9._-]", "_", str(payload["number"]))
        currency = str(payload["currency"])
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HEADER)
        for line in payload["lines"]:
            unit = Money(int(line["cost_minor"]), currency)
            total = Money(int(line["cost_minor"]) * int(line["quantity"]), currency)
            writer.writerow(
                (
                    line["sku"],
                    line["location"],
                    line["quantity"],
                    unit.decimal_text(),
                    total.decimal_text(),
                    currency,
                    str(payload.get("expected_at", ""))[:10],
                )
            )
        target = self.folder / self.name
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{number}.csv"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
