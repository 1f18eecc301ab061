"""The policy file (``storeops.toml``): where it is, reading it, editing one value with its comments
kept, and noticing when it changed."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storeops.engine.desk import Desk
from storeops.engine.policy.model import Policy, build_policy, section_models
from storeops.errors import PolicyError


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
