"""Exporting and deleting a person: what goes, what is shown, and what remains."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intercept.aws import client
from intercept.errors import NotFound
from intercept.events import Usage
from intercept.profiles.fold import Folder
from intercept.profiles.keys import Identifier
from intercept.profiles.merge import Merger
from intercept.profiles.privacy import delete_person, export_person
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import (
    make_event,
    scan,
    snapshot,
)

DAY = date(2024, 5, 1)


def _history(store: ProfileStore) -> None:
    """Ana (merged from an anonymous visitor) and Bo, both active at Acme."""
    folder = Folder(store)
    folder.fold(
        [
            make_event(
                0,
                person={"anonymous_id": "a1"},
                account={"group_id": "acme"},
                usage=Usage(login=True),
            ),
            make_event(5, person={"user_id": "bo"}, account={"group_id": "acme"}),
        ]
    )
    folder.fold(
        [
            make_event(
                10,
                kind="identify",
                person={"user_id": "ana", "email": "ana@acme.io"},
                traits={"name": "Ana"},
            ),
            make_event(11, person={"user_id": "ana"}, account={"group_id": "acme"}),
        ]
    )
    folder.fold([make_event(20, kind="identify", person={"user_id": "ana", "anonymous_id": "a1"})])


def test_export_holds_identifiers_traits_activity_and_merges(store: ProfileStore) -> None:
    _history(store)
    document = export_person(store, "email:ANA@acme.io")
    assert document["identifiers"] == ["anonymous_id:a1", "email:ana@acme.io", "user_id:ana"]
    assert document["traits"] == {"name": "Ana"}
    assert document["trait_sources"]["name"]["source"] == "web"
    assert document["activity"] == [{"account_id": "acme", "days": ["2024-05-01"]}]
    (merge,) = document["merges"]
    # the anonymous visitor was seen first, so it survived and absorbed the identified profile
    assert merge["loser_snapshot"]["identifiers"] == ["email:ana@acme.io", "user_id:ana"]
    assert merge["loser_snapshot"]["traits"] == {"name": "Ana"}


def test_delete_removes_the_person_but_keeps_account_counters(store: ProfileStore) -> None:
    # GIVEN Ana and Bo with shared activity at Acme
    _history(store)
    bo = store.find("person", Identifier("user_id", "bo"))
    assert bo is not None
    (before,) = store.get_daily_activity("acme", DAY, DAY)
    # WHEN Ana is deleted
    report = delete_person(store, "user_id:ana")
    # THEN nothing names her any more, Bo is untouched, and the counters stay
    assert report["profiles_deleted"] == 2 and report["identifiers_deleted"] == 3
    assert report["merge_entries_redacted"] == 1
    for token in ("user_id:ana", "email:ana@acme.io", "anonymous_id:a1"):
        with pytest.raises(NotFound):
            export_person(store, token)
    (after,) = store.get_daily_activity("acme", DAY, DAY)
    assert after.people == {bo.id}
    assert (after.events, after.logins) == (before.events, before.logins)
    assert store.members("acme") == [bo.id]
    items: list[dict[str, Any]] = scan(client("dynamodb"), "profiles")
    text = repr(items)
    assert "ana@acme.io" not in text and "user_id:ana" not in text and "'Ana'" not in text
    (log,) = [i for i in items if i["PK"].startswith("MERGE#")]
    assert log["redacted"] is True and "loser_snapshot" not in log
    assert snapshot(client("dynamodb"), "profiles")["problems"] == []


def test_delete_spares_a_person_split_off_by_unmerge(store: ProfileStore) -> None:
    _history(store)
    (log,) = [i for i in scan(client("dynamodb"), "profiles") if i["SK"] == "LOG"]
    Merger(store).unmerge(str(log["merge_id"]))
    delete_person(store, "user_id:ana")
    assert store.find("person", Identifier("anonymous_id", "a1")) is not None
