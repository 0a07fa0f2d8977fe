"""The tracking plan: product usage from track calls, account facts from group traits."""

from __future__ import annotations

import pytest

from intercept.ingest.tracking import account_from_traits, domain, email, usage_from


@pytest.mark.parametrize("name", ["Signed In", "logged in", "LOGIN", "User Logged In"])
def test_usage_login_event_names_are_case_insensitive(name: str) -> None:
    usage, warnings = usage_from(name, {})
    assert usage is not None and usage.login is True
    assert warnings == []


def test_usage_module_falls_back_to_category_and_feature_is_read() -> None:
    usage, _ = usage_from("Feature Used", {"category": "reports", "feature": "export_csv"})
    assert usage is not None
    assert (usage.module, usage.feature, usage.login) == ("reports", "export_csv", False)
    usage, _ = usage_from("Feature Used", {"module": "billing", "category": "reports"})
    assert usage is not None and usage.module == "billing"


def test_usage_session_seconds_falls_back_to_duration() -> None:
    usage, _ = usage_from("Session Ended", {"session_seconds": 480})
    assert usage is not None and usage.session_seconds == 480
    usage, _ = usage_from("Session Ended", {"duration": "90"})
    assert usage is not None and usage.session_seconds == 90


def test_usage_negative_or_text_amounts_are_ignored_with_warning() -> None:
    usage, warnings = usage_from("API Called", {"units": -3})
    assert usage is None
    assert warnings == [("properties.units", "units must be a number >= 0; the value was ignored")]
    usage, warnings = usage_from("Session Ended", {"session_seconds": "long"})
    assert usage is None and warnings[0][0] == "properties.session_seconds"


def test_usage_onboarding_step_needs_step() -> None:
    usage, _ = usage_from("Onboarding Step Completed", {"step": "invite_team"})
    assert usage is not None and usage.onboarding_step == "invite_team"
    usage, warnings = usage_from("Onboarding Step Completed", {})
    assert usage is None and warnings[0][0] == "properties.step"


def test_usage_unrelated_event_has_no_usage() -> None:
    assert usage_from("Song Played", {"name": "x"}) == (None, [])


def test_account_traits_are_typed_and_links_copied_to_identifiers() -> None:
    account, traits, warnings = account_from_traits(
        {
            "name": "Northwind",
            "mrr": "1200.5",
            "seats": 25.0,
            "renewal_date": "2026-06-30T00:00:00Z",
            "website": "https://www.Northwind.example/pricing",
            "stripe_customer_id": "cus_1",
            "hubspot_company_id": 555,
            "zendesk_organization_id": "800001",
            "intercom_company_id": "ic_1",
            "industry": "Retail",
        }
    )
    assert account == {
        "stripe_customer": "cus_1",
        "hubspot_company": "555",
        "zendesk_organization": "800001",
        "intercom_company": "ic_1",
    }
    assert traits["mrr"] == 1200.5 and traits["seats"] == 25
    assert traits["renewal_date"] == "2026-06-30"
    assert traits["domain"] == traits["website"] == "northwind.example"
    assert traits["industry"] == "Retail"
    assert warnings == []


@pytest.mark.parametrize(
    ("key", "value"),
    [("mrr", "lots"), ("arr", -1), ("seats", 2.5), ("renewal_date", "soon"), ("owner", {})],
)
def test_account_traits_of_wrong_type_are_dropped_with_warning(key: str, value: object) -> None:
    _, traits, warnings = account_from_traits({key: value, "name": "Acme"})
    assert key not in traits and traits["name"] == "Acme"
    assert warnings[0][0] == f"traits.{key}"


def test_email_and_domain_refuse_obfuscated_or_bad_values() -> None:
    assert email(" Dana@Northwind.Example ") == "dana@northwind.example"
    assert email("[email protected]") is None
    assert email("a@b") is None
    assert domain("not a domain") is None
    assert domain("acme.io:8443") == "acme.io"


def test_huge_numbers_are_not_amounts() -> None:
    _, traits, warnings = account_from_traits({"mrr": 10**400, "arr": "1e999"})
    assert traits == {} and [field for field, _ in warnings] == ["traits.mrr", "traits.arr"]
