"""People and machines who may act: users, their passwords and access, API tokens — each change audited."""

from __future__ import annotations

from storeops import accounts
from storeops.accounts import Principal, Role, parse_role
from storeops.bootstrap import App
from storeops.commands.audit import record, require_owner
from storeops.errors import InvalidInput


def _subject(email: str) -> str:
    return f"user:{email.strip().lower()}"


def add_user(app: App, actor: Principal, email: str, role: Role | str, password: str) -> int:
    """A person who signs in with ``email``; InvalidInput for a bad email, role or short password."""
    require_owner(actor, "manages people")
    role = parse_role(role) if isinstance(role, str) else role
    with app.engine.begin() as conn:
        user_id = accounts.add_user(conn, email, role, password)
        record(conn, actor, "user.add", _subject(email), evidence={"role": role.value})
    return user_id


def set_password(app: App, actor: Principal, email: str, password: str) -> None:
    """Replace a user's password (their sessions end); the owner for anyone, a person for themselves."""
    if actor.actor != _subject(email):
        require_owner(actor, "sets other people's passwords")
    with app.engine.begin() as conn:
        accounts.set_password(conn, email, password)
        record(conn, actor, "user.password", _subject(email))


def set_access(app: App, actor: Principal, email: str, *, disabled: bool) -> None:
    """Disable a user (signed out everywhere, refused at sign-in) or enable them again."""
    require_owner(actor, "manages people")
    if disabled and actor.actor == _subject(email):
        raise InvalidInput("you cannot disable yourself", field="email")
    with app.engine.begin() as conn:
        accounts.set_disabled(conn, email, disabled)
        record(conn, actor, "user.disable" if disabled else "user.enable", _subject(email))


def create_token(app: App, actor: Principal, role: Role | str, name: str) -> str:
    """A new API token scoped to ``role``; the secret is returned once and never stored."""
    require_owner(actor, "creates API tokens")
    role = parse_role(role) if isinstance(role, str) else role
    with app.engine.begin() as conn:
        secret = accounts.create_token(conn, role, name)
        record(conn, actor, "token.create", f"token:{name.strip()}", evidence={"role": role.value})
    return secret


def revoke_token(app: App, actor: Principal, name: str) -> int:
    """Revoke every live token called ``name``; returns how many."""
    require_owner(actor, "revokes API tokens")
    with app.engine.begin() as conn:
        count = accounts.revoke_token(conn, name)
        record(conn, actor, "token.revoke", f"token:{name.strip()}", evidence={"revoked": count})
    return count
