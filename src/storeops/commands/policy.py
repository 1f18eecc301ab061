"""Changing the store's policy: validated against every desk's model, written, versioned, audited."""

from __future__ import annotations

from storeops.accounts import Principal
from storeops.bootstrap import App
from storeops.commands.audit import record, require_owner
from storeops.engine.policy import edit_policy_value, record_policy_version


def change_policy(app: App, actor: Principal, section: str, key: str, value: str) -> int:
    """Set ``[section] key`` to ``value`` (TOML syntax) in the policy file, keeping its comments;
    records the new version and the edit's audit row. Returns the version."""
    require_owner(actor, "changes the policy")
    old = app.policy.as_dict().get(section, {}).get(key)
    policy = edit_policy_value(app.policy_path, section, key, value, app.desks)
    with app.engine.begin() as conn:
        version = record_policy_version(conn, policy)
        record(
            conn,
            actor,
            "policy.edit",
            f"policy:{section}.{key}",
            evidence={"section": section, "key": key, "old": old, "new": policy.as_dict()[section][key]},
            policy_version=version,
        )
    app.policy = policy
    return version
