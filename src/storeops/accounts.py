"""People and machines that may act: users with roles, API tokens, and web sessions.

A role decides which handoffs a person sees and resolves: a handoff carries the role its desk
asked for (orders → ops, support → support, inventory → procurement, …) and the owner sees
everything. Passwords are hashed with argon2; tokens and session ids are random and stored only
as SHA-256 digests, so a copy of the database grants nothing.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, and_, case, delete, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from storeops.clock import utcnow
from storeops.errors import Conflict, InvalidInput, NotFound
from storeops.storage.db import read_only
from storeops.storage.schema import api_tokens, sign_in_limits, users, web_sessions
from storeops.storage.types import UTCDateTime
from storeops.untrusted import clean_text


class Role(enum.StrEnum):
    """What a person does in the store; decides which handoffs they see."""

    OWNER = "owner"
    """Sees and resolves everything; manages users and policy."""
    OPS = "ops"
    """Orders and shipping."""
    SUPPORT = "support"
    """Customer conversations."""
    FINANCE = "finance"
    """Refunds and returns."""
    MARKETING = "marketing"
    """Campaigns."""
    PROCUREMENT = "procurement"
    """Stock, reorders and vendors."""


MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12
TOKEN_PREFIX = "so_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HASHER = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("storeops-no-such-user")


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in person or an API token."""

    actor: str
    """How the audit log names them: ``user:<email>`` or ``token:<name>``."""
    role: Role
    csrf_token: str | None = None
    """The session's CSRF token (web sessions only)."""

    def sees(self, handoff_role: str) -> bool:
        """Whether this principal may see and resolve a handoff asking for ``handoff_role``."""
        return self.role is Role.OWNER or self.role.value == handoff_role

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER


def parse_role(value: str) -> Role:
    """A Role from its name; InvalidInput listing the roles otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown role {value!r}; roles: {', '.join(r.value for r in Role)}", field="role") from None


def digest(secret: str) -> str:
    """SHA-256 hex of a random secret (tokens and session ids have 256 bits; no salt needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(conn: Connection, email: str, role: Role | str, password: str, *, now: datetime | None = None) -> int:
    """Create a user; InvalidInput for a bad email/role/short password, Conflict when the email exists."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    role = parse_role(role) if isinstance(role, str) else role
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    try:
        with conn.begin_nested():
            result = conn.execute(
                insert(users)
                .values(email=email, role=role.value, password_hash=_HASHER.hash(password), created_at=now or utcnow())
                .returning(users.c.id)
            )
            return int(result.scalar_one())
    except IntegrityError:
        raise Conflict(f"a user {email} already exists", field="email") from None


def set_password(conn: Connection, email: str, password: str) -> None:
    """Replace a user's password and end their sessions."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    user_id = conn.execute(select(users.c.id).where(users.c.email == email.strip().lower())).scalar()
    if user_id is None:
        raise NotFound(f"no user {email}")
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=_HASHER.hash(password)))
    conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


def set_disabled(conn: Connection, email: str, disabled: bool, *, now: datetime | None = None) -> None:
    """Disable (sign out everywhere, refuse sign-in) or re-enable a user."""
    user_id = conn.execute(select(users.c.id).where(users.c.email == email.strip().lower())).scalar()
    if user_id is None:
        raise NotFound(f"no user {email}")
    conn.execute(update(users).where(users.c.id == user_id).values(disabled_at=(now or utcnow()) if disabled else None))
    if disabled:
        conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


def list_users(conn: Connection) -> list[dict[str, str | None]]:
    """Every user with role and creation time (never the hash)."""
    rows = conn.execute(
        select(users.c.email, users.c.role, users.c.created_at, users.c.disabled_at).order_by(users.c.id)
    )
    return [
        {
            "email": row.email,
            "role": row.role,
            "created_at": row.created_at.isoformat(),
            "disabled_at": row.disabled_at.isoformat() if row.disabled_at else None,
        }
        for row in rows
    ]


def authenticate(conn: Connection, email: str, password: str) -> int | None:
    """The user id when ``email`` and ``password`` match an enabled user, else None."""
    row = conn.execute(
        select(users.c.id, users.c.password_hash).where(
            users.c.email == email.strip().lower(), users.c.disabled_at.is_(None)
        )
    ).first()
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return int(row.id) if row else None


def start_session(conn: Connection, user_id: int, *, now: datetime | None = None) -> str:
    """A new session for ``user_id``; returns the secret for the cookie."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            digest=digest(secret),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
    return secret


def session_principal(conn: Connection, secret: str, *, now: datetime | None = None) -> Principal | None:
    """Who a session cookie belongs to, or None when it is unknown, expired or the user disabled."""
    row = conn.execute(
        select(users.c.email, users.c.role, web_sessions.c.csrf_token)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(
            web_sessions.c.digest == digest(secret),
            web_sessions.c.expires_at > (now or utcnow()),
            users.c.disabled_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return Principal(actor=f"user:{row.email}", role=Role(row.role), csrf_token=row.csrf_token)


def end_session(conn: Connection, secret: str) -> None:
    """Sign out: forget the session."""
    conn.execute(delete(web_sessions).where(web_sessions.c.digest == digest(secret)))


def create_token(conn: Connection, role: Role | str, name: str, *, now: datetime | None = None) -> str:
    """A new API token for ``role``; the returned secret is shown once and never stored."""
    role = parse_role(role) if isinstance(role, str) else role
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("a token needs a name of 1–128 characters", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_tokens).values(digest=digest(secret), role=role.value, name=name, created_at=now or utcnow())
    )
    return secret


def token_principal(conn: Connection, secret: str) -> Principal | None:
    """Who an API token belongs to, or None when it is unknown or revoked."""
    row = conn.execute(
        select(api_tokens.c.name, api_tokens.c.role).where(
            api_tokens.c.digest == digest(secret), api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Principal(actor=f"token:{row.name}", role=Role(row.role))


def revoke_token(conn: Connection, name: str) -> int:
    """Revoke every live token called ``name``; returns how many."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount == 0:
        raise NotFound(f"no live token named {name!r}")
    return int(result.rowcount)


