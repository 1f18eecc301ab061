"""Reply drafts from any OpenAI-compatible chat-completions endpoint (off unless configured).

The support desk never calls the model inside its transaction (a slow endpoint would hold the
database's write lock): a handoff asks for a draft through the outbox (``drafter`` connector,
action ``reply.draft``); this connector calls ``<base_url>/chat/completions`` and hands the text
back to the desk as a ``ticket.draft_ready`` event, which checks it against policy before the
person sees it. A failing endpoint raises, so the outbox retries with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from storeops.engine.events import NewEvent

SYSTEM_PROMPT = (
    "You draft replies for a human customer-service agent of an online store. Write a short, "
    "polite reply to the customer's message. Use only facts given to you: the store's policy text "
    "and the order facts. Never promise refunds, discounts, vouchers, compensation, free items or "
    "delivery dates that the given policy text does not state. If unsure, say a colleague will check."
)


class LlmDrafter:
    """``reply.draft`` → the model's draft → a ``ticket.draft_ready`` event stored through ``store``."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        store: Callable[[list[NewEvent]], Any],
        *,
        client: httpx.Client | None = None,
        name: str = "drafter",
    ) -> None:
        self.name = name
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.store = store
        self.client = client
        """An injected client (tests); otherwise each draft opens and closes its own."""

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        if action != "reply.draft":
            raise ValueError(f"the drafter does not know the action {action!r}")
        facts = f"Store policy text:\n{payload.get('policy_text') or '(none)'}\n"
        request = {
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT + "\n\n" + facts},
                {"role": "user", "content": str(payload["text"])},
            ],
        }
        if self.client is not None:
            response = self.client.post(self.url, headers=self.headers, json=request)
        else:
            with httpx.Client(timeout=30.0) as client:
                response = client.post(self.url, headers=self.headers, json=request)
        response.raise_for_status()
        draft = str(response.json()["choices"][0]["message"]["content"]).strip()
        self.store(
            [
                NewEvent(
                    source="storeops.drafter",
                    external_id=idempotency_key,
                    kind="ticket.draft_ready",
                    subject=str(payload["subject"]),
                    occurred_at=datetime.now(UTC),
                    payload={"event_id": payload["event_id"], "draft": draft[:4000], "model": self.model},
                )
            ]
        )
