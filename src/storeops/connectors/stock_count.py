"""Cycle counts from a CSV file (``storeops ingest stock-count FILE.csv``) as ``stock.counted`` events.

The file has a header with ``sku``, ``location`` and ``counted`` and optionally ``counted_at``
(ISO 8601 with an offset; default: now). Every line is checked before anything is stored, and
the first problem is reported with its line number. The same file ingested twice stores nothing
the second time (each line's id is the file's digest and the line number).
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime

from storeops.clock import utcnow
from storeops.engine.events import NewEvent
from storeops.errors import InvalidInput

REQUIRED = ("sku", "location", "counted")
MAX_LINES = 200_000


def stock_count_events(raw: bytes, *, now: datetime | None = None) -> list[NewEvent]:
    """The counts in ``raw`` (CSV bytes) as events; InvalidInput naming the line otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput(f"line 1: the header needs {', '.join(REQUIRED)}; missing {', '.join(missing)}")
    reader.fieldnames = header
    digest = hashlib.sha256(raw).hexdigest()[:16]
    when = now or utcnow()
    seen: dict[tuple[str, str], int] = {}
    events: list[NewEvent] = []
    for row in reader:
        line = reader.line_num
        if line > MAX_LINES:
            raise InvalidInput(f"more than {MAX_LINES:,} lines; split the file")
        if None in row:
            raise InvalidInput(f"line {line}: more fields than the header has")
        sku, location = (row.get("sku") or "").strip(), (row.get("location") or "").strip()
        counted_text = (row.get("counted") or "").strip()
        if not sku:
            raise InvalidInput(f"line {line}: sku is empty", field="sku")
        if not location:
            raise InvalidInput(f"line {line}: location is empty", field="location")
        if not counted_text.isdigit():
            raise InvalidInput(
                f"line {line}: counted must be a whole number ≥ 0, got {counted_text!r}", field="counted"
            )
        if (sku, location) in seen:
            raise InvalidInput(f"line {line}: {sku} at {location} was already counted on line {seen[(sku, location)]}")
        seen[(sku, location)] = line
        at = when
        stamp = (row.get("counted_at") or "").strip()
        if stamp:
            try:
                at = datetime.fromisoformat(stamp)
            except ValueError:
                raise InvalidInput(f"line {line}: counted_at {stamp!r} is not ISO 8601", field="counted_at") from None
            if at.tzinfo is None:
                raise InvalidInput(f"line {line}: counted_at needs an offset, e.g. {stamp}+00:00", field="counted_at")
        events.append(
            NewEvent(
                source="stock-count",
                external_id=f"{digest}:{line}",
                kind="stock.counted",
                subject=f"sku:{sku}",
                occurred_at=at,
                payload={"sku": sku, "location": location, "counted": int(counted_text)},
            )
        )
    if not events:
        raise InvalidInput("the file has a header but no counts")
    return events
