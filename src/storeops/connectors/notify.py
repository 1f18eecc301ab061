"""Team notifications to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's
``/slack`` endpoint): a new urgent handoff, an SLA breach, with a link to the inbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from storeops.connectors.base import Rejected
from storeops.connectors.http import make_client, request

_HEADLINE = {
    "handoff.opened": ":rotating_light: New urgent handoff",
    "handoff.breached": ":alarm_clock: SLA breached",
    "vendor.sla_breach": ":package: Supplier missed its SLA",
    "vendor.sla_at_risk": ":hourglass: Supplier announces a late delivery",
}
_EMAIL_TEMPLATE = {
    "handoff.opened": "handoff.alert",
    "handoff.breached": "handoff.alert",
    "vendor.sla_breach": "vendor.sla_team",
}


def subject_link(base_url: str | None, subject: str) -> str | None:
    """Where a person opens ``subject`` (its handoffs, events and audit) in the web app."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/subjects/{quote(subject, safe=':')}"


def slack_message(action: str, payload: dict[str, Any], base_url: str | None = None) -> dict[str, Any]:
    """The JSON body Slack's incoming webhooks take: a ``text`` fallback and the same as blocks."""
    headline = _HEADLINE.get(action)
    if headline is None:
        raise Rejected(f"notify: storeops has no team notification {action!r}")
    reasons = ", ".join(str(r) for r in payload.get("reasons") or []) or "no reason given"
    subject = str(payload.get("subject", ""))
    link = subject_link(base_url, subject)
    lines = [
        f"*{headline}* — {payload.get('desk')} · `{subject}`",
        f"Why: {reasons}",
        f"Suggested: {payload.get('suggestion', '')}",
    ]
    if payload.get("due_at"):
        lines.append(f"Due: {payload['due_at']}")
    if link:
        lines.append(f"<{link}|Open in the inbox>")
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


class SlackNotifier:
    """The ``notify`` connector posting to ``STOREOPS_NOTIFY_WEBHOOK_URL``."""

    def __init__(self, url: str, client: httpx.Client | None = None, *, base_url: str | None = None) -> None:
        self.name = "notify"
        self.url = url
        self.base_url = base_url
        self.client = make_client(client, connections=8)

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        request(self.client, "notify", "POST", self.url, json=slack_message(action, payload, self.base_url))


class EmailNotifier:
    """The ``notify`` connector as mail to the team (``STOREOPS_NOTIFY_EMAIL``): each urgent handoff
    and SLA breach becomes a ``handoff.alert`` mail through the email connector, keyed as the notice
    is, so a retried notice is the same mail."""

    def __init__(self, mailer: Any, to: str, *, base_url: str | None = None) -> None:
        self.name = "notify"
        self.mailer = mailer
        self.to = to
        self.base_url = base_url

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        if action not in _HEADLINE:
            raise Rejected(f"notify: storeops has no team notification {action!r}")
        self.mailer.send(
            _EMAIL_TEMPLATE[action],
            {
                **payload,
                "to": self.to,
                "breached": action == "handoff.breached",
                "link": subject_link(self.base_url, str(payload.get("subject", ""))),
            },
            idempotency_key,
        )
