"""The exceptions storeops raises on purpose.

Every one of them carries a message a person can act on; the CLI and the HTTP layer
print it as one line (or return it as an error body) instead of a traceback.
"""

from __future__ import annotations


class StoreopsError(Exception):
    """Base of every error storeops raises deliberately."""

    code = "storeops_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(StoreopsError):
    """Input from a user or an outside system is malformed or fails validation."""

    code = "invalid_input"


class UnknownEventKind(InvalidInput):
    """An event names a kind that storeops does not define."""

    code = "unknown_event_kind"


class PolicyError(StoreopsError):
    """The policy file has a wrong key, a wrong type or an impossible value."""

    code = "policy_error"


class DatabaseUnavailable(StoreopsError):
    """The configured database cannot be reached or is not migrated."""

    code = "database_unavailable"


class NotFound(StoreopsError):
    """A handoff, event or other object named by id does not exist."""

    code = "not_found"


class Conflict(StoreopsError):
    """The request is valid but the object is in a state that forbids it."""

    code = "conflict"


class Unauthorized(StoreopsError):
    """No valid credentials: a missing, wrong or revoked token or session."""

    code = "unauthorized"


class Forbidden(StoreopsError):
    """Valid credentials, but the role may not do this (or a form lacks its CSRF token)."""

    code = "forbidden"
