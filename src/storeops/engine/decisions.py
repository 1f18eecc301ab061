"""What a desk's handler returns: the decision, its reasons and evidence, and any handoff."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storeops.errors import StoreopsError
from storeops.money import Money

if TYPE_CHECKING:
    from storeops.engine.events import NewEvent


class Outcome(enum.StrEnum):
    """How a decision or action in the audit log came about."""

    AUTOMATIC = "automatic"
    """Automation decided and acted alone."""
    HANDOFF = "handoff"
    """Automation stopped and handed the case to a person."""
    HUMAN = "human"
    """A person acted (resolved a handoff, changed policy, re-ran an event)."""


@dataclass(frozen=True)
class OutboxMessage:
    """A side effect on the outside world, sent after the decision commits."""

    connector: str
    action: str
    payload: dict[str, Any]
    idempotency_key: str | None = None
    """Stable key so a retried send is recognised; derived from the event when left empty."""
    subject: str | None = None
    """What the message is about; the event's subject when left empty."""


@dataclass(frozen=True)
class HandoffRequest:
    """Hand the case to a person: for whom, why, and what automation suggests."""

    role: str
    suggestion: str
    priority: int = 2
    """1 = urgent, 2 = normal, 3 = low."""
    amount: Money | None = None
    """The money at stake, shown in the inbox."""


@dataclass(frozen=True)
class Decision:
    """The result of one handler run.

    ``reasons`` are members of the desk's reason-code enum; ``evidence`` holds the numbers
    behind them (threshold and value, scores, factors) and must be JSON-serialisable.
    """

    action: str
    reasons: tuple[enum.Enum, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    task: str | None = None
    """The manual task this saves a person (key of [metrics] manual_minutes) when automatic."""
    handoff: HandoffRequest | None = None
    outbox: tuple[OutboxMessage, ...] = ()
    actor: str | None = None
    """Who decided, e.g. ``automation:orders.risk@3``; defaults to ``automation:<desk>``."""
    subject: str | None = None
    """What the decision is about when that is not the event's subject: a Shopify stock report
    arrives as ``stock:shopify:<item>`` and is decided, audited and handed off as ``sku:<SKU>``."""
    follow_ups: tuple[NewEvent, ...] = ()
    """Events this decision sets in motion (a cancellation the support desk asks of the orders
    desk, a purchase order the reorder run drafted): validated and stored by the worker in the
    decision's own transaction, then delivered like any other event."""

    def __post_init__(self) -> None:
        # Evidence goes into a JSON column with the decision; refusing it here makes a bad value a
        # failure of the handler that built it (retried, then dead-lettered) instead of a failed
        # commit of a whole batch.
        try:
            json.dumps(self.evidence, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreopsError(
                f"decision {self.action!r}: evidence must be JSON (numbers, text, lists, objects): {exc}"
            ) from None

    @property
    def outcome(self) -> Outcome:
        """HANDOFF when the decision hands the case to a person, else AUTOMATIC."""
        return Outcome.HANDOFF if self.handoff is not None else Outcome.AUTOMATIC

    def reason_codes(self) -> list[str]:
        """The reason codes as plain strings, in order."""
        return [str(reason.value) for reason in self.reasons]
