"""The vendors desk's mails render: the supplier's SLA alert (late, short, both) with the PO and the
figures in both parts, the team's notice on Slack and by mail, and the weekly report."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest

from storeops.connectors.base import Rejected
from storeops.connectors.notify import EmailNotifier, slack_message
from storeops.connectors.smtp import SmtpConnector
from storeops.desks.vendors.handlers import sla_alerts
from storeops.desks.vendors.policy import VendorsPolicy
from storeops.desks.vendors.reasons import VendorReason
from storeops.desks.vendors.report import render_pdf, report_sections

SUPPLIER = SimpleNamespace(name="Acme Textiles", contact_name="Ana Lopez", contact_email="ana@acme.example")
FACTS: dict[str, Any] = {
    "purchase_order": "PO-7",
    "sku": "TEE",
    "deadline": "2026-06-15T09:00:00+00:00",
    "received_at": "2026-06-15T09:01:00+00:00",
    "late_minutes": 1,
    "ordered": 10,
    "received": 9,
}


def _connector() -> SmtpConnector:
    return SmtpConnector("smtp://127.0.0.1:2525", "Shop <shop@shop.example>")


@pytest.mark.parametrize(
    ("reasons", "expected", "absent"),
    [
        ([VendorReason.LATE_DELIVERY], ["PO-7", "1 minute after", "15 June 2026 09:00 UTC"], ["9 of the 10"]),
        ([VendorReason.SHORT_SHIPMENT], ["PO-7", "9 of the 10", "remaining 1 unit will"], ["minute after"]),
        ([VendorReason.LATE_DELIVERY, VendorReason.SHORT_SHIPMENT], ["1 minute after", "9 of the 10"], []),
    ],
)
def test_the_supplier_mail_says_what_was_missed_with_the_figures(
    reasons: list[VendorReason], expected: list[str], absent: list[str]
) -> None:
    mail_message, team = sla_alerts(SUPPLIER, "ACME", "warehouse:r1", reasons, FACTS, VendorsPolicy())
    mail = _connector().render(mail_message.action, dict(mail_message.payload), "k")
    assert mail["To"] == "ana@acme.example" and "PO-7" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for fact in expected:
        assert fact in text and fact in html, fact
    for fact in absent:
        assert fact not in text, fact
    assert "Ana Lopez" in text and "Shop" in text
    posted = slack_message(team.action, dict(team.payload))
    assert "Supplier missed its SLA" in posted["text"] and "supplier:ACME" in posted["text"]


def test_the_team_notice_by_mail_uses_its_own_template() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    mailer = SimpleNamespace(send=lambda action, payload, key: sent.append((action, payload)))
    _, team = sla_alerts(SUPPLIER, "ACME", "warehouse:r1", [VendorReason.LATE_DELIVERY], FACTS, VendorsPolicy())
    EmailNotifier(mailer, "team@shop.example").send(team.action, dict(team.payload), "k")
    [(action, payload)] = sent
    assert action == "vendor.sla_team"
    mail = _connector().render(action, payload, "k")
    assert "missed its SLA" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_team_is_told_of_a_notice_announcing_a_late_delivery() -> None:
    payload = {
        "desk": "vendors",
        "subject": "supplier:ACME",
        "reasons": ["late_notice"],
        "suggestion": "ACME announces 10 × TEE for PO-7 on 15 June 2026 09:01 UTC, 1 minute after the deadline.",
        "priority": 2,
        "at_risk": True,
    }
    assert "announces a late delivery" in slack_message("vendor.sla_at_risk", payload)["text"]
    mail = _connector().render("vendor.sla_team", {"to": "team@shop.example", "link": None, **payload}, "k")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "announces a delivery after its SLA deadline" in text and "1 minute after" in text


def test_the_weekly_report_mail_renders_its_sections() -> None:
    data: dict[str, Any] = {
        "title": "Weekly vendors report",
        "period": "2026-06-01 – 2026-06-07",
        "cards": [],
        "breaches": [],
        "renewals": [],
    }
    data["sections"] = report_sections(data)
    data["generated_at"] = "2026-06-08T07:00:00+00:00"
    pdf = base64.b64encode(render_pdf(data)).decode("ascii")
    attachments = [{"filename": "vendors.pdf", "content_type": "application/pdf", "base64": pdf}]
    mail = _connector().render("vendor.report", {"to": "buyer@shop.example", **data, "attachments": attachments}, "k")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Weekly vendors report" in str(mail["Subject"]) and "No late or short deliveries." in text
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "vendors.pdf" and attached.get_content().startswith(b"%PDF")
    bad = [{"filename": "../x.pdf", "content_type": "application/pdf", "base64": pdf}]
    with pytest.raises(Rejected, match="attachment"):
        _connector().render("vendor.report", {"to": "buyer@shop.example", **data, "attachments": bad}, "k")
