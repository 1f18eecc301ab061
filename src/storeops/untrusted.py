"""Reading what comes from outside: JSON with bounded nesting and no NaN, and text both databases store.

PostgreSQL refuses a NUL byte in text (and ``\\u0000`` in JSON) and a lone UTF-16 surrogate
cannot be encoded at all, while SQLite stores both: the same input was a 500 on one database and
stored on the other. ``clean`` normalises every string (NUL removed, lone surrogates replaced by
U+FFFD) so both store the same thing, and refuses what no handler should have to walk: nesting
deeper than MAX_DEPTH, non-finite numbers, a payload larger than MAX_ITEMS.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from storeops.errors import InvalidInput

MAX_DEPTH = 32
"""Deepest nesting of objects and arrays accepted (real payloads nest 4–5 deep)."""
MAX_ITEMS = 200_000
"""Most values (strings, numbers, objects, arrays) in one payload."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""After json.loads, a valid surrogate pair is one code point: any surrogate left stands alone."""


def clean_text(value: str) -> str:
    """``value`` without NUL bytes and with lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


class NotJson(InvalidInput):
    """A body or line that is not JSON (bad syntax, bytes that are not UTF-8, nesting past the parser)."""

    code = "invalid_json"


def loads(raw: bytes | str) -> Any:
    """Parse untrusted JSON, then ``clean`` it (NUL, surrogates, depth). NotJson for anything that
    does not parse, nesting deep enough to exhaust the parser included (never a RecursionError).

    NaN and Infinity parse (as Python does) so that the model reading the field refuses them
    naming it; ``parse_new_event`` refuses any left in an event's payload."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise NotJson(f"not valid JSON: nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise NotJson(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:
        # bytes that are not UTF-8, an integer of more than 4300 digits
        raise NotJson(f"not valid JSON ({str(exc)[:200]})") from None
    return clean(value, finite=False)


def clean(value: Any, *, finite: bool = True) -> Any:
    """A copy of JSON-like ``value`` with every string (keys too) passed through ``clean_text``.

    InvalidInput naming the dotted path for nesting deeper than MAX_DEPTH, more than MAX_ITEMS
    values in all, or (with ``finite``) a float that is NaN or infinite."""
    try:
        return _clean(value, 0, [MAX_ITEMS], finite)
    except _Refused as refused:
        path = ".".join(str(part) for part in reversed(refused.path))
        raise InvalidInput(f"{path or 'the body'} {refused.problem}", field=path or None) from None


class _Refused(Exception):
    """Raised from deep inside the walk; each level adds its key on the way out (paths are built
    only for the one value refused, which keeps the walk cheap on the hot path)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[Any] = []


def _clean(value: Any, depth: int, budget: list[int], finite: bool) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused(f"holds more than {MAX_ITEMS:,} values in all")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise _Refused(f"is nested deeper than {MAX_DEPTH} levels")
        out: dict[Any, Any] = {}
        for key, item in value.items():
            name = clean_text(key) if isinstance(key, str) else key
            try:
                out[name] = _clean(item, depth + 1, budget, finite)
            except _Refused as refused:
                refused.path.append(name)
                raise
        return out
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise _Refused(f"is nested deeper than {MAX_DEPTH} levels")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_clean(item, depth + 1, budget, finite))
            except _Refused as refused:
                refused.path.append(index)
                raise
        return items
    if finite and isinstance(value, float) and not math.isfinite(value):
        raise _Refused(f"is {value}, not a finite number")
    return value
