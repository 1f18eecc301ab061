"""The policy's model: every section validated by pydantic, money checked against the store's
currency, one immutable ``Policy`` value with its digest and version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from storeops.engine.desk import Desk
from storeops.engine.events import describe_validation_error
from storeops.errors import PolicyError
from storeops.money import Money, validate_currency


class _MoneyMarker:
    """Marks a policy field as money in the store's currency."""


MONEY = _MoneyMarker()


def _decimal_text(value: str) -> str:
    # Shape only (a finite decimal); the precision the store's currency allows is checked in build_policy.
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f'{value!r} is not a decimal amount such as "500.00"') from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return value


MoneyText = Annotated[str, AfterValidator(_decimal_text), MONEY]
"""A money amount written as a decimal string in the store's currency, e.g. ``"500.00"``."""


class StorePolicy(BaseModel):
    """[store]: facts about the store itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field("EUR", description="ISO 4217 currency the store reports and sets thresholds in.")
    timezone: str = Field("UTC", description="IANA zone for 'a day' in schedules and reports; storage stays UTC.")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return validate_currency(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Paris") from None
        return value


class EnginePolicy(BaseModel):
    """[engine]: how workers claim and retry events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(200, ge=1, le=5000, description="Events a worker claims and commits together.")
    max_attempts: int = Field(5, ge=1, le=100, description="Attempts before an event is dead-lettered.")
    retry_base_seconds: float = Field(2.0, gt=0, description="First retry delay; doubles each attempt.")
    retry_max_seconds: float = Field(3600.0, gt=0, description="Longest delay between two attempts.")
    poll_interval_ms: int = Field(50, ge=1, le=60000, description="How long an idle worker waits before polling again.")
    clock: Literal["wall", "events"] = Field(
        "wall",
        description="What time timers fire by: wall (live traffic) or events (replaying a backlog — an import, a "
        "simulation, a backtest: the clock follows the events' occurred_at, never past the newest); "
        "storeops work --clock overrides it.",
    )


class OutboxPolicy(BaseModel):
    """[outbox]: how side effects reach the outside world (see docs/connectors.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int = Field(32, ge=1, le=256, description="Messages a sender has in flight at once.")
    max_attempts: int = Field(8, ge=1, le=100, description="Failed attempts before a message is dead-lettered.")
    retry_base_seconds: float = Field(5.0, gt=0, description="First retry delay; doubles each attempt, with jitter.")
    retry_max_seconds: float = Field(3600.0, gt=0, description="Longest delay between two attempts.")
    lease_seconds: int = Field(
        300, ge=1, le=86400, description="How long a sender owns a message it is sending before another may."
    )
    breaker_failures: int = Field(
        5, ge=1, le=1000, description="Failures in a row after which a connector is paused (its circuit opens)."
    )
    breaker_seconds: float = Field(
        30.0, gt=0, description="First pause of an open circuit; doubles while the connector keeps failing."
    )
    notify_customer: bool = Field(
        True, description="Let the storefront email the customer when storeops fulfils or cancels an order."
    )
    notify_priority: int = Field(
        1,
        ge=0,
        le=3,
        description="New handoffs of this priority or more urgent (1 = urgent) are posted to the "
        "team's chat (the notify connector); 0 posts none. SLA breaches are posted whatever their priority.",
    )


class InboxPolicy(BaseModel):
    """[inbox]: service levels for handoffs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_minutes: int = Field(240, ge=1, description="Time a person has to resolve a handoff (its due time).")
    sla_minutes_by_desk: dict[str, int] = Field(
        default_factory=dict, description="Per-desk override of sla_minutes, e.g. {support = 60}."
    )
    warn_before_minutes: int = Field(30, ge=0, description="How long before the due time a handoff turns amber.")
    expire_after_hours: int = Field(
        0, ge=0, description="Expire open handoffs this long after their due time; 0 keeps them open."
    )


