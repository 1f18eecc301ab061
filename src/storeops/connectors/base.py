"""The seam every connector implements."""

from __future__ import annotations

from typing import Any, Protocol


class Connector(Protocol):
    """Sends one side effect to an outside system.

    ``send`` must be safe to call twice with the same ``idempotency_key`` (the outbox delivers
    at least once) and raise on failure so the outbox retries.
    """

    name: str

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None: ...
