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
