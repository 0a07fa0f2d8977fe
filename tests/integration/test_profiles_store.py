"""Folding events into people, accounts and daily activity, read back through the DAL."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from intercept.aws import client
from intercept.events import Billing, Usage
from intercept.profiles import store as dal
from intercept.profiles.fold import Folder
from intercept.profiles.keys import Identifier
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import make_event, scan

DAY = date(2024, 5, 1)


def _person(store: ProfileStore, token: str) -> str:
    profile = store.find("person", Identifier.parse(token))
    assert profile is not None, token
    return profile.id


def test_identify_group_and_usage_build_person_account_and_day(store: ProfileStore) -> None:
    # GIVEN an identify, a group call and product usage from one person
    events = [
        make_event(
            0,
            kind="identify",
            person={"user_id": "u1", "anonymous_id": "a1", "email": "Ana@Acme.io"},
            traits={"name": "Ana", "title": "analyst"},
        ),
        make_event(
            1,
            kind="group",
            person={"user_id": "u1"},
            account={"group_id": "acme"},
            account_traits={"name": "Acme", "plan": "growth", "website": "acme.io"},
        ),
        make_event(
            2, person={"user_id": "u1"}, account={"group_id": "acme"}, usage=Usage(login=True)
        ),
        make_event(
            3,
            person={"anonymous_id": "a1"},
            account={"group_id": "acme"},
            usage=Usage(module="reports", session_seconds=120),
        ),
    ]
    # WHEN they are folded in one batch
    result = Folder(store).fold(events)
    # THEN one person holds every identifier and belongs to the account
    assert len(result.folded) == 4 and result.transactions == 1
    person = store.find("person", Identifier("email", "ana@acme.io"))
    assert person is not None
    assert person.identifiers == {"user_id:u1", "anonymous_id:a1", "email:ana@acme.io"}
    assert person.traits.values == {"name": "Ana", "title": "analyst"}
    assert person.accounts == {"acme"}
    assert person.last_seen and person.last_seen.startswith("2024-05-01T09:03")
    account = store.get_account("acme")
    assert account is not None
    assert (account.name, account.plan, account.domain) == ("Acme", "growth", "acme.io")
    (day,) = store.get_daily_activity("acme", DAY, DAY)
    # the group call is not product usage: two events, both from the same person
    assert (day.events, day.logins, day.sessions, day.session_seconds) == (2, 1, 1, 120.0)
    assert day.people == {person.id} and day.modules == {"reports": 1}
    assert store.members("acme") == [person.id]


def test_anonymous_history_merges_into_identified_person(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold([make_event(0, person={"anonymous_id": "a1"}, account={"group_id": "acme"})])
    folder.fold([make_event(60, person={"user_id": "u1"}, account={"group_id": "acme"})])
    anonymous, identified = _person(store, "anonymous_id:a1"), _person(store, "user_id:u1")
    assert anonymous != identified

    result = folder.fold(
        [make_event(90, kind="identify", person={"user_id": "u1", "anonymous_id": "a1"})]
    )

    assert result.merges == 1
    survivor = _person(store, "user_id:u1")
    assert _person(store, "anonymous_id:a1") == survivor == anonymous  # the older one survives
    (day,) = store.get_daily_activity("acme", DAY, DAY)
    assert day.people == {survivor}
    logs = [i for i in scan(client("dynamodb"), "profiles") if i["PK"].startswith("MERGE#")]
    assert [(i["survivor"], i["loser"]) for i in logs] == [(survivor, identified)]
    assert store.members("acme") == [survivor]


def test_billing_facts_outrank_product_traits_and_derive_arr(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [
            make_event(
                0,
                source="stripe",
                kind="billing",
                account={"stripe_customer": "cus_9"},
                billing=Billing(plan="enterprise", mrr=1000.0, seats=20, status="active"),
            ),
        ]
    )
    folder.fold(
        [
            make_event(
                30,
                kind="group",
                account={"group_id": "acme"},
                account_traits={"stripe_customer_id": "cus_9", "plan": "starter", "name": "Acme"},
            ),
        ]
    )
    account = store.get_account("acme")
    assert account is not None
    assert (account.plan, account.mrr, account.arr, account.seats) == (
        "enterprise",
        1000.0,
        12000.0,
        20,
    )
    assert account.name == "Acme"

    folder.fold(
        [
            make_event(
                60,
                source="stripe",
                kind="billing",
                account={"stripe_customer": "cus_9"},
                billing=Billing(canceled=True),
            )
        ]
    )
    account = store.get_account("acme")
    assert account is not None and account.status == "canceled"
    assert account.canceled_at is not None and account.canceled_at.hour == 10


def test_older_event_never_overwrites_newer_trait(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [make_event(60, kind="identify", person={"user_id": "u1"}, traits={"title": "manager"})]
    )
    folder.fold(
        [
            make_event(
                0,
                kind="identify",
                person={"user_id": "u1"},
                traits={"title": "analyst", "team": "data"},
            )
        ]
    )
    person = store.find("person", Identifier("user_id", "u1"))
    assert person is not None
    assert person.traits.values == {"title": "manager", "team": "data"}
    assert person.first_seen is not None and person.first_seen.startswith("2024-05-01T09:00")


def test_late_event_lands_on_its_own_day_and_window_reads_it(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [
            make_event(0, person={"user_id": "u1"}, account={"group_id": "acme"}),
            make_event(2 * 1440, person={"user_id": "u1"}, account={"group_id": "acme"}),
        ]
    )
    folder.fold(
        [
            make_event(
                10, person={"user_id": "u1"}, account={"group_id": "acme"}, usage=Usage(login=True)
            )
        ]
    )
    days = store.get_daily_activity("acme", DAY, date(2024, 5, 2))
    assert [(d.day, d.events, d.logins) for d in days] == [(DAY, 2, 1)]
    everything = dal.get_daily_activity("acme", DAY, date(2024, 5, 31))
    assert [d.day.day for d in everything] == [1, 3]


def test_account_listing_and_batch_reads_skip_merged_accounts(store: ProfileStore) -> None:
    folder = Folder(store)
    folder.fold(
        [
            make_event(0, account={"group_id": "acme"}),
            make_event(1, account={"group_id": "globex"}),
            make_event(
                2,
                source="stripe",
                kind="billing",
                account={"stripe_customer": "cus_9"},
                billing=Billing(plan="growth"),
            ),
        ]
    )
    assert sorted(dal.iter_account_ids()) == ["acme", "globex", "stripe_customer:cus_9"]

    folder.fold(
        [make_event(3, kind="group", account={"group_id": "acme", "stripe_customer": "cus_9"})]
    )

    assert sorted(dal.iter_account_ids()) == ["acme", "globex"]
    found = dal.get_accounts(["acme", "globex", "stripe_customer:cus_9", "nobody"])
    assert sorted(found) == ["acme", "globex"] and found["acme"].plan == "growth"
    assert dal.get_account("stripe_customer:cus_9") is None
    assert dal.resolve_account_id("stripe_customer:cus_9") == "acme"


def test_stored_day_columns_fold_into_the_same_cube_as_day_records(store: ProfileStore) -> None:
    from intercept.model.signals import cube_from_records, cube_from_stored
    from intercept.profiles.verify import sample_stream

    # GIVEN a seeded stream with usage, support, billing and onboarding folded into days
    Folder(store).fold(sample_stream(5, events=400, companies=3, people=5, days=12))
    ids = sorted(store.iter_account_ids()) + ["unknown-account"]
    assert len(ids) >= 4
    start, end = DAY, date(2024, 5, 10)  # the stream runs past `end`: later days are left out
    # WHEN the days are read as typed columns and as records
    stored = store.get_stored_days(ids, start, end)
    records = {i: store.get_daily_activity(i, start, end) for i in ids}
    by_columns = cube_from_stored(stored, start, 10)
    by_records = cube_from_records(ids, records, start, 10)
    # THEN both give the same cube, set members included
    assert sum(map(len, records.values())) == len(stored.record_day) > 10
    assert by_columns.counters.keys() == by_records.counters.keys()
    for name, values in by_records.counters.items():
        assert np.array_equal(by_columns.counters[name], values), name
    assert by_records.counters["logins"].sum() > 0 and by_records.modules
    assert by_records.counters["tickets_opened"].sum() > 0
    assert np.array_equal(by_columns.seats, by_records.seats, equal_nan=True)
    assert not np.isnan(by_records.seats).all()
    assert by_columns.modules == by_records.modules
    assert np.array_equal(by_columns.module_use, by_records.module_use)
    assert _people_by_day(by_columns) == _people_by_day(by_records) != []
    steps = [
        sorted(
            zip(
                c.step_account.tolist(),
                c.step_day.tolist(),
                [c.steps[i] for i in c.step_id],
                strict=True,
            )
        )
        for c in (by_columns, by_records)
    ]
    assert steps[0] == steps[1] != []


def _people_by_day(cube: Any) -> list[tuple[tuple[int, int], ...]]:
    """Each person as the account-days they were active on (independent of id numbering)."""
    days: dict[int, list[tuple[int, int]]] = {}
    for a, d, i in zip(cube.people_account, cube.people_day, cube.people_id, strict=True):
        days.setdefault(int(i), []).append((int(a), int(d)))
    return sorted(tuple(sorted(v)) for v in days.values())


def test_stored_days_of_many_accounts_keep_their_order_and_fail_loudly(
    store: ProfileStore,
) -> None:
    import pytest
    from botocore.exceptions import ClientError

    from intercept.profiles.verify import sample_stream

    Folder(store).fold(sample_stream(9, events=200, companies=3, people=3, days=4))
    ids = sorted(store.iter_account_ids())
    many = [ids[i % len(ids)] for i in range(40)]  # more accounts than read workers
    stored = store.get_stored_days(many, DAY, date(2024, 5, 31))
    expected = [len(store.get_daily_activity(i, DAY, date(2024, 5, 31))) for i in many]
    counts = [stored.record_account.count(row) for row in range(len(many))]
    assert stored.account_ids == many and counts == expected and sum(counts) > 0
    # a failed read raises instead of returning some accounts' days
    broken = ProfileStore("no-such-table", "idempotency")
    with pytest.raises(ClientError):
        broken.get_stored_days(many, DAY, date(2024, 5, 31))
