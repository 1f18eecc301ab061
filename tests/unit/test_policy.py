from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from storeops.desks import builtin_desks
from storeops.engine.policy import build_policy, load_policy, policy_defaults_dict
from storeops.errors import PolicyError

DESKS = builtin_desks()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "storeops.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_there_is_no_file() -> None:
    policy = load_policy(None, DESKS)
    assert policy.store.currency == "EUR"
    assert policy.money("500.00").minor == 50000
    assert policy.engine.batch_size == 200


def test_a_file_overrides_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[store]\ncurrency = "JPY"\n[orders]\nhigh_value_threshold = "80000"\n'
        'rates = [{carrier = "yamato", service = "standard", zone = "domestic", '
        'max_grams = 30000, price = "800", days = 2}]\n',
    )
    policy = load_policy(path, DESKS)
    assert policy.store.currency == "JPY"
    assert policy.section("orders", DESKS[0].policy).high_value_threshold == "80000"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[orders]\nhigh_value_treshold = 5\n",
            "[orders] high_value_treshold: unknown key; [orders] has: high_value_threshold",
        ),
        ("[orders]\nrisk_threshold = 1.5\n", "[orders] risk_threshold: Input should be less than or equal to 1"),
        ('[orders]\nrisk_threshold = "high"\n', "[orders] risk_threshold: Input should be a valid number"),
        (
            '[orders]\nhigh_value_threshold = "500.001"\n',
            "[orders] high_value_threshold: '500.001' has more than 2 decimals for EUR",
        ),
        (
            '[orders]\nhigh_value_threshold = "lots"\n',
            "[orders] high_value_threshold: Value error, 'lots' is not a decimal amount",
        ),
        ("[marketing]\nwindow_days = 30\n", "unknown section [marketing]"),
        ('[store]\ncurrency = "euro"\n', "[store] currency: Value error, currency must be a 3-letter ISO 4217 code"),
        (
            '[store]\ntimezone = "Mars/Olympus"\n',
            "[store] timezone: Value error, 'Mars/Olympus' is not an IANA time zone",
        ),
        ("store = 3\n", "'store' must be a [section] table"),
        ("[orders\n", "not valid TOML"),
        ('[metrics]\nmanual_minutes = { "order.reveiw" = 3 }\n', "unknown task 'order.reveiw'"),
    ],
)
def test_policy_errors_name_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path, DESKS)
    assert str(path) in caught.value.message
    assert message in caught.value.message


def test_a_threshold_valid_in_one_currency_is_refused_in_another(tmp_path: Path) -> None:
    path = write(tmp_path, '[store]\ncurrency = "JPY"\n[orders]\nhigh_value_threshold = "500.50"\nrates = []\n')
    with pytest.raises(
        PolicyError, match=r"\[orders\] high_value_threshold: '500.50' has more than 0 decimals for JPY"
    ):
        load_policy(path, DESKS)


def test_money_inside_tables_is_checked_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[store]\ncurrency = "JPY"\n[orders]\nhigh_value_threshold = "80000"\n')
    with pytest.raises(PolicyError, match=r"\[orders\] rates\[0\]\.price: '4.90' has more than 0 decimals for JPY"):
        load_policy(path, DESKS)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"cannot read policy file .*nope\.toml: No such file"):
        load_policy(tmp_path / "nope.toml", DESKS)


def test_digest_changes_with_content_only() -> None:
    assert build_policy({}, DESKS).digest == build_policy({"orders": {}}, DESKS).digest
    assert build_policy({}, DESKS).digest != build_policy({"orders": {"risk_threshold": 0.5}}, DESKS).digest


def test_every_policy_key_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
    assert "python scripts/policy_doc.py" in docs
    render = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "policy_doc.py"))["render"]
    assert docs == render(), "docs/policy.md is stale: run python scripts/policy_doc.py"
    for section, keys in policy_defaults_dict(DESKS).items():
        assert f"[{section}]" in docs, section
        for key in keys:
            assert f"`{key}`" in docs, f"[{section}] {key} is not in docs/policy.md"
