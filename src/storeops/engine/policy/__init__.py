"""Policy: every threshold and switch, from storeops.toml over built-in defaults, versioned.

The file has one ``[section]`` per desk plus ``[store]``, ``[engine]``, ``[inbox]``,
``[outbox]`` and ``[metrics]``. An unknown section or key is an error that names it; so is a wrong type.
Every decision records the version of the policy it used.

- ``model``: the sections, ``Policy`` and ``build_policy``;
- ``file``: reading, editing and watching the policy file;
- ``store``: the versions recorded in the database.
"""

from storeops.engine.desk import DeskPolicy
from storeops.engine.policy.file import (
    PolicyFile,
    default_policy_path,
    edit_policy_value,
    editable_policy_path,
    load_policy,
    parse_toml_value,
)
from storeops.engine.policy.model import (
    MONEY,
    EnginePolicy,
    InboxPolicy,
    MetricsPolicy,
    MoneyText,
    OutboxPolicy,
    Policy,
    StorePolicy,
    build_policy,
    policy_defaults_dict,
    section_models,
)
from storeops.engine.policy.store import record_policy_version

__all__ = [
    "MONEY",
    "DeskPolicy",
    "EnginePolicy",
    "InboxPolicy",
    "MetricsPolicy",
    "MoneyText",
    "OutboxPolicy",
    "Policy",
    "PolicyFile",
    "StorePolicy",
    "build_policy",
    "default_policy_path",
    "edit_policy_value",
    "editable_policy_path",
    "load_policy",
    "parse_toml_value",
    "policy_defaults_dict",
    "record_policy_version",
    "section_models",
]
