"""Every mail the orders desk asks for renders: a template per action, filled from the payload the
desk builds, with the facts the customer needs in both the text and the HTML part."""

from typing import Any

import pytest

from storeops.connectors.base import Rejected
from storeops.connectors.smtp import SUBJECTS, TEMPLATES, SmtpConnector
from storeops.desks.orders.handlers import _customer_email

ORDER: dict[str, Any] = {"subject": "order:1042", "number": "#1042", "email": "ada@example.com"}

CASES = [
    ("order.cancelled", {"refund_text": "EUR 12.50"}, ["#1042", "cancelled", "EUR 12.50"]),
    ("order.cancelled", {"refund_text": None}, ["#1042", "cancelled"]),
    ("order.changed", {"ship_to": "1 Rue de la Paix, 75002 Paris, FR"}, ["#1042", "1 Rue de la Paix"]),
    ("order.change_declined", {}, ["#1042", "cannot be made"]),
    ("order.change_too_late", {"status": "fulfilled"}, ["#1042", "fulfilled"]),
    ("order.refunded", {"refund_text": "USD 40.00"}, ["#1042", "USD 40.00"]),
]


def _connector() -> SmtpConnector:
    return SmtpConnector("smtp://127.0.0.1:2525", "Acme Shop <shop@acme.example>")


@pytest.mark.parametrize(("template", "facts", "expected"), CASES)
def test_each_orders_mail_renders_with_the_facts_the_customer_needs(
    template: str, facts: dict[str, Any], expected: list[str]
) -> None:
    message = _customer_email(ORDER, template, "k", **facts)
    mail = _connector().render(message.action, dict(message.payload), str(message.idempotency_key))
    assert mail["To"] == "ada@example.com"
    assert "#1042" in str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for fact in expected:
        assert fact in text and fact in html, (template, fact)
    assert "Acme Shop" in text
    if facts.get("refund_text") is None and template == "order.cancelled":
        assert "refunded" not in text


def test_every_template_has_both_parts_and_a_subject_line() -> None:
    actions = {path.name.rsplit(".", 1)[0] for path in TEMPLATES.iterdir() if path.suffix in (".txt", ".html")}
    for action in actions:
        assert (TEMPLATES / f"{action}.txt").exists() and (TEMPLATES / f"{action}.html").exists(), action
        assert action in SUBJECTS, action


def test_a_mail_missing_a_fact_its_template_needs_is_refused_not_sent_with_a_gap() -> None:
    message = _customer_email(ORDER, "order.changed", "k")  # no ship_to
    with pytest.raises(Rejected, match=r"order\.changed"):
        _connector().render(message.action, dict(message.payload), str(message.idempotency_key))


def test_the_shipping_mail_names_each_tracking_number_and_the_carrier() -> None:
    payload = {"to": "ada@example.com", "order": "#1042", "tracking_numbers": ["COL1", "COL2"], "carrier": "colissimo"}
    mail = _connector().render("order.shipped", payload, "k")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "#1042" in str(mail["Subject"]) and "COLISSIMO" in text
    assert "Tracking number: COL1" in text and "Tracking number: COL2" in text


RETURN_BASE = {"to": "ada@example.com", "order": "1042", "rma": "R-1A2B3C4D"}
RETURN_CASES = [
    (
        "return.authorized",
        {"tracking_number": "RT1", "units": 2, "send_by": "15 December 2026", "refund_text": "EUR 40.00",
         "refund_minor": 4000, "exchange": []},
        ["R-1A2B3C4D", "RT1", "15 December 2026", "we refund EUR 40.00"],
    ),
    (
        "return.authorized",
        {"tracking_number": "RT1", "units": 1, "send_by": "15 December 2026", "refund_text": "EUR 0.00",
         "refund_minor": 0, "exchange": ["TEE-L × 1"]},
        ["we send your replacement (TEE-L × 1)"],
    ),
    ("return.refunded", {"refund_text": "EUR 9.00", "store_credit": False, "returnless": True, "exchange": []},
     ["keep the item", "refunded EUR 9.00"]),
    ("return.refunded", {"refund_text": "EUR 20.00", "store_credit": True, "returnless": False, "exchange": []},
     ["EUR 20.00 of store credit"]),
    ("return.refunded", {"refund_text": None, "store_credit": False, "returnless": False, "exchange": ["MUG × 1"]},
     ["replacement is on its way: MUG × 1"]),
    ("return.reviewing", {}, ["R-1A2B3C4D", "do not send anything back"]),
    ("return.rejected", {"why": "It was worn."}, ["cannot accept return", "It was worn."]),
    ("return.refused", {"why": "not_shipped"}, ["has not shipped yet"]),
    ("return.refused", {"why": "already_returned"}, ["already on its way back"]),
    ("return.refused", {"why": "cancelled"}, ["was cancelled"]),
]  # fmt: skip


@pytest.mark.parametrize(("template", "facts", "expected"), RETURN_CASES)
def test_each_returns_mail_renders_with_the_facts_the_customer_needs(
    template: str, facts: dict[str, Any], expected: list[str]
) -> None:
    mail = _connector().render(template, {**RETURN_BASE, **facts}, "k")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for fact in expected:
        assert fact in text and fact in html, (template, fact)
    if template == "return.refunded" and facts["refund_text"] is None:
        assert "refunded" not in text
