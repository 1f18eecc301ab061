"""A desk plugs into the engine by describing itself with one ``Desk`` value."""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import itertools
import textwrap
from collections.abc import Callable, Mapping, Sequence
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
    from storeops.engine.metrics import DeskFigures
    from storeops.engine.models import ModelLoader
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
    """The kinds this desk subscribes to, each with its handler: its own kinds and any other desk's
    (the returns desk reads ``order.created``). Every subscribing desk gets its own delivery of an
    event. A defined kind no desk subscribes to is stored and counted as unhandled."""
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
    load_models: ModelLoader | None = None
    """Loads the desk's models on first use; its handlers reach them as ``ctx.models``."""
    check_resolution: Callable[[Connection, Mapping[str, Any], str, Mapping[str, Any]], dict[str, Any]] | None = None
    """Checks a person's resolution of one of the desk's handoffs before it is queued, in the same
    transaction: returns the changes normalised, or raises InvalidInput naming a field a "modify"
    may not carry for the handoff's reasons, or Conflict when it can no longer be carried out."""
    figures: DeskFigures | None = None
    """The desk's own figures over a period, beside the engine's (the orders desk's fulfilment accuracy)."""


ADDRESSED_KINDS = ("handoff.resolved", "clock.tick")
"""Engine kinds addressed to one desk by their payload's ``desk`` (its handoff, its timer)."""


class Registry:
    """Maps event kinds to their payload models, the desk that defines each, and the desks that
    subscribe to each with their handlers (an event is delivered once to every subscriber)."""

    def __init__(self, desks: Sequence[Desk]) -> None:
        self.desks: dict[str, Desk] = {}
        self.payload_models: dict[str, type[Payload]] = dict(ENGINE_KINDS)
        self.kind_desk: dict[str, str] = {}
        self.kind_subscribers: dict[str, list[str]] = {}
        self._reason_texts: dict[str, str] | None = None
        for desk in desks:
            if desk.name in self.desks:
                raise StoreopsError(f"two desks are named {desk.name!r}")
            if not desk.name.isidentifier() or len(desk.name) > 32:
                raise StoreopsError(f"desk name {desk.name!r} must be a short identifier")
            self.desks[desk.name] = desk
            for kind, model in desk.kinds.items():
                if kind in self.payload_models:
                    raise StoreopsError(f"event kind {kind!r} is defined twice (again by desk {desk.name!r})")
                self.payload_models[kind] = model
                self.kind_desk[kind] = desk.name
        for desk in desks:
            for kind in desk.handlers:
                if kind not in self.payload_models or kind in ADDRESSED_KINDS:
                    raise StoreopsError(
                        f"desk {desk.name!r} subscribes to {kind!r}, which no desk defines"
                        if kind not in ADDRESSED_KINDS
                        else f"desk {desk.name!r} handles {kind!r} through on_handoff_resolved / on_timer"
                    )
                self.kind_subscribers.setdefault(kind, []).append(desk.name)

    def subscribers(self, kind: str, payload: Mapping[str, Any]) -> list[tuple[str, bool]]:
        """``(desk, handled)`` for each desk an event of ``kind`` is delivered to. The engine's own
        kinds go to the desk their payload names; a kind nobody subscribes to goes, unhandled, to
        the desk that defines it (so it is counted there)."""
        if kind in ADDRESSED_KINDS:
            name = str(payload.get("desk") or "")
            return [(name or "engine", self.handler(name or "engine", kind) is not None)]
        subscribed = self.kind_subscribers.get(kind)
        if subscribed:
            return [(name, True) for name in subscribed]
        return [(self.kind_desk.get(kind, "engine"), False)]

    def handler(self, desk_name: str, kind: str) -> Handler | None:
        """The handler ``desk_name`` runs for ``kind`` (None when it does not handle it)."""
        desk = self.desks.get(desk_name)
        if desk is None:
            return None
        if kind == "handoff.resolved":
            return desk.on_handoff_resolved
        if kind == "clock.tick":
            return desk.on_timer
        return desk.handlers.get(kind)

    def lock_keys(self, desk_name: str, event: Event) -> Sequence[str]:
        """The shared keys ``desk_name``'s handler of ``event`` will update (empty when it declares none)."""
        desk = self.desks.get(desk_name)
        return desk.lock_keys(event) if desk and desk.lock_keys else ()

    def declares_keys(self, desk_name: str) -> bool:
        """Whether ``desk_name`` declares ordering keys (``Desk.lock_keys``): only its deliveries
        are ordered across subjects."""
        desk = self.desks.get(desk_name)
        return desk is not None and desk.lock_keys is not None

    def figures(self) -> dict[str, DeskFigures]:
        """The desks' own figures functions, by desk (for the owner's report)."""
        return {name: desk.figures for name, desk in self.desks.items() if desk.figures is not None}

    def describe(self) -> list[dict[str, Any]]:
        """Each desk with the kinds it defines and the kinds it subscribes to (``storeops desks``)."""
        out = []
        for name, desk in self.desks.items():
            subscribes = sorted(desk.handlers)
            if desk.on_handoff_resolved is not None:
                subscribes.append("handoff.resolved")
            if desk.on_timer is not None:
                subscribes.append("clock.tick")
            out.append(
                {
                    "desk": name,
                    "defines": sorted(desk.kinds),
                    "subscribes": subscribes,
                    "default_role": desk.default_role,
                    "reasons": sorted(member_docs(desk.reasons)) if desk.reasons is not None else [],
                }
            )
        return out

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
