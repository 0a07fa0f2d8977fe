from __future__ import annotations

import json

import pytest

from intercept.profiles.consumer import PoisonMessage, parse_message


def test_parse_message_reads_events(sample_event: object) -> None:
    record = sample_event("merge_sqs.json")["Records"][0]  # type: ignore[operator]
    events = parse_message(record["body"])
    assert [e.kind for e in events] == ["identify", "group", "track", "billing"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        ("[]", '"events" list'),
        ('{"events": {}}', '"events" list'),
    ],
)
def test_parse_message_rejects_wrong_shapes(body: str, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        parse_message(body)


def test_poison_reason_names_fields_without_values() -> None:
    secret = "ana.lima@acme.io"
    body = json.dumps(
        {
            "events": [
                {
                    "event_id": "e1",
                    "source": "web",
                    "kind": "nope",
                    "person": {"email": secret},
                    "occurred_at": "yesterday",
                    "received_at": "2024-05-01T00:00:00Z",
                }
            ]
        }
    )
    with pytest.raises(PoisonMessage) as caught:
        parse_message(body)
    assert "kind" in caught.value.reason and "occurred_at" in caught.value.reason
    assert secret not in caught.value.reason and "yesterday" not in caught.value.reason
