"""Events: typed, validated facts with a dedupe key and a subject."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from storeops.bounds import Timestamp, bounded_utc
from storeops.errors import InvalidInput, UnknownEventKind
from storeops.untrusted import clean

SUBJECT_PATTERN = re.compile(r"^[a-z][a-z_]*:[^\s]+$")


class Payload(BaseModel):
    """Base of every event payload: unknown fields are kept, known ones are validated."""

    model_config = ConfigDict(extra="allow", frozen=True)


PayloadT = TypeVar("PayloadT", bound=Payload)


class HandoffResolvedPayload(Payload):
    """A person resolved a handoff; the desk that raised it resumes its flow."""

    handoff_id: int
    desk: str
    resolution: str
    actor: str
    note: str | None = None
    reasons: list[str] = Field(default_factory=list)
    changes: dict[str, Any] = Field(default_factory=dict)


class ClockTickPayload(Payload):
    """A timer fired (a scheduled run such as a daily forecast, or a one-off check)."""

    timer: str
    scheduled_for: Timestamp


class NewEvent(BaseModel):
    """An event as it arrives, before the queue has given it an id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=255)
    kind: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=3, max_length=255)
    occurred_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("subject")
    @classmethod
    def _subject_shape(cls, value: str) -> str:
        if not SUBJECT_PATTERN.match(value):
            raise ValueError("must look like 'type:id', e.g. order:sim:1042 or sku:TSHIRT-M")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return bounded_utc(value)


@dataclass(frozen=True, slots=True)
class Event:
    """An event as stored in the queue: what handlers receive.

    A plain dataclass rather than a pydantic model: events are validated once, on ingest, and
    rebuilding thousands per second from the queue is the engine's hot path.
    """

    id: int
    source: str
    external_id: str
    kind: str
    subject: str
    occurred_at: datetime
    received_at: datetime
    payload: dict[str, Any]
    attempts: int = 0

    def parsed(self, model: type[PayloadT]) -> PayloadT:
        """The payload as its typed model (it was validated on ingest)."""
        return model.model_validate(self.payload)


def describe_validation_error(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    """A one-line message and the dotted field path of the first problem in ``exc``."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    if prefix:
        field = f"{prefix}.{field}" if field else prefix
    count = len(exc.errors())
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return f"{field or 'event'}: {first['msg']}{more}", field


def parse_new_event(raw: Any, payload_models: dict[str, type[Payload]]) -> NewEvent:
    """Validate one raw event (a dict from JSON) against the envelope and its kind's payload.

    Raises InvalidInput / UnknownEventKind naming the field and the problem. The returned event's
    payload keeps unknown fields and has known ones normalised to JSON-ready values; its text is
    cleaned (``untrusted.clean``) so SQLite and PostgreSQL store the same thing.
    """
    if not isinstance(raw, dict):
        raise InvalidInput(f"an event must be a JSON object, got {type(raw).__name__}")
    raw = clean(raw)
    try:
        event = NewEvent.model_validate(raw)
    except ValidationError as exc:
        message, field = describe_validation_error(exc)
        raise InvalidInput(message, field=field) from None
    model = payload_models.get(event.kind)
    if model is None:
        known = ", ".join(sorted(payload_models))
        raise UnknownEventKind(f"unknown event kind {event.kind!r}; storeops defines: {known}", field="kind")
    try:
        payload = model.model_validate(event.payload)
    except ValidationError as exc:
        message, field = describe_validation_error(exc, prefix="payload")
        raise InvalidInput(f"{event.kind}: {message}", field=field) from None
    return event.model_copy(update={"payload": payload.model_dump(mode="json")})


ENGINE_KINDS: dict[str, type[Payload]] = {
    "handoff.resolved": HandoffResolvedPayload,
    "clock.tick": ClockTickPayload,
}