# --- signing in, with limits ---------------------------------------------------------------------

SIGN_IN_WINDOW = timedelta(minutes=5)
MAX_FAILURES_PER_ADDRESS = 10
"""Wrong passwords one client address may try in SIGN_IN_WINDOW, whatever the accounts."""
MAX_FAILURES_PER_ACCOUNT = 10
"""Wrong passwords for one account, from anywhere, in SIGN_IN_WINDOW before the account is closed
to addresses it has not signed in from (its known addresses keep signing in)."""
KNOWN_ADDRESS_DAYS = 30
"""How long an address the account signed in from stays known."""


@dataclass(frozen=True)
class SignIn:
    """What came of a sign-in attempt: a session secret, a wrong password, or a limit."""

    secret: str | None = None
    """The new session's secret (for the cookie) when the email and password matched."""
    retry_after: int | None = None
    """Seconds to wait when a limit refused the attempt (the password was not even checked)."""


def address_key(address: str) -> str:
    """The address the limits count under: an IPv4 address, or an IPv6 address's /64 network (one
    customer line holds a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _count_failure(conn: Connection, scope: str, key: str, now: datetime) -> tuple[int, datetime]:
    """Count one failure under (scope, key) in its window; returns the count and the window's start."""
    insert_ = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(sign_in_limits)
    expired = sign_in_limits.c.first_at < now - SIGN_IN_WINDOW
    statement = insert_.values(scope=scope, key=key, failures=1, first_at=now, last_at=now).on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={
            "failures": case((expired, 1), else_=sign_in_limits.c.failures + 1),
            "first_at": case((expired, literal(now, UTCDateTime())), else_=sign_in_limits.c.first_at),
            "last_at": now,
        },
    )
    conn.execute(statement)
    row = conn.execute(
        select(sign_in_limits.c.failures, sign_in_limits.c.first_at).where(
            sign_in_limits.c.scope == scope, sign_in_limits.c.key == key
        )
    ).one()
    return int(row.failures), row.first_at


def _known(conn: Connection, email: str, address: str, now: datetime) -> bool:
    return (
        conn.execute(
            select(sign_in_limits.c.key).where(
                sign_in_limits.c.scope == "known",
                sign_in_limits.c.key == f"{email} {address}",
                sign_in_limits.c.last_at >= now - timedelta(days=KNOWN_ADDRESS_DAYS),
            )
        ).first()
        is not None
    )


def _wait(first_at: datetime, now: datetime) -> int:
    return max(1, int((first_at + SIGN_IN_WINDOW - now).total_seconds()) + 1)


def sign_in(engine: Engine, email: str, password: str, address: str, *, now: datetime | None = None) -> SignIn:
    """Check ``email`` and ``password`` from client ``address`` within the limits; start a session.

    Only failures count: every attempt is counted as one before the password is checked (so
    concurrent attempts cannot slip past the limit together), and a success takes its count
    back and clears the account's. An address over MAX_FAILURES_PER_ADDRESS is refused for the
    rest of its window; an account over MAX_FAILURES_PER_ACCOUNT is refused to addresses it has
    not signed in from in the last KNOWN_ADDRESS_DAYS, so guesses from elsewhere never lock the
    owner out of their usual place. The counts live in the database (every process, restarts).
    The password is checked outside any transaction: argon2 takes tens of milliseconds, too long
    to hold SQLite's write lock."""
    now = now or utcnow()
    email = clean_text(email).strip().lower()[:255]
    where = address_key(clean_text(address))
    with engine.begin() as conn:
        conn.execute(
            delete(sign_in_limits).where(
                or_(
                    and_(sign_in_limits.c.scope != "known", sign_in_limits.c.last_at < now - SIGN_IN_WINDOW),
                    sign_in_limits.c.last_at < now - timedelta(days=KNOWN_ADDRESS_DAYS),
                )
            )
        )
        failures, since = _count_failure(conn, "address", where, now)
        if failures > MAX_FAILURES_PER_ADDRESS:
            return SignIn(retry_after=_wait(since, now))
        failures, since = _count_failure(conn, "account", email, now)
        if failures > MAX_FAILURES_PER_ACCOUNT and not _known(conn, email, where, now):
            return SignIn(retry_after=_wait(since, now))
    with read_only(engine).connect() as conn:
        user_id = authenticate(conn, email, password)
    if user_id is None:
        return SignIn()
    with engine.begin() as conn:
        conn.execute(
            update(sign_in_limits)
            .where(sign_in_limits.c.scope == "address", sign_in_limits.c.key == where, sign_in_limits.c.failures > 0)
            .values(failures=sign_in_limits.c.failures - 1)
        )
        conn.execute(delete(sign_in_limits).where(sign_in_limits.c.scope == "account", sign_in_limits.c.key == email))
        _remember(conn, email, where, now)
        return SignIn(secret=start_session(conn, user_id, now=now))


def _remember(conn: Connection, email: str, address: str, now: datetime) -> None:
    insert_: Any = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(sign_in_limits)
    conn.execute(
        insert_.values(
            scope="known", key=f"{email} {address}", failures=0, first_at=now, last_at=now
        ).on_conflict_do_update(index_elements=["scope", "key"], set_={"last_at": now})
    )
