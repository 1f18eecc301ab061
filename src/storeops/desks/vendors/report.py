"""The vendors report: scorecards with intervals, SLA breaches and renewals due, laid out once as
sections (``report_sections``) and rendered from them as HTML, PDF (reportlab) or CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import Connection, select

from storeops.desks.vendors.handlers import renewal_due_on
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.scorecard import scorecards
from storeops.desks.vendors.tables import suppliers, vendor_contracts, vendor_deliveries

FORMATS = ("html", "pdf", "csv")


def _pct(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return "–"
    interval = metric.get("interval")
    text = f"{metric['value']:.1%}"
    return f"{text} ({interval[0]:.0%}–{interval[1]:.0%})" if interval else text


def _days(metric: dict[str, Any]) -> str:
    if metric.get("value") is None:
        return "–"
    interval = metric.get("interval")
    text = f"{metric['value']:.1f} d"
    return f"{text} ({interval[0]:.1f}–{interval[1]:.1f})" if interval else text


def breaches(conn: Connection, *, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Deliveries of the period that were late or short, newest first."""
    rows = conn.execute(
        select(vendor_deliveries)
        .where(
            vendor_deliveries.c.received_at >= since,
            vendor_deliveries.c.received_at < until,
            vendor_deliveries.c.alerted.is_(True),
        )
        .order_by(vendor_deliveries.c.received_at.desc(), vendor_deliveries.c.id.desc())
        .limit(500)
    )
    return [
        {
            "supplier": row.supplier,
            "purchase_order": row.purchase_order,
            "sku": row.sku,
            "received_at": row.received_at.isoformat(),
            "late_minutes": row.late_minutes if row.on_time is False else None,
            "ordered": row.ordered,
            "received": row.received,
            "short": row.short,
        }
        for row in rows
    ]


def renewals(conn: Connection, policy: VendorsPolicy, *, today: datetime, days: int = 90) -> list[dict[str, Any]]:
    """Contracts whose renewal day falls within ``days`` from ``today`` (or passed while the contract
    still runs), soonest first."""
    out = []
    for row in conn.execute(select(vendor_contracts).where(vendor_contracts.c.ends_on >= today.date())):
        due = renewal_due_on(row.ends_on, row.notice_days, policy)
        if due <= today.date() + timedelta(days=days):
            out.append(
                {
                    "contract": row.contract,
                    "supplier": row.supplier,
                    "ends_on": row.ends_on.isoformat(),
                    "notice_days": row.notice_days,
                    "renewal_due_on": due.isoformat(),
                    "handed_off": row.renewal_opened_at is not None,
                }
            )
    return sorted(out, key=lambda item: item["renewal_due_on"])


def report_data(
    conn: Connection, policy: VendorsPolicy, *, since: datetime, until: datetime, title: str
) -> dict[str, Any]:
    """Everything a report shows, JSON-ready: scorecards, breaches, renewals and its sections."""
    period = f"{since:%Y-%m-%d} – {until - timedelta(seconds=1):%Y-%m-%d}"
    cards = scorecards(conn, policy, since=since, until=until, period=period)
    names = {str(row.supplier): str(row.name) for row in conn.execute(select(suppliers.c.supplier, suppliers.c.name))}
    data = {
        "title": title,
        "period": period,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cards": cards,
        "breaches": breaches(conn, since=since, until=until),
        "renewals": renewals(conn, policy, today=until),
    }
    data["sections"] = report_sections(data, names)
    return data


SCORE_COLUMNS = ["Supplier", "Score", "Standing", "Deliveries", "On time", "Fill", "Defects", "Lead time"]


