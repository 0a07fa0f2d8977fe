from __future__ import annotations

import pytest

from intercept.errors import ConfigurationError
from intercept.profiles.identity import account_id_for
from intercept.profiles.keys import Identifier, account_shard, account_shards
from intercept.profiles.rules import ProfileRules, normalize_domain, rules_from_json


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "  Ana.Lima@ACME.io ", "ana.lima@acme.io"),
        ("email", "test@test.com", None),
        ("email", "support@acme.io", None),
        ("email", "noreply@acme.io", None),
        ("email", "not-an-email", None),
        ("user_id", "null", None),
        ("user_id", "Undefined", None),
        ("anonymous_id", "0", None),
        ("user_id", "", None),
        ("user_id", " u_1 ", "u_1"),
        ("zendesk_user", "test", None),
    ],
)
def test_person_identifier_normalised_or_blocked(kind: str, raw: str, expected: str | None) -> None:
    assert ProfileRules().normalize_person_identifier(kind, raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.io/pricing", "acme.io"),
        ("acme.io", "acme.io"),
        ("ACME.IO.", "acme.io"),
        ("not a domain", None),
        ("", None),
    ],
)
def test_domain_normalised(raw: str, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


def test_free_mail_domain_never_an_account_identifier_or_company_domain() -> None:
    rules = ProfileRules()
    assert rules.normalize_account_identifier("domain", "gmail.com") is None
    assert rules.company_domain("ana@gmail.com") is None
    assert rules.company_domain("ana@acme.io") == "acme.io"


def test_company_domain_off_when_attach_by_email_domain_disabled() -> None:
    assert ProfileRules(attach_by_email_domain=False).company_domain("ana@acme.io") is None


def test_rules_from_json_extends_and_replaces() -> None:
    rules = rules_from_json(
        '{"extra_blocked_values": ["Demo"], "max_people_per_identifier": 3,'
        ' "trait_priority": {"owner": {"Salesforce": 40}}, "attach_by_email_domain": false}'
    )
    assert "demo" in rules.blocked_values and "null" in rules.blocked_values
    assert rules.max_people_per_identifier == 3
    assert rules.priority("owner", "salesforce") == 40
    assert rules.priority("plan", "stripe") == 30
    assert rules.attach_by_email_domain is False
    assert rules_from_json("").max_people_per_identifier == ProfileRules().max_people_per_identifier


@pytest.mark.parametrize("text", ["[1]", "{not json", '{"colour": "blue"}'])
def test_rules_from_json_rejects_bad_overrides(text: str) -> None:
    with pytest.raises(ConfigurationError, match="PROFILE_RULES"):
        rules_from_json(text)


def test_identifier_parse_roundtrip_and_errors() -> None:
    assert Identifier.parse("email:a@b.io") == Identifier("email", "a@b.io")
    assert Identifier.parse("user_id:a:b").value == "a:b"
    with pytest.raises(ValueError, match="kind:value"):
        Identifier.parse("no-colon")


def test_account_shard_is_stable_and_within_range() -> None:
    assert account_shard("acme") == account_shard("acme")
    assert {account_shard(f"a{n}") for n in range(200)} == set(account_shards())


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        (Identifier("group_id", "acme"), "acme"),
        (Identifier("stripe_customer", "cus_1"), "stripe_customer:cus_1"),
    ],
)
def test_account_id_readable_when_safe(identifier: Identifier, expected: str) -> None:
    assert account_id_for(identifier) == expected


def test_account_id_hashed_when_unsafe() -> None:
    for value in ("acme/emea west", "a:b"):
        made = account_id_for(Identifier("group_id", value))
        assert made.startswith("hash:") and "/" not in made
