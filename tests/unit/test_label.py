from __future__ import annotations

from pathlib import Path

from storeops.connectors.carrier_local import LocalCarrier


def test_label_create_renders_a_pdf_once_per_tracking_number(tmp_path: Path) -> None:
    parcel = {
        "tracking_number": "COL000123456789",
        "carrier": "colis",
        "service": "standard",
        "warehouse": "WH-PARIS",
        "order": "1042",
        "grams": 700,
        "ship_to": {"name": "Ana Lima", "line1": "12 rue des Lilas", "city": "Lyon"},
    }
    carrier = LocalCarrier(tmp_path)
    carrier.send("label.create", parcel, "order:shop:1042:label:0")
    carrier.send("label.create", parcel, "order:shop:1042:label:0")
    [label] = (tmp_path / "carrier" / "labels").iterdir()
    assert label.name == "COL000123456789.pdf"
    content = label.read_bytes()
    assert content.startswith(b"%PDF") and b"Label COL000123456789" in content
    assert len(list((tmp_path / "carrier" / "label.create").glob("*.json"))) == 1
