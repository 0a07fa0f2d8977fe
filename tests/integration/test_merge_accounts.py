"""Accounts: linking identifiers, merging, re-keying to the group id, e-mail domains."""

from __future__ import annotations

from datetime import date

import pytest

from intercept.aws import client
from intercept.events import Billing, Usage
from intercept.profiles.fold import Folder
from intercept.profiles.keys import Identifier
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import make_event, snapshot

DAY = date(2024, 5, 1)


def test_billing_account_merges_into_product_account_when_linked(store: ProfileStore) -> None:
    # GIVEN billing and product usage that arrived before anything linked them
    folder = Folder(store)
    folder.fold(
        [
            make_event(
                0,
                source="stripe",
                kind="billing",
                account={"stripe_customer": "cus_9"},
                billing=Billing(payment_failed=True, seats=12),
            ),
            make_event(
                5, person={"user_id": "u1"}, account={"group_id": "acme"}, usage=Usage(login=True)
            ),
        ]
    )
    store.apply(
        store.put(
            {
                "PK": "ACCOUNT#stripe_customer:cus_9",
                "SK": "SCORE#LATEST",
                "GSI1PK": "RISK",
                "GSI1SK": "0001",
            }
        )
    )
    assert sorted(store.iter_account_ids()) == ["acme", "stripe_customer:cus_9"]
    # WHEN a group call names the Stripe customer
    result = folder.fold(
        [
            make_event(
                10,
                kind="group",
                person={"user_id": "u1"},
                account={"group_id": "acme"},
                account_traits={"stripe_customer_id": "cus_9"},
            )
        ]
    )
    # THEN one account remains, under the group id, with the day's activity summed
    assert result.merges == 1
    assert list(store.iter_account_ids()) == ["acme"]
    (day,) = store.get_daily_activity("acme", DAY, DAY)
    assert (day.events, day.logins, day.payment_failures, day.seats) == (1, 1, 1, 12)
    assert store.get_daily_activity("stripe_customer:cus_9", DAY, DAY) == []
    found = store.find("account", Identifier("stripe_customer", "cus_9"))
    assert found is not None
    assert found.id == "acme"
    remaining = store.batch_get(
        [{"PK": {"S": "ACCOUNT#stripe_customer:cus_9"}, "SK": {"S": "SCORE#LATEST"}}]
    )
    assert remaining == {}
    assert snapshot(client("dynamodb"), "profiles")["problems"] == []


def test_billing_first_account_is_rekeyed_to_group_id(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [
            make_event(
                0,
                source="stripe",
                kind="billing",
                account={"stripe_customer": "cus_9"},
                billing=Billing(plan="growth", mrr=100.0),
            )
        ]
    )
    folder.fold(
        [
            make_event(
                1,
                kind="group",
                account={"group_id": "acme"},
                account_traits={"stripe_customer_id": "cus_9", "name": "Acme"},
            )
        ]
    )
    assert list(store.iter_account_ids()) == ["acme"]
    account = store.get_account("acme")
    assert account is not None and (account.name, account.plan, account.arr) == (
        "Acme",
        "growth",
        1200.0,
    )


def test_two_group_ids_never_merge_through_a_shared_identifier(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [make_event(0, kind="group", account={"group_id": "acme", "stripe_customer": "cus_9"})]
    )
    folder.fold(
        [make_event(1, kind="group", account={"group_id": "acme-emea", "stripe_customer": "cus_9"})]
    )
    assert sorted(store.iter_account_ids()) == ["acme", "acme-emea"]


@pytest.mark.parametrize("person_first", [True, False])
def test_company_email_domain_attaches_in_either_order(
    store: ProfileStore, person_first: bool
) -> None:
    people = [
        make_event(0, kind="identify", person={"user_id": "u1", "email": "ana@acme.io"}),
        make_event(1, kind="identify", person={"user_id": "u2", "email": "bo@gmail.com"}),
    ]
    group = [
        make_event(
            2,
            kind="group",
            account={"group_id": "acme"},
            account_traits={"website": "https://acme.io"},
        )
    ]
    folder = Folder(store)
    for batch in (people, group) if person_first else (group, people):
        folder.fold(batch)
    ana = store.find("person", Identifier("user_id", "u1"))
    bo = store.find("person", Identifier("user_id", "u2"))
    assert ana is not None and bo is not None
    assert store.members("acme") == [ana.id]
    assert ana.accounts == {"acme"} and bo.accounts == set()