class MetricsPolicy(BaseModel):
    """[metrics]: what the owner's figures are computed with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manual_minutes: dict[str, float] = Field(
        default_factory=dict,
        description="Minutes a person would spend on each automated task kind (overrides the desks' defaults).",
    )


_CORE_SECTIONS: dict[str, type[BaseModel]] = {
    "store": StorePolicy,
    "engine": EnginePolicy,
    "inbox": InboxPolicy,
    "outbox": OutboxPolicy,
    "metrics": MetricsPolicy,
}

SectionT = TypeVar("SectionT", bound=BaseModel)


class Policy:
    """The effective policy: validated sections, a digest, and (once recorded) a version."""

    def __init__(self, sections: Mapping[str, BaseModel], source: str, manual_minutes: Mapping[str, float]) -> None:
        self.sections = dict(sections)
        self.source = source
        self.manual_minutes = dict(manual_minutes)
        self.version: int | None = None

    @property
    def store(self) -> StorePolicy:
        return self.section("store", StorePolicy)

    @property
    def engine(self) -> EnginePolicy:
        return self.section("engine", EnginePolicy)

    @property
    def outbox(self) -> OutboxPolicy:
        return self.section("outbox", OutboxPolicy)

    @property
    def inbox(self) -> InboxPolicy:
        return self.section("inbox", InboxPolicy)

    def section(self, name: str, model: type[SectionT]) -> SectionT:
        """The section ``name`` as its model (a desk reads its own with this)."""
        value = self.sections[name]
        if not isinstance(value, model):
            raise TypeError(f"policy section {name!r} is a {type(value).__name__}, not {model.__name__}")
        return value

    def money(self, text: str) -> Money:
        """A money amount from the policy in the store's currency."""
        return Money.parse(text, self.store.currency)

    def sla_minutes(self, desk: str) -> int:
        """Minutes a person has for a handoff of ``desk``."""
        return self.inbox.sla_minutes_by_desk.get(desk, self.inbox.sla_minutes)

    def as_dict(self) -> dict[str, Any]:
        """Every section with every key, defaults filled in (JSON-ready)."""
        return {name: section.model_dump(mode="json") for name, section in self.sections.items()}

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the effective policy."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def section_models(desks: Sequence[Desk]) -> dict[str, type[BaseModel]]:
    """Every section the policy file may have, core sections first."""
    models: dict[str, type[BaseModel]] = dict(_CORE_SECTIONS)
    for desk in desks:
        models[desk.name] = desk.policy
    return models


def build_policy(data: Mapping[str, Any], desks: Sequence[Desk], source: str = "defaults") -> Policy:
    """Validate ``data`` (parsed TOML) into a Policy; raises PolicyError naming the key."""
    models = section_models(desks)
    for name, value in data.items():
        if name not in models:
            raise PolicyError(f"{source}: unknown section [{name}]; known sections: {', '.join(models)}", field=name)
        if not isinstance(value, dict):
            raise PolicyError(f"{source}: '{name}' must be a [section] table", field=name)
    sections: dict[str, BaseModel] = {}
    for name, model in models.items():
        try:
            sections[name] = model.model_validate(data.get(name, {}))
        except ValidationError as exc:
            message, field = describe_validation_error(exc)
            key = f"{name}.{field}" if field else name
            if exc.errors()[0]["type"] == "extra_forbidden":
                message = f"unknown key; [{name}] has: {', '.join(model.model_fields)}"
            else:
                message = message.split(": ", 1)[1] if ": " in message else message
            raise PolicyError(f"{source}: [{name}] {field}: {message}", field=key) from None
    currency = sections["store"].currency  # type: ignore[attr-defined]
    for name, section in sections.items():
        for path, value in _money_fields(section, ""):
            try:
                Money.parse(value, currency)
            except ValueError as exc:
                raise PolicyError(f"{source}: [{name}] {path}: {exc}", field=f"{name}.{path}") from None
    manual: dict[str, float] = {}
    for desk in desks:
        manual.update(desk.manual_minutes)
    overrides = sections["metrics"].manual_minutes  # type: ignore[attr-defined]
    unknown = sorted(set(overrides) - set(manual))
    if unknown:
        raise PolicyError(
            f"{source}: [metrics] manual_minutes: unknown task {unknown[0]!r}; "
            f"known tasks: {', '.join(sorted(manual))}",
            field="metrics.manual_minutes",
        )
    manual.update(overrides)
    return Policy(sections, source, manual)


def _money_fields(model: BaseModel, prefix: str) -> list[tuple[str, str]]:
    """(dotted path, value) of every money field in ``model``, nested models and lists included."""
    found: list[tuple[str, str]] = []
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        path = f"{prefix}{key}"
        if any(isinstance(meta, _MoneyMarker) for meta in info.metadata):
            found.append((path, value))
        elif isinstance(value, BaseModel):
            found += _money_fields(value, f"{path}.")
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _money_fields(item, f"{path}[{index}].")
        elif isinstance(value, dict):
            for item_key, item in value.items():
                if isinstance(item, BaseModel):
                    found += _money_fields(item, f"{path}.{item_key}.")
    return found


def policy_defaults_dict(desks: Sequence[Desk]) -> dict[str, dict[str, Any]]:
    """Every key with its default and description, by section (for ``policy show`` and the docs)."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in section_models(desks).items():
        instance = model()
        out[name] = {
            key: {"default": getattr(instance, key), "description": info.description or ""}
            for key, info in model.model_fields.items()
        }
    return out