def report_sections(data: dict[str, Any], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The report laid out once: a list of ``{"title", "columns", "rows", "empty"}`` tables that the
    HTML, PDF and mail renderers all draw from."""
    names = names or {}
    score_rows = [
        [
            card["name"],
            "–" if card["score"] is None else f"{card['score']:.1f}",
            card["standing"] or "–",
            str(card["deliveries"]),
            _pct(card["metrics"]["on_time_rate"]),
            _pct(card["metrics"]["fill_rate"]),
            _pct(card["metrics"]["defect_rate"]),
            _days(card["metrics"]["lead_time_days"]),
        ]
        for card in data["cards"]
    ]
    breach_rows = [
        [
            names.get(item["supplier"], item["supplier"]),
            item["purchase_order"] or "–",
            item["sku"],
            item["received_at"][:16].replace("T", " "),
            "–" if item["late_minutes"] is None else f"{item['late_minutes']} min late",
            f"{item['received']} of {item['ordered']}" if item["short"] else "complete",
        ]
        for item in data["breaches"]
    ]
    renewal_rows = [
        [
            item["contract"],
            names.get(item["supplier"], item["supplier"]),
            item["ends_on"],
            str(item["notice_days"]),
            item["renewal_due_on"],
            "with a person" if item["handed_off"] else "upcoming",
        ]
        for item in data["renewals"]
    ]
    return [
        {
            "title": "Scorecards (95 % intervals in brackets)",
            "columns": SCORE_COLUMNS,
            "rows": score_rows,
            "empty": "No suppliers yet.",
        },
        {
            "title": "SLA breaches",
            "columns": ["Supplier", "PO", "SKU", "Received (UTC)", "Late", "Units"],
            "rows": breach_rows,
            "empty": "No late or short deliveries.",
        },
        {
            "title": "Renewals due",
            "columns": ["Contract", "Supplier", "Ends", "Notice days", "Decide by", "State"],
            "rows": renewal_rows,
            "empty": "No contract comes up for renewal in the next 90 days.",
        },
    ]


_HTML = Environment(autoescape=select_autoescape(default_for_string=True)).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}</style></head>
<body><h1>{{ title }}</h1><p>{{ period }} · generated {{ generated_at }}</p>
{% for section in sections %}<h2>{{ section.title }}</h2>
{% if section.rows %}<table><thead><tr>{% for c in section.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in section.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>{{ section.empty }}</p>{% endif %}{% endfor %}
</body></html>
"""
)


def render_html(data: dict[str, Any]) -> str:
    """The report as one HTML page."""
    return _HTML.render(**data)


def render_csv(data: dict[str, Any]) -> str:
    """The scorecards as CSV: one line per supplier and metric, with its count, interval and target."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["period", "supplier", "name", "score", "standing", "metric", "value", "count", "low", "high", "target", "sla"]
    )
    for card in data["cards"]:
        for metric, found in card["metrics"].items():
            interval = found.get("interval") or [None, None]
            writer.writerow(
                [
                    card["period"],
                    card["supplier"],
                    card["name"],
                    card["score"],
                    card["standing"],
                    metric,
                    found.get("value"),
                    found.get("count"),
                    interval[0],
                    interval[1],
                    found.get("target"),
                    found.get("sla"),
                ]
            )
    return out.getvalue()


def render_pdf(data: dict[str, Any]) -> bytes:
    """The report as a PDF (reportlab): the same sections as the HTML, one table each."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=data["title"], invariant=True)
    styles = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph(data["title"], styles["Title"]),
        Paragraph(f"{data['period']} · generated {data['generated_at']}", styles["Normal"]),
    ]
    for section in data["sections"]:
        story += [Spacer(1, 12), Paragraph(section["title"], styles["Heading2"])]
        if not section["rows"]:
            story.append(Paragraph(section["empty"], styles["Normal"]))
            continue
        table = Table([section["columns"], *section["rows"]], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f3f3")),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#cccccc")),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                ]
            )
        )
        story.append(table)
    document.build(story)
    return buffer.getvalue()


def render(data: dict[str, Any], fmt: str) -> bytes:
    """The report in ``fmt`` (html, pdf or csv) as bytes."""
    if fmt == "pdf":
        return render_pdf(data)
    return (render_html(data) if fmt == "html" else render_csv(data)).encode("utf-8")
