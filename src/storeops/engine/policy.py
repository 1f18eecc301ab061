"""Policy: every threshold and switch, from storeops.toml over built-in defaults, versioned.

The file has one ``[section]`` per desk plus ``[store]``, ``[engine]``, ``[inbox]`` and
``[metrics]``. An unknown section or key is an error that names it; so is a wrong type.
Every decision records the version of the policy it used.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storeops.clock import utcnow
from storeops.engine.desk import Desk, DeskPolicy
from storeops.engine.events import describe_validation_error
from storeops.errors import PolicyError
from storeops.money import Money, validate_currency
from storeops.storage.schema import policy_versions


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


def default_policy_path(configured: Path | None) -> Path | None:
    """The policy file to read: the configured one, else ./storeops.toml when it exists."""
    if configured is not None:
        return configured
    local = Path("storeops.toml")
    return local if local.is_file() else None


def load_policy(path: Path | None, desks: Sequence[Desk]) -> Policy:
    """Read and validate the policy file (built-in defaults when ``path`` is None)."""
    if path is None:
        return build_policy({}, desks)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from None
    return build_policy(data, desks, source=str(path))


def editable_policy_path(configured: Path | None) -> Path:
    """The file policy edits are written to: the configured one, else ./storeops.toml."""
    return configured if configured is not None else Path("storeops.toml")


def parse_toml_value(text: str, field: str) -> Any:
    """One TOML value written as in the file (``250``, ``"500.00"``, ``["VIP"]``, ``{support = 60}``)."""
    try:
        return tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        raise PolicyError(
            f'{field}: {text.strip()!r} is not a TOML value; write numbers as 250, text as "500.00", '
            'lists as ["a", "b"] and tables as {key = 1}',
            field=field,
        ) from None


def edit_policy_value(path: Path, section: str, key: str, value_text: str, desks: Sequence[Desk]) -> Policy:
    """Set ``[section] key = value`` in the policy file and return the new validated Policy.

    Nothing is written unless the whole resulting policy validates. The file is rewritten
    atomically with its comments and layout kept (tomlkit), so hand edits survive web edits.
    """
    import os

    import tomlkit

    models = section_models(desks)
    if section not in models:
        raise PolicyError(f"unknown section [{section}]; known sections: {', '.join(models)}", field=section)
    if key not in models[section].model_fields:
        raise PolicyError(f"[{section}] has no key {key!r}", field=f"{section}.{key}")
    value = parse_toml_value(value_text, f"{section}.{key}")
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (OSError, tomlkit.exceptions.TOMLKitError) as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    table[key] = value
    text = tomlkit.dumps(document)
    policy = build_policy(tomllib.loads(text), desks, source=str(path))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise PolicyError(f"cannot write policy file {path}: {exc.strerror}") from None
    return policy


class PolicyFile:
    """The policy file a long-running process works from, reloaded when it changes on disk.

    A web edit or a hand edit reaches every worker within a tick; a file that stops validating
    is reported and the last good policy stays in force.
    """

    def __init__(self, path: Path, desks: Sequence[Desk]) -> None:
        self.path = path
        self.desks = list(desks)
        self._stamp = self._current_stamp()
        self.error: str | None = None
        """Why the last reload was refused (set only on the call that saw the bad change)."""

    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def reload_if_changed(self) -> Policy | None:
        """The new policy when the file changed since last time and validates, else None."""
        self.error = None
        stamp = self._current_stamp()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            policy = load_policy(self.path if stamp is not None else None, self.desks)
        except PolicyError as exc:
            self.error = exc.message
            return None
        return policy


def record_policy_version(conn: Connection, policy: Policy) -> int:
    """Store the policy (once per distinct content) and set and return its version number.

    Safe when several workers start at once: a version number or digest another process
    took first is simply looked up again.
    """
    digest = policy.digest
    factory = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    for _ in range(10):
        existing = conn.execute(select(policy_versions.c.version).where(policy_versions.c.digest == digest)).scalar()
        if existing is not None:
            policy.version = int(existing)
            return policy.version
        latest = conn.execute(select(func.max(policy_versions.c.version))).scalar() or 0
        inserted = conn.execute(
            factory(policy_versions)
            .values(
                version=latest + 1,
                digest=digest,
                content=policy.as_dict(),
                source=policy.source,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        if inserted.rowcount == 1:
            policy.version = latest + 1
            return policy.version
    raise PolicyError("could not record the policy version: too many concurrent policy changes; try again")


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


__all__ = [
    "MONEY",
    "DeskPolicy",
    "EnginePolicy",
    "InboxPolicy",
    "MetricsPolicy",
    "MoneyText",
    "Policy",
    "PolicyFile",
    "StorePolicy",
    "build_policy",
    "edit_policy_value",
    "load_policy",
    "record_policy_version",
]
