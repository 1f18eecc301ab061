"""The working local carrier: renders a printable shipping label (PDF with a Code 128 barcode of
the tracking number) instead of buying one from a carrier's API. Runs in the outbox, never on
the decision's hot path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from storeops.connectors.local import FileConnector


class LocalCarrier(FileConnector):
    """``label.create`` writes ``<folder>/carrier/labels/<tracking number>.pdf``; other actions are
    recorded as JSON like any local connector. A repeated key rewrites the same file."""

    def __init__(self, folder: Path) -> None:
        super().__init__("carrier", folder)

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        super().send(action, payload, idempotency_key)
        if action == "label.create":
            render_label(payload, self.folder / self.name / "labels")


def render_label(parcel: dict[str, Any], folder: Path) -> Path:
    """Draw one A6 label for ``parcel`` (as the orders desk puts it in the outbox)."""
    folder.mkdir(parents=True, exist_ok=True)
    tracking = str(parcel["tracking_number"])
    path = folder / f"{tracking}.pdf"
    tmp = path.with_suffix(".tmp")
    _width, height = A6
    page = canvas.Canvas(str(tmp), pagesize=A6)
    page.setTitle(f"Label {tracking}")
    page.setFont("Helvetica-Bold", 14)
    page.drawString(8 * mm, height - 12 * mm, f"{str(parcel['carrier']).upper()} · {parcel['service']}")
    page.setFont("Helvetica", 8)
    page.drawString(
        8 * mm, height - 18 * mm, f"From {parcel['warehouse']} · order {parcel['order']} · {parcel['grams']} g"
    )
    ship_to = parcel.get("ship_to") or {}
    lines = [
        ship_to.get("name") or "",
        ship_to.get("line1") or "",
        ship_to.get("line2") or "",
        f"{ship_to.get('postal_code') or ''} {ship_to.get('city') or ''}".strip(),
        ship_to.get("country") or "",
    ]
    page.setFont("Helvetica-Bold", 12)
    y = height - 32 * mm
    page.drawString(8 * mm, y + 6 * mm, "SHIP TO")
    page.setFont("Helvetica", 12)
    for text in filter(None, lines):
        page.drawString(8 * mm, y, str(text))
        y -= 6 * mm
    barcode = code128.Code128(tracking, barHeight=18 * mm, barWidth=0.36 * mm)
    barcode.drawOn(page, 6 * mm, 18 * mm)
    page.setFont("Helvetica", 10)
    page.drawString(8 * mm, 12 * mm, tracking)
    page.showPage()
    page.save()
    os.replace(tmp, path)
    return path
