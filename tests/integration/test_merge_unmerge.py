"""Undoing a merge: what comes back, what stays, and that it does not merge again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from intercept.aws import client
from intercept.errors import Conflict, NotFound
from intercept.profiles.fold import Folder
from intercept.profiles.keys import Identifier
from intercept.profiles.merge import Merger
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import (
    make_event,
    scan,
    snapshot,
)

DAY = date(2024, 5, 1)


def _merged(store: ProfileStore) -> tuple[Folder, str, str, str]:
    """Two people with their own traits and activity, then one event that merges them."""
    folder = Folder(store)
    folder.fold(
        [
            make_event(
                0,
                kind="identify",
                person={"user_id": "u1", "email": "ana@acme.io"},
                traits={"title": "analyst", "plan_interest": "pro"},
            ),
            make_event(1, person={"user_id": "u1"}, account={"group_id": "acme"}),
        ]
    )
    folder.fold(
        [
            make_event(
                60,
                kind="identify",
                person={"anonymous_id": "a1"},
                traits={"utm_source": "ads", "title": "visitor"},
            ),
            make_event(61, person={"anonymous_id": "a1"}, account={"group_id": "globex"}),
        ]
    )
    survivor = store.find("person", Identifier("user_id", "u1"))
    loser = store.find("person", Identifier("anonymous_id", "a1"))
    assert survivor is not None and loser is not None
    folder.fold(
        [make_event(120, kind="alias", person={"email": "ana@acme.io", "anonymous_id": "a1"})]
    )
    (log,) = [i for i in scan(client("dynamodb"), "profiles") if i["SK"] == "LOG"]
    return folder, survivor.id, loser.id, str(log["merge_id"])


def test_unmerge_restores_identifiers_traits_memberships_and_days(store: ProfileStore) -> None:
    # GIVEN a merge that joined an anonymous visitor into a known user
    folder, survivor, loser, merge_id = _merged(store)
    merged = store.find("person", Identifier("anonymous_id", "a1"))
    assert merged is not None and merged.id == survivor
    assert merged.traits.values["title"] == "visitor"  # the visitor's title was newer
    # WHEN the merge is undone
    report = Merger(store).unmerge(merge_id)
    # THEN each identifier, trait, membership and active day is back with its person
    assert (report.restored, report.survivor) == (loser, survivor)
    back = store.find("person", Identifier("anonymous_id", "a1"))
    kept = store.find("person", Identifier("user_id", "u1"))
    assert back is not None and kept is not None
    assert back.id == loser and kept.id == survivor
    assert back.identifiers == {"anonymous_id:a1"}
    assert kept.identifiers == {"user_id:u1", "email:ana@acme.io"}
    assert back.traits.values == {"utm_source": "ads", "title": "visitor"}
    assert kept.traits.values == {"title": "analyst", "plan_interest": "pro"}
    assert (back.accounts, kept.accounts) == ({"globex"}, {"acme"})
    assert store.members("globex") == [loser] and store.members("acme") == [survivor]
    (globex_day,) = store.get_daily_activity("globex", DAY, DAY)
    assert globex_day.people == {loser}
    assert snapshot(client("dynamodb"), "profiles")["problems"] == []
    # AND the two are not merged again by the same kind of link
    again = folder.fold(
        [make_event(180, kind="alias", person={"email": "ana@acme.io", "anonymous_id": "a1"})]
    )
    assert again.merges == 0


def test_unmerge_keeps_what_changed_after_the_merge(store: ProfileStore) -> None:
    folder, survivor, _, merge_id = _merged(store)
    folder.fold(
        [
            make_event(
                200, kind="identify", person={"user_id": "u1"}, traits={"title": "head of data"}
            )
        ]
    )
    Merger(store).unmerge(merge_id)
    kept = store.find("person", Identifier("user_id", "u1"))
    assert kept is not None and kept.traits.values["title"] == "head of data"


def test_unmerge_twice_or_unknown_is_refused(store: ProfileStore) -> None:
    _, _, _, merge_id = _merged(store)
    Merger(store).unmerge(merge_id)
    with pytest.raises(Conflict, match="already undone"):
        Merger(store).unmerge(merge_id)
    with pytest.raises(NotFound, match="no merge"):
        Merger(store).unmerge("m_000000")


def test_merge_log_is_append_only(store: ProfileStore) -> None:
    _, _, _, merge_id = _merged(store)
    before: Any = [i for i in scan(client("dynamodb"), "profiles") if i["SK"] == "LOG"]
    Merger(store).unmerge(merge_id)
    items = [i for i in scan(client("dynamodb"), "profiles") if i["PK"] == f"MERGE#{merge_id}"]
    assert sorted(i["SK"] for i in items) == ["LOG", "UNMERGE"]
    assert [i for i in items if i["SK"] == "LOG"] == before
