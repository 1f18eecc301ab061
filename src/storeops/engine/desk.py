"""A desk plugs into the engine by describing itself with one ``Desk`` value."""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import itertools
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection

from storeops.engine.decisions import Decision, OutboxMessage
from storeops.engine.events import ENGINE_KINDS, Event, Payload
from storeops.errors import StoreopsError

if TYPE_CHECKING:
    from storeops.engine.context import HandlerContext
    from storeops.engine.policy import Policy

Handler = Callable[[Event, "HandlerContext"], Decision | None]
"""A handler takes the event and the context of its transaction and returns a Decision
(or None when the event needs no decision, e.g. a duplicate that changes nothing)."""


class DeskPolicy(BaseModel):
    """Base of a desk's policy section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Desk:
    """Everything the engine needs to know about one desk."""

    name: str
    kinds: dict[str, type[Payload]]
    """Event kinds this desk defines, with their payload models."""
    handlers: dict[str, Handler] = field(default_factory=dict)
    """Handlers by event kind; a defined kind without one is stored and counted as unhandled."""
    on_handoff_resolved: Handler | None = None
    """Called with the ``handoff.resolved`` event of this desk's handoffs."""
    on_timer: Handler | None = None
    """Called with the ``clock.tick`` events of timers this desk scheduled (payload ``desk``)."""
    lock_keys: Callable[[Event], Sequence[str]] | None = None
    """Shared things an event's handler will update (a SKU's stock, a customer). Workers lock
    every key of a batch in one global order before handling it, so two workers touching the
    same rows wait for each other instead of deadlocking."""
    reasons: type[enum.Enum] | None = None
    """The desk's reason-code enum."""
    policy: type[DeskPolicy] = DeskPolicy
    """The model of the desk's [section] in storeops.toml."""
    default_role: str = "ops"
    after_batch: Callable[[Connection, Policy, datetime], Sequence[OutboxMessage]] | None = None
    """Runs once at the end of every batch, in its transaction, after every handler: for work that
    coalesces across events (one channel push per SKU however many sales the batch held)."""
    objects: Callable[[Connection, int, int], list[dict[str, Any]]] | None = None
    """Lists the desk's main objects (orders, stock levels, …) for the API: ``(conn, limit, offset)``."""
    manual_minutes: dict[str, float] = field(default_factory=dict)
    """Default minutes a person spends on each task kind this desk automates."""


class Registry:
    """Maps event kinds to their payload models, desks and handlers."""

    def __init__(self, desks: Sequence[Desk]) -> None:
        self.desks: dict[str, Desk] = {}
        self.payload_models: dict[str, type[Payload]] = dict(ENGINE_KINDS)
        self.kind_desk: dict[str, str] = {}
        self._reason_texts: dict[str, str] | None = None
        for desk in desks:
            if desk.name in self.desks:
                raise StoreopsError(f"two desks are named {desk.name!r}")
            self.desks[desk.name] = desk
            for kind, model in desk.kinds.items():
                if kind in self.payload_models:
                    raise StoreopsError(f"event kind {kind!r} is defined twice (again by desk {desk.name!r})")
                self.payload_models[kind] = model
                self.kind_desk[kind] = desk.name
            for kind in desk.handlers:
                if kind not in desk.kinds:
                    raise StoreopsError(f"desk {desk.name!r} handles {kind!r} but does not define it")

    def route(self, event: Event) -> tuple[str, Handler | None]:
        """The desk responsible for ``event`` and its handler (None when unhandled)."""
        if event.kind in ("handoff.resolved", "clock.tick"):
            name = str(event.payload.get("desk", ""))
            desk = self.desks.get(name)
            if desk is None:
                return name or "engine", None
            return name, desk.on_handoff_resolved if event.kind == "handoff.resolved" else desk.on_timer
        name = self.kind_desk.get(event.kind, "engine")
        desk = self.desks.get(name)
        return name, desk.handlers.get(event.kind) if desk else None

    def lock_keys(self, event: Event) -> Sequence[str]:
        """The shared keys ``event``'s handler will update (empty when its desk declares none)."""
        name = self.kind_desk.get(event.kind)
        desk = self.desks.get(name) if name else None
        return desk.lock_keys(event) if desk and desk.lock_keys else ()

    def reason_texts(self) -> dict[str, str]:
        """Every desk's reason codes in plain words (the docstring under each enum member).

        Read from the source once per registry: every page shows them."""
        if self._reason_texts is None:
            texts: dict[str, str] = {}
            for desk in self.desks.values():
                if desk.reasons is not None:
                    texts.update(member_docs(desk.reasons))
            self._reason_texts = texts
        return self._reason_texts

    def desk_of(self, kind: str) -> str:
        """The desk that defines ``kind`` (``engine`` for the engine's own kinds)."""
        return self.kind_desk.get(kind, "engine")


def member_docs(enum_class: type[enum.Enum]) -> dict[str, str]:
    """``{value: docstring}`` of an enum whose members are documented by a string under each one."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(enum_class)))
    except (OSError, TypeError, SyntaxError):
        return {}
    docs: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            member = enum_class.__members__.get(statement.targets[0].id)
            if member is not None:
                docs[str(member.value)] = " ".join(following.value.value.split())
    return docs


def load_desk(spec: str) -> Desk:
    """Import a desk from ``module:attribute`` (explicit wiring, never an import side effect)."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        desk = getattr(module, attribute or "DESK")
    except (ImportError, AttributeError) as exc:
        raise StoreopsError(f"cannot load desk {spec!r}: {exc}") from None
    if not isinstance(desk, Desk):
        raise StoreopsError(f"{spec!r} is not a storeops Desk")
    return desk
