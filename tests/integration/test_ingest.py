"""Ingest on the local runtime (the project's template on moto): storage, secrets, replay.

GIVEN the template provisioned in moto with the test secrets in Secrets Manager, WHEN
requests come in as API Gateway would deliver them, THEN raw bodies land in the archive
bucket, canonical events in the IngestQueue, and nothing is answered 2xx unless both did.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from intercept.aws import client
from intercept.ingest.senders import basic_auth, hubspot_headers, stripe_headers
from intercept.settings import reset_settings


def queued(runtime: Any) -> list[tuple[dict[str, Any], str]]:
    """Every IngestQueue message body with its `source` attribute (messages are consumed)."""
    return [(body, source) for body, source, _ in raw_queued(runtime)]


def raw_queued(runtime: Any) -> list[tuple[dict[str, Any], str, int]]:
    """(parsed body, source attribute, body size in bytes) of every IngestQueue message."""
    url = runtime.physical("IngestQueue")
    found = []
    while True:
        answer = client("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = message["MessageAttributes"]
            found.append(
                (
                    json.loads(message["Body"]),
                    attributes["source"]["StringValue"],
                    len(message["Body"].encode()),
                )
            )
            client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def archived(runtime: Any) -> list[dict[str, Any]]:
    bucket = runtime.physical("ArchiveBucket")
    listed = client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    return [
        client("s3").get_object(Bucket=bucket, Key=item["Key"]) | {"Key": item["Key"]}
        for item in listed
    ]


def batch_body(count: int) -> bytes:
    items = [
        {
            "type": "track",
            "userId": f"u-{i}",
            "event": "Feature Used",
            "messageId": f"m-{i}",
            "properties": {"module": "reports"},
            "context": {"groupId": "acct-1"},
            "timestamp": "2026-03-01T10:00:00Z",
        }
        for i in range(count)
    ]
    return json.dumps({"batch": items}).encode()


def test_segment_batch_lands_in_archive_and_queue(runtime: Any) -> None:
    answer = runtime.http(
        "POST",
        "/v1/batch",
        body=batch_body(3),
        headers={"content-type": "application/json", "authorization": basic_auth("wk_test_web")},
    )
    assert answer.status == 200 and answer.json() == {"success": True, "accepted": 3}
    [stored] = archived(runtime)
    assert stored["Key"].startswith("raw/web/")
    assert stored["Metadata"]["route"] == "segment" and stored["Metadata"]["source"] == "web"
    assert "authorization" not in json.dumps(stored["Metadata"]).lower()
    assert json.loads(stored["Body"].read())["batch"][0]["messageId"] == "m-0"
    [(body, source)] = queued(runtime)
    assert source == "web"
    assert [event["event_id"] for event in body["events"]] == [
        "web:msg:m-0",
        "web:msg:m-1",
        "web:msg:m-2",
    ]
    assert all(event["archive_key"] == stored["Key"] for event in body["events"])
    assert body["events"][0]["usage"]["module"] == "reports"


def test_large_batch_is_split_into_messages_under_240_kb(runtime: Any) -> None:
    items = [
        {
            "type": "track",
            "userId": "u-1",
            "event": "Feature Used",
            "messageId": f"big-{i}",
            "properties": {"note": "x" * 900},
        }
        for i in range(500)
    ]
    answer = runtime.http(
        "POST",
        "/v1/batch",
        body=json.dumps({"batch": items}),
        headers={"authorization": basic_auth("wk_test_web")},
    )
    assert answer.status == 200
    messages = raw_queued(runtime)
    assert len(messages) > 1
    assert all(size < 240_000 for _, _, size in messages)
    assert sum(len(body["events"]) for body, _, _ in messages) == 500


def test_stripe_webhook_signed_with_secret_from_secrets_manager(runtime: Any) -> None:
    raw = json.dumps(
        {
            "id": "evt_live_1",
            "type": "invoice.payment_failed",
            "created": int(time.time()),
            "data": {
                "object": {
                    "customer": "cus_1",
                    "amount_due": 1200,
                    "attempt_count": 2,
                    "currency": "usd",
                }
            },
        }
    ).encode()
    answer = runtime.http(
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, "whsec_test_previous", int(time.time())),
    )
    assert answer.status == 200
    [(body, source)] = queued(runtime)
    [event] = body["events"]
    assert (source, event["kind"], event["billing"]["attempt_count"]) == ("stripe", "billing", 2)
    assert archived(runtime)[0]["Body"].read() == raw


def test_stripe_expired_signature_is_refused_and_nothing_stored(runtime: Any) -> None:
    raw = b'{"id":"evt_old","type":"invoice.paid","data":{"object":{}}}'
    answer = runtime.http(
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, "whsec_test_current", int(time.time()) - 600),
    )
    assert answer.status == 401
    assert archived(runtime) == [] and queued(runtime) == []


def test_hubspot_signed_for_the_called_uri_is_accepted(runtime: Any) -> None:
    raw = (
        b'[{"eventType":"company.propertyChange","objectId":5,"propertyName":"annualrevenue",'
        b'"propertyValue":"120000","occurredAt":1772452800000}]'
    )
    stamp = int(time.time() * 1000)
    headers = hubspot_headers(
        raw, "hubspot-test-secret", uri="http://127.0.0.1/webhooks/hubspot", timestamp_ms=stamp
    )
    answer = runtime.http("POST", "/webhooks/hubspot", body=raw, headers=headers)
    assert answer.status == 200
    [(body, _)] = queued(runtime)
    assert body["events"][0]["account_traits"] == {"arr": 120000.0}


def test_queue_failure_answers_503_and_acknowledges_nothing(runtime: Any) -> None:
    client("sqs").delete_queue(QueueUrl=runtime.physical("IngestQueue"))
    answer = runtime.http(
        "POST",
        "/v1/batch",
        body=batch_body(2),
        headers={"authorization": basic_auth("wk_test_web")},
    )
    assert answer.status == 503
    assert answer.json()["error"] == "dependency_failure"
    assert "success" not in answer.json()


def test_replay_command_re_enqueues_the_same_event_ids(
    runtime: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from intercept.cli import main

    answer = runtime.http(
        "POST",
        "/v1/batch",
        body=batch_body(4),
        headers={"authorization": basic_auth("wk_test_web")},
    )
    assert answer.status == 200
    [(live, _)] = queued(runtime)

    monkeypatch.setenv("ARCHIVE_BUCKET", runtime.physical("ArchiveBucket"))
    monkeypatch.setenv("INGEST_QUEUE_URL", runtime.physical("IngestQueue"))
    reset_settings()
    assert main(["replay", "--source", "web", "--since", "1h"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (report["objects"], report["events"]) == (1, 4)
    [(again, _)] = queued(runtime)
    assert again["events"] == live["events"]
    reset_settings()


def test_openapi_is_served(runtime: Any) -> None:
    answer = runtime.http("GET", "/openapi.json")
    assert answer.status == 200 and "/v1/batch" in answer.json()["paths"]
