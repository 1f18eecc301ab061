"""The seam every connector implements, and the few ways a send can fail that the outbox treats apart."""

from __future__ import annotations

from typing import Any, Protocol


class Connector(Protocol):
    """Sends one side effect to an outside system.

    ``send`` must be safe to call twice with the same ``idempotency_key`` (the outbox delivers
    at least once) and raise on failure so the outbox retries. Raise ``RetryAfter`` when the
    remote asked to wait (not counted as a failed attempt), ``Rejected`` when it refused the
    request for good (dead at once, its reason shown), ``Uncertain`` when the message may have
    reached the remote and cannot be safely sent again (dead at once, for a person to check).
    Any other exception is a failed attempt: retried with backoff, dead after the last.
    """

    name: str

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None: ...


class ConnectorError(Exception):
    """A failure a connector describes in one line (what the remote said), shown as the message's error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RemoteError(ConnectorError):
    """The remote failed (5xx, unreachable, an answer that is not its API): a failed attempt, retried."""


class RetryAfter(ConnectorError):
    """The remote asked to wait ``seconds`` (HTTP 429, a GraphQL throttle): sent again then, and the
    wait is not counted as a failed attempt, so any number of 429s never dead-letters a message."""

    def __init__(self, seconds: float, message: str) -> None:
        super().__init__(message)
        self.seconds = max(0.0, seconds)


class Rejected(ConnectorError):
    """The remote refused this message for good (a 4xx, a GraphQL user error): dead at once with the
    remote's reason, to be re-run from the dead letters once the cause is fixed."""


class Uncertain(ConnectorError):
    """An earlier attempt handed the message over and stopped before hearing back (the sender was
    killed): it may have arrived. Not sent again by itself; a person checks and re-runs it."""


class Handovers(Protocol):
    """Where a connector without an idempotency key at the far end (SMTP) notes, durably, that it
    is about to hand a message over for good, so a sender killed at that moment does not send it
    twice. The outbox provides it (``engine.outbox.OutboxHandovers``)."""

    def handed_over(self, idempotency_key: str) -> bool:
        """True when an earlier attempt at this message reached the point of no return."""
        ...

    def hand_over(self, idempotency_key: str) -> None:
        """Record, durably, that this attempt is about to reach the point of no return."""
        ...


def close_connectors(connectors: Any) -> None:
    """Close what connectors hold open (HTTP connection pools), for those that hold any."""
    seen: set[int] = set()
    for connector in dict(connectors).values():
        _close(connector, seen)


def _close(connector: Any, seen: set[int]) -> None:
    if id(connector) in seen:
        return
    seen.add(id(connector))
    for inner in getattr(connector, "routes", {}).values():
        _close(inner, seen)
    for part in ("admin", "rest"):
        if hasattr(connector, part):
            _close(getattr(connector, part), seen)
    client = getattr(connector, "client", None)
    if client is not None and hasattr(client, "close") and id(client) not in seen:
        seen.add(id(client))
        client.close()


class StorefrontActions:
    """The storefront actions the outbox sends (fulfil, hold, release, cancel, tag, refund, set
    stock), dispatched to the ``_<verb>(payload, key)`` methods each storefront connector has."""

    remote = "storefront"
    """Prefix of this connector's messages (``shopify``)."""
    title = "storefront"
    """How its refusals name it (``Shopify``)."""
    ACTIONS = {
        "fulfilment.create": "_fulfil",
        "fulfilment.hold": "_hold",
        "fulfilment.release": "_release",
        "order.cancel": "_cancel",
        "order.tag": "_tag",
        "refund.create": "_refund",
        "store_credit.issue": "_store_credit",
        "stock.set": "_stock",
    }

    def _store_credit(self, payload: dict[str, Any], key: str) -> None:
        # Neither storefront's API issues store credit the way storeops would need (Shopify's
        # gift cards and store-credit accounts need other scopes and a customer id storeops does
        # not keep): refused, it waits in `storeops connectors dead` for a person to issue by hand.
        raise Rejected(
            f"{self.remote}: store credit for order {payload.get('order')} "
            f"({payload.get('amount_minor')} {payload.get('currency')} minor units) is issued by hand in the "
            f"{self.title} admin"
        )

    def send(self, action: str, payload: dict[str, Any], idempotency_key: str) -> None:
        """Carry out ``action``; an action no storefront has is refused."""
        method = self.ACTIONS.get(action)
        if method is None:
            raise Rejected(f"{self.remote}: storeops has no {self.title} action {action!r}")
        getattr(self, method)(payload, idempotency_key)
