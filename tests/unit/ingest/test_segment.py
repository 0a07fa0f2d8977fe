"""Segment calls: validation, per-item outcomes, ids, identities and the tracking plan."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from intercept.errors import BadRequest
from intercept.ingest.normalise import Context, normalise
from intercept.ingest.segment import (
    MAX_BATCH_EVENTS,
    assigned_message_id,
    offered_write_key,
    source_for_write_key,
)

RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ctx(call: str, source: str = "web") -> Context:
    return Context(source=source, received_at=RECEIVED, archive_key="raw/web/k.json", call=call)


def track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u-1", "event": "Feature Used", **fields}


def test_batch_with_one_bad_timestamp_rejects_only_that_item_with_reason() -> None:
    payload = {"batch": [track(timestamp="2026-03-01T10:00:00Z"), track(timestamp="yesterday")]}
    outcome = normalise("segment", payload, ctx("batch"))
    assert len(outcome.events) == 1
    [issue] = outcome.rejected
    assert (issue.index, issue.field) == (1, "timestamp")
    assert "'yesterday' is not ISO-8601" in issue.reason
    assert "2015-02-02T00:30:08.276Z" in issue.reason


def test_unpadded_timestamp_is_accepted_at_its_instant_with_warning() -> None:
    payload = {"batch": [track(timestamp="2015-2-02T00:30:08.276Z", messageId="m-1")]}
    outcome = normalise("segment", payload, ctx("batch"))
    [event] = outcome.events
    assert event.occurred_at == datetime(2015, 2, 2, 0, 30, 8, 276000, tzinfo=UTC)
    [warning] = outcome.warnings
    assert (warning.index, warning.messageId, warning.field) == (0, "m-1", "timestamp")


def test_missing_timestamp_uses_original_timestamp_then_received_time() -> None:
    first = normalise("segment", track(originalTimestamp="2026-03-01T09:00:00Z"), ctx("track"))
    second = normalise("segment", track(), ctx("track"))
    assert first.events[0].occurred_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert second.events[0].occurred_at == RECEIVED


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        ({"type": "track", "event": "X"}, "body", "userId or anonymousId"),
        ({"type": "track", "userId": "u"}, "event", "required"),
        ({"type": "group", "userId": "u"}, "groupId", "required"),
        ({"type": "alias", "previousId": "a", "anonymousId": "b"}, "body", "userId is required"),
        ({"type": "dance", "userId": "u"}, "type", "identify, track, page"),
        ({"type": "track", "userId": "u", "event": "X", "properties": [1]}, "properties", "object"),
        ("not an object", "batch[0]", "JSON object"),
    ],
)
def test_invalid_batch_item_is_rejected_naming_field(item: Any, field: str, words: str) -> None:
    outcome = normalise("segment", {"batch": [item, track()]}, ctx("batch"))
    assert len(outcome.events) == 1
    [issue] = outcome.rejected
    assert issue.field == field
    assert words in issue.reason


def test_item_over_32_kb_is_rejected_naming_the_limit() -> None:
    big = track(properties={"blob": "x" * 33_000})
    outcome = normalise("segment", {"batch": [big, track()]}, ctx("batch"))
    [issue] = outcome.rejected
    assert issue.field == "batch[0]"
    assert "32 KB (32768 bytes)" in issue.reason


def test_batch_over_2500_calls_is_refused_naming_the_limit() -> None:
    with pytest.raises(BadRequest, match="limit is 2500 calls"):
        normalise("segment", {"batch": [track()] * (MAX_BATCH_EVENTS + 1)}, ctx("batch"))


@pytest.mark.parametrize("payload", [{"batch": "x"}, {"messages": []}, [1, 2]])
def test_batch_without_a_list_is_refused(payload: Any) -> None:
    with pytest.raises(BadRequest):
        normalise("segment", payload, ctx("batch"))


def test_message_id_scoped_by_source_and_assigned_stably_when_missing() -> None:
    given = normalise("segment", track(messageId="abc"), ctx("track"))
    assert given.events[0].event_id == "web:msg:abc"
    other_source = normalise("segment", track(messageId="abc"), ctx("track", source="mobile"))
    assert other_source.events[0].event_id == "mobile:msg:abc"
    first = normalise("segment", track(sentAt="2026-03-02T11:00:00Z"), ctx("track"))
    again = normalise("segment", track(sentAt="2026-03-02T11:05:00Z"), ctx("track"))
    assert first.events[0].event_id == again.events[0].event_id
    assert first.events[0].event_id.startswith("web:msg:auto-")
    changed = normalise("segment", track(properties={"module": "x"}), ctx("track"))
    assert changed.events[0].event_id != first.events[0].event_id


def test_assigned_message_id_ignores_delivery_fields() -> None:
    base = track()
    assert assigned_message_id(base) == assigned_message_id({**base, "writeKey": "k"})
    assert assigned_message_id(base) != assigned_message_id({**base, "userId": "u-2"})


def test_single_call_route_sets_the_type() -> None:
    payload = {"userId": "u-1", "traits": {"email": "A@B.example"}, "type": "track"}
    outcome = normalise("segment", payload, ctx("identify"))
    [event] = outcome.events
    assert event.kind == "identify"
    assert event.person == {"user_id": "u-1", "email": "a@b.example"}


def test_batch_context_applies_to_items_and_item_context_wins() -> None:
    payload = {
        "context": {"groupId": "acct-1", "library": {"name": "lib"}},
        "batch": [track(), track(context={"groupId": "acct-2"})],
    }
    outcome = normalise("segment", payload, ctx("batch"))
    assert [event.account for event in outcome.events] == [
        {"group_id": "acct-1"},
        {"group_id": "acct-2"},
    ]
    assert outcome.events[1].context["library"] == {"name": "lib"}


def test_track_maps_tracking_plan_usage_and_account() -> None:
    item = track(
        event="Feature Used",
        properties={"module": "reports", "feature": "export", "units": 3},
        context={"groupId": "acct-1"},
    )
    [event] = normalise("segment", item, ctx("track")).events
    assert event.usage is not None
    assert (event.usage.module, event.usage.feature, event.usage.units) == ("reports", "export", 3)
    assert event.account == {"group_id": "acct-1"}


def test_group_call_types_traits_and_links_accounts() -> None:
    item = {
        "type": "group",
        "userId": "u-1",
        "groupId": 42,
        "traits": {"name": "Acme", "mrr": 99, "stripe_customer_id": "cus_1", "seats": "many"},
    }
    outcome = normalise("segment", item, ctx("group"))
    [event] = outcome.events
    assert event.account == {"group_id": "42", "stripe_customer": "cus_1"}
    assert event.account_traits == {"name": "Acme", "mrr": 99.0, "stripe_customer_id": "cus_1"}
    assert [w.field for w in outcome.warnings] == ["traits.seats"]


def test_alias_links_previous_id_to_user() -> None:
    item = {"type": "alias", "previousId": "anon-9", "userId": "u-1"}
    [event] = normalise("segment", item, ctx("alias")).events
    assert event.person == {"user_id": "u-1", "anonymous_id": "anon-9"}
    assert event.properties == {"previous_id": "anon-9"}


def test_page_category_feeds_module() -> None:
    item = {"type": "page", "anonymousId": "a-1", "name": "Pricing", "category": "marketing"}
    [event] = normalise("segment", item, ctx("page")).events
    assert event.name == "Pricing"
    assert event.usage is not None and event.usage.module == "marketing"


def test_numeric_ids_are_read_as_text() -> None:
    [event] = normalise("segment", {"userId": 1001, "event": "X"}, ctx("track")).events
    assert event.person == {"user_id": "1001"}


def test_write_key_from_basic_auth_or_body() -> None:
    header = "Basic " + base64.b64encode(b"wk_1:").decode()
    assert offered_write_key(header, {"writeKey": "other"}) == "wk_1"
    assert offered_write_key("", {"writeKey": "wk_2"}) == "wk_2"
    assert offered_write_key("Basic !!!", None) == ""
    assert offered_write_key("Bearer token", {"writeKey": 5}) == ""


def test_write_key_lookup_is_exact() -> None:
    keys = {"wk_1": "web", "wk_2": "mobile"}
    assert source_for_write_key("wk_2", keys) == "mobile"
    assert source_for_write_key("wk_", keys) is None
    assert source_for_write_key("", keys) is None
