"""Suppliers, their catalogues and contracts from CSV: every line checked before anything is written,
so a file with one bad line changes nothing and the error names that line and its column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update

from storeops.desks.vendors.tables import supplier_items, suppliers, vendor_contracts
from storeops.errors import InvalidInput
from storeops.money import Money, validate_currency

SUPPLIER_COLUMNS = ("supplier", "name", "contact_name", "contact_email", "phone", "currency")
ITEM_COLUMNS = ("sku", "cost", "moq", "pack_size", "lead_time_days")
CONTRACT_COLUMNS = (
    "contract",
    "supplier",
    "starts_on",
    "ends_on",
    "notice_days",
    "on_time_target",
    "fill_target",
    "defect_target",
    "lead_time_days",
    "price_terms",
)
REQUIRED_SUPPLIER = ("supplier", "currency")
REQUIRED_CONTRACT = ("contract", "supplier", "starts_on", "ends_on", "notice_days")
MAX_LINES = 100_000


@dataclass
class SupplierRow:
    """One supplier and the catalogue lines the file gives it."""

    supplier: str
    name: str
    contact_name: str | None
    contact_email: str | None
    phone: str | None
    currency: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)


def _bad(line: int, column: str, why: str) -> InvalidInput:
    return InvalidInput(f"line {line}: {column}: {why}", field=column)


def _rows(text: str, columns: Iterable[str], required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise InvalidInput("line 1: the file is empty (it needs a header line)", field="header")
    unknown = [name for name in header if name not in columns]
    if unknown:
        raise _bad(1, unknown[0], f"unknown column; the columns are {', '.join(columns)}")
    missing = [name for name in required if name not in header]
    if missing:
        raise _bad(1, missing[0], "missing column")
    reader.fieldnames = header
    out = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_LINES:
            raise _bad(number, "file", f"more than {MAX_LINES} lines")
        if None in raw:
            raise _bad(number, "line", "more fields than the header has")
        values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
        if not any(values.values()):
            continue
        out.append((reader.line_num, values))
    return out


def _text(values: dict[str, str], column: str, line: int, *, required: bool = False, limit: int = 255) -> str | None:
    value = values.get(column, "")
    if not value:
        if required:
            raise _bad(line, column, "is empty")
        return None
    if len(value) > limit:
        raise _bad(line, column, f"longer than {limit} characters")
    return value


def _int(values: dict[str, str], column: str, line: int, *, low: int, high: int, default: int | None = None) -> int:
    value = values.get(column, "")
    if not value:
        if default is None:
            raise _bad(line, column, "is empty")
        return default
    try:
        number = int(value)
    except ValueError:
        raise _bad(line, column, f"{value[:40]!r} is not a whole number") from None
    if not low <= number <= high:
        raise _bad(line, column, f"{number} is not between {low} and {high}")
    return number


def _share(values: dict[str, str], column: str, line: int) -> float | None:
    value = values.get(column, "")
    if not value:
        return None
    try:
        share = float(value.removesuffix("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise _bad(line, column, f"{value[:40]!r} is not a rate (0.95 or 95%)") from None
    if not 0 <= share <= 1:
        raise _bad(line, column, f"{value[:40]!r} is not between 0 and 1 (or 0% and 100%)")
    return share


def _date(values: dict[str, str], column: str, line: int) -> date:
    value = values.get(column, "")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(line, column, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def parse_suppliers(text: str) -> list[SupplierRow]:
    """Suppliers and catalogue lines from ``suppliers.csv`` (one line per catalogue item, the
    supplier's columns repeated; a line with no ``sku`` names the supplier alone). Raises
    InvalidInput naming the first bad line and column."""
    found: dict[str, SupplierRow] = {}
    for line, values in _rows(text, (*SUPPLIER_COLUMNS, *ITEM_COLUMNS), REQUIRED_SUPPLIER):
        code = _text(values, "supplier", line, required=True, limit=128)
        assert code is not None
        try:
            currency = validate_currency(values.get("currency", ""))
        except ValueError as exc:
            raise _bad(line, "currency", str(exc)) from None
        email = _text(values, "contact_email", line)
        if email is not None and ("@" not in email or " " in email):
            raise _bad(line, "contact_email", f"{email[:40]!r} is not an email address")
        row = found.get(code)
        if row is None:
            row = found[code] = SupplierRow(
                supplier=code,
                name=_text(values, "name", line) or code,
                contact_name=_text(values, "contact_name", line),
                contact_email=email,
                phone=_text(values, "phone", line, limit=64),
                currency=currency,
            )
        elif row.currency != currency:
            raise _bad(line, "currency", f"{currency} but an earlier line gives {code} {row.currency}")
        else:
            row.contact_email = email or row.contact_email
            row.contact_name = _text(values, "contact_name", line) or row.contact_name
        sku = _text(values, "sku", line, limit=128)
        if sku is None:
            continue
        if sku in row.items:
            raise _bad(line, "sku", f"{sku} is listed twice for {code}")
        cost_text = values.get("cost", "")
        if not cost_text:
            raise _bad(line, "cost", "is empty (a catalogue line needs its unit cost)")
        try:
            cost = Money.parse(cost_text, currency)
        except ValueError as exc:
            raise _bad(line, "cost", str(exc)) from None
        if cost.minor < 0:
            raise _bad(line, "cost", "is below 0")
        row.items[sku] = {
            "cost_minor": cost.minor,
            "currency": currency,
            "moq": _int(values, "moq", line, low=1, high=10**7, default=1),
            "pack_size": _int(values, "pack_size", line, low=1, high=10**7, default=1),
            "lead_time_days": _int(values, "lead_time_days", line, low=0, high=3650),
        }
    if not found:
        raise InvalidInput("line 2: the file names no supplier", field="supplier")
    return list(found.values())


def parse_contracts(text: str, known: set[str]) -> list[dict[str, Any]]:
    """Contracts from ``contracts.csv``; every supplier must be in ``known``. Raises InvalidInput
    naming the first bad line and column."""
    out: dict[str, dict[str, Any]] = {}
    for line, values in _rows(text, CONTRACT_COLUMNS, REQUIRED_CONTRACT):
        number = _text(values, "contract", line, required=True, limit=64)
        supplier = _text(values, "supplier", line, required=True, limit=128)
        assert number is not None and supplier is not None
        if supplier not in known:
            raise _bad(line, "supplier", f"{supplier} is not a supplier (import suppliers.csv first)")
        if number in out:
            raise _bad(line, "contract", f"{number} is listed twice")
        starts, ends = _date(values, "starts_on", line), _date(values, "ends_on", line)
        if ends <= starts:
            raise _bad(line, "ends_on", f"{ends} is not after starts_on {starts}")
        out[number] = {
            "contract": number,
            "supplier": supplier,
            "starts_on": starts,
            "ends_on": ends,
            "notice_days": _int(values, "notice_days", line, low=0, high=3650),
            "on_time_target": _share(values, "on_time_target", line),
            "fill_target": _share(values, "fill_target", line),
            "defect_target": _share(values, "defect_target", line),
            "lead_time_days": (
                _int(values, "lead_time_days", line, low=0, high=3650) if values.get("lead_time_days") else None
            ),
            "price_terms": _text(values, "price_terms", line, limit=2000) or "",
        }
    if not out:
        raise InvalidInput("line 2: the file names no contract", field="contract")
    return list(out.values())


def write_suppliers(conn: Connection, rows: list[SupplierRow], now: datetime) -> dict[str, int]:
    """Upsert suppliers and replace each one's catalogue with the file's lines (a supplier listed
    with no SKU keeps its catalogue). Returns counts."""
    items = 0
    for row in rows:
        values = {
            "name": row.name,
            "contact_name": row.contact_name,
            "contact_email": row.contact_email,
            "phone": row.phone,
            "currency": row.currency,
            "updated_at": now,
        }
        exists = conn.execute(select(suppliers.c.supplier).where(suppliers.c.supplier == row.supplier)).first()
        if exists is None:
            conn.execute(suppliers.insert().values(supplier=row.supplier, **values))
        else:
            conn.execute(update(suppliers).where(suppliers.c.supplier == row.supplier).values(**values))
        if row.items:
            conn.execute(delete(supplier_items).where(supplier_items.c.supplier == row.supplier))
            for sku, item in row.items.items():
                conn.execute(supplier_items.insert().values(supplier=row.supplier, sku=sku, updated_at=now, **item))
            items += len(row.items)
    return {"suppliers": len(rows), "catalogue_lines": items}


def write_contracts(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Upsert contracts; a contract whose end date moved may be handed off for renewal again.
    Returns the rows written."""
    for row in rows:
        before = conn.execute(
            select(vendor_contracts.c.ends_on).where(vendor_contracts.c.contract == row["contract"])
        ).first()
        if before is None:
            conn.execute(vendor_contracts.insert().values(**row, updated_at=now))
            continue
        changes: dict[str, Any] = {**row, "updated_at": now}
        if before.ends_on != row["ends_on"]:
            changes["renewal_opened_at"] = None
        conn.execute(update(vendor_contracts).where(vendor_contracts.c.contract == row["contract"]).values(**changes))
    return rows


def known_suppliers(conn: Connection) -> set[str]:
    """Every supplier imported."""
    return {str(code) for code in conn.execute(select(suppliers.c.supplier)).scalars()}
