"""Queue packing and partial-failure retries, with a fake SQS client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from intercept.errors import DependencyFailure
from intercept.events import CanonicalEvent
from intercept.ingest.sinks import (
    MAX_CALL_BYTES,
    MAX_ENTRIES,
    MAX_MESSAGE_BYTES,
    SqsEventQueue,
    archive_key,
    group_calls,
    pack_messages,
)

WHEN = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def event(index: int, padding: int = 0) -> CanonicalEvent:
    return CanonicalEvent(
        event_id=f"web:msg:{index}",
        source="web",
        kind="track",
        name="Feature Used",
        occurred_at=WHEN,
        received_at=WHEN,
        properties={"pad": "x" * padding} if padding else {},
    )


class FakeSqs:
    """Fails the listed entry ids on the first `failing_rounds` calls."""

    def __init__(self, failing: set[str] | None = None, failing_rounds: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.failing = failing or set()
        self.failing_rounds = failing_rounds

    def send_message_batch(  # noqa: N803 - boto3's parameter names
        self, QueueUrl: str, Entries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        self.calls.append(Entries)
        failed = []
        if len(self.calls) <= self.failing_rounds:
            failed = [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError"}
                for e in Entries
                if e["Id"] in self.failing
            ]
        return {
            "Successful": [
                {"Id": e["Id"]} for e in Entries if e["Id"] not in {f["Id"] for f in failed}
            ],
            "Failed": failed,
        }


def test_pack_messages_keeps_order_and_every_event_under_limit() -> None:
    events = [event(i, padding=3000) for i in range(500)]
    messages = pack_messages(events)
    assert len(messages) > 1
    assert all(len(message.encode()) <= MAX_MESSAGE_BYTES for message in messages)
    ids = [item["event_id"] for message in messages for item in json.loads(message)["events"]]
    assert ids == [f"web:msg:{i}" for i in range(500)]


def test_pack_messages_puts_small_events_together() -> None:
    assert len(pack_messages([event(i) for i in range(100)])) == 1


def test_oversized_event_is_trimmed_to_fit_and_points_at_archive() -> None:
    [message] = pack_messages([event(1, padding=MAX_MESSAGE_BYTES)])
    [item] = json.loads(message)["events"]
    assert item["properties"] == {} and "archive_key" in item["context"]["trimmed"]


def test_group_calls_respects_entry_count_and_request_size() -> None:
    small = ["{}"] * 25
    assert [len(call) for call in group_calls(small)] == [10, 10, 5]
    large = ["x" * 100_000] * 5
    calls = group_calls(large)
    assert all(sum(len(m) for m in call) <= MAX_CALL_BYTES for call in calls)
    assert all(len(call) <= MAX_ENTRIES for call in calls)
    assert sum(len(call) for call in calls) == 5


def test_send_retries_only_failed_entries_then_succeeds() -> None:
    sqs = FakeSqs(failing={"m1"}, failing_rounds=2)
    queue = SqsEventQueue("https://sqs/q", sqs, sleep=lambda _: None)
    queue._send_call(['{"events":[]}'] * 3, "web")
    first, second, third = sqs.calls
    assert [entry["Id"] for entry in first] == ["m0", "m1", "m2"]
    assert [entry["Id"] for entry in second] == ["m1"] == [entry["Id"] for entry in third]
    assert first[0]["MessageAttributes"]["source"]["StringValue"] == "web"


def test_send_sends_every_event_across_calls() -> None:
    sqs = FakeSqs()
    queue = SqsEventQueue("https://sqs/q", sqs, sleep=lambda _: None)
    sent = queue.send([event(i, padding=60_000) for i in range(6)], source="web")
    bodies = [json.loads(entry["MessageBody"]) for call in sqs.calls for entry in call]
    assert sent == len(bodies) >= 2
    assert sum(len(body["events"]) for body in bodies) == 6


def test_send_raises_dependency_failure_when_entries_keep_failing() -> None:
    sqs = FakeSqs(failing={"m0"}, failing_rounds=99)
    queue = SqsEventQueue("https://sqs/q", sqs, sleep=lambda _: None)
    with pytest.raises(DependencyFailure):
        queue.send([event(1)], source="web")


def test_send_client_error_is_dependency_failure() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Down:
        def send_message_batch(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://sqs")

    with pytest.raises(DependencyFailure):
        SqsEventQueue("https://sqs/q", Down()).send([event(1)], source="web")


def test_archive_key_is_by_source_and_utc_date() -> None:
    key = archive_key("stripe", WHEN)
    assert key.startswith("raw/stripe/2026/03/02/120000-") and key.endswith(".json")
    assert archive_key("stripe", WHEN) != key


def test_text_sqs_refuses_is_escaped_and_round_trips() -> None:
    odd = CanonicalEvent(
        event_id="web:msg:odd",
        source="web",
        kind="track",
        occurred_at=WHEN,
        received_at=WHEN,
        properties={"surrogate": "\ud800", "nonchar": "\uffff", "accent": "Zoë"},
    )
    [message] = pack_messages([odd])
    assert message.isascii()
    [item] = json.loads(message)["events"]
    assert item["properties"] == {"surrogate": "\ud800", "nonchar": "\uffff", "accent": "Zoë"}
