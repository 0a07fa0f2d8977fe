"""The unmodified Segment Python library, pointed at `intercept serve`, is accepted.

The library posts to ``{host}/v1/batch`` with Basic auth (write key, empty password), a
``writeKey`` in the body, and optionally gzip; the local runtime's HTTP server turns each
request into an API Gateway event for the ingest function.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import segment.analytics as analytics
from segment.analytics.request import APIError

from intercept.aws import client
from intercept.local.server import make_server


@pytest.fixture
def served(runtime: Any) -> Iterator[str]:
    server = make_server(runtime, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def queued_events(runtime: Any) -> list[dict[str, Any]]:
    url = runtime.physical("IngestQueue")
    events: list[dict[str, Any]] = []
    while True:
        messages = (
            client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        )
        if not messages:
            return events
        for message in messages:
            events.extend(json.loads(message["Body"])["events"])
            client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_segment_sdk_sync_calls_are_accepted(runtime: Any, served: str) -> None:
    sdk = analytics.Client(write_key="wk_test_web", host=served, sync_mode=True, max_retries=0)
    sdk.identify("u-42", {"email": "Ada@Example.com", "name": "Ada"}, context={"groupId": "acct-7"})
    sdk.group("u-42", "acct-7", {"name": "Analytical Engines", "plan": "growth", "mrr": 990})
    sdk.track("u-42", "Signed In", context={"groupId": "acct-7"})
    sdk.track("u-42", "Feature Used", {"module": "reports", "feature": "export"})
    sdk.page("u-42", "Docs", "Pricing")
    sdk.screen("u-42", "Home")
    sdk.alias("anon-1", "u-42")
    events = queued_events(runtime)
    assert [event["kind"] for event in events] == [
        "identify",
        "group",
        "track",
        "track",
        "page",
        "screen",
        "alias",
    ]
    assert all(
        event["source"] == "web" and event["event_id"].startswith("web:msg:") for event in events
    )
    assert events[0]["person"] == {"user_id": "u-42", "email": "ada@example.com"}
    assert events[1]["account"] == {"group_id": "acct-7"}
    assert events[1]["account_traits"]["mrr"] == 990.0
    assert events[2]["usage"]["login"] is True
    assert events[3]["usage"]["module"] == "reports"


def test_segment_sdk_batched_gzip_flush_is_accepted(runtime: Any, served: str) -> None:
    errors: list[Any] = []
    sdk = analytics.Client(
        write_key="wk_test_web",
        host=served,
        gzip=True,
        upload_size=50,
        on_error=lambda error, batch: errors.append(error),
        max_retries=0,
    )
    for index in range(120):
        sdk.track(f"u-{index % 7}", "Feature Used", {"module": "billing", "units": index})
    sdk.flush()
    sdk.join()
    assert errors == []
    events = queued_events(runtime)
    assert len(events) == 120
    assert len({event["event_id"] for event in events}) == 120


def test_segment_sdk_with_wrong_write_key_gets_401_it_understands(
    runtime: Any, served: str
) -> None:
    sdk = analytics.Client(write_key="wk_not_valid", host=served, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as caught:
        sdk.track("u-1", "Signed In")
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert "write key" in caught.value.message
    assert queued_events(runtime) == []
