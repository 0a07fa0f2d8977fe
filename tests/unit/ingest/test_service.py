"""The ingest API end to end with in-memory storage: answers, refusals and durability."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from ingest_support import NOW, WRITE_KEY, Clock, MemoryArchive, MemoryQueue

from intercept.errors import DependencyFailure
from intercept.ingest.senders import (
    basic_auth,
    generic_headers,
    http_event,
    hubspot_headers,
    intercom_headers,
    stripe_headers,
    zendesk_headers,
)
from intercept.ingest.service import Dependencies, handle

STAMP = int(NOW.timestamp())
STRIPE_SECRET = "whsec_unit_current"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured log record with its extra fields, as text."""
    return "\n".join(json.dumps(record.__dict__, default=str) for record in caplog.records)


def call(deps: Dependencies, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict]:
    response = handle(http_event(method, path, **kwargs), deps)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def segment(deps: Dependencies, path: str, payload: Any, **headers: str) -> tuple[int, Any, dict]:
    names = {"content-type": "application/json", "authorization": basic_auth(WRITE_KEY), **headers}
    names = {k: v for k, v in names.items() if v}
    return call(deps, "POST", path, body=json.dumps(payload), headers=names)


def track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u-1", "event": "Signed In", **fields}


def stripe_body(event_type: str = "invoice.paid") -> bytes:
    obj = {"id": "in_1", "object": "invoice", "customer": "cus_1", "amount_paid": 100}
    return json.dumps(
        {"id": "evt_1", "type": event_type, "created": STAMP, "data": {"object": obj}}
    ).encode()


# ---------------------------------------------------------------------------- Segment


def test_segment_batch_is_archived_enqueued_then_answered_success(
    deps: Dependencies, archive: MemoryArchive, queue: MemoryQueue
) -> None:
    status, body, _ = segment(deps, "/v1/batch", {"batch": [track(), track(event="Logged In")]})
    assert (status, body) == (200, {"success": True, "accepted": 2})
    [(key, stored)] = archive.objects.items()
    assert key.startswith("raw/web/2026/03/02/120000-") and key.endswith(".json")
    assert stored.metadata["route"] == "segment" and stored.metadata["source"] == "web"
    assert stored.metadata["received-at"] == "2026-03-02T12:00:00Z"
    assert [event.archive_key for event in queue.events] == [key, key]
    assert queue.sent[0][0] == "web"


def test_segment_write_key_in_body_is_accepted_and_not_archived(
    deps: Dependencies, archive: MemoryArchive
) -> None:
    status, _, _ = segment(deps, "/v1/track", {**track(), "writeKey": WRITE_KEY}, authorization="")
    assert status == 200
    [stored] = archive.objects.values()
    assert WRITE_KEY.encode() not in stored.body
    assert WRITE_KEY not in json.dumps(dict(stored.metadata))
    assert json.loads(stored.body)["event"] == "Signed In"


@pytest.mark.parametrize(
    "authorization", ["", basic_auth("wk_wrong_1234567"), "Bearer abc", "Basic %%%"]
)
def test_segment_missing_or_wrong_write_key_is_401_with_generic_body(
    deps: Dependencies, queue: MemoryQueue, authorization: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, body, headers = segment(deps, "/v1/track", track(), authorization=authorization)
    assert status == 401
    assert body["error"] == body["code"] == "unauthorized"
    assert "write key" in body["detail"] and body["message"] == body["detail"]
    assert headers["www-authenticate"] == 'Basic realm="intercept"'
    assert queue.sent == []
    text = logged(caplog)
    assert "rejected request" in text and "write key" in text
    assert "wk_wrong_1234567" not in text


def test_segment_wrong_basic_key_is_refused_even_with_right_body_key(deps: Dependencies) -> None:
    payload = {**track(), "writeKey": WRITE_KEY}
    status, _, _ = segment(deps, "/v1/track", payload, authorization=basic_auth("wk_nope"))
    assert status == 401


def test_segment_single_call_with_bad_timestamp_is_400_naming_field(deps: Dependencies) -> None:
    status, body, _ = segment(deps, "/v1/track", track(timestamp="02/03/2015"))
    assert status == 400
    assert body["detail"].startswith("timestamp: ") and "ISO-8601" in body["detail"]


def test_segment_batch_reports_rejected_and_warned_items(
    deps: Dependencies, queue: MemoryQueue
) -> None:
    payload = {
        "batch": [
            track(messageId="m-0"),
            track(messageId="m-1", timestamp="not-a-time"),
            track(messageId="m-2", timestamp="2015-2-02T00:30:08.276Z"),
        ]
    }
    status, body, _ = segment(deps, "/v1/batch", payload)
    assert status == 200 and body["accepted"] == 2
    assert [(i["index"], i["messageId"], i["field"]) for i in body["rejected"]] == [
        (1, "m-1", "timestamp")
    ]
    assert [(i["index"], i["field"]) for i in body["warnings"]] == [(2, "timestamp")]
    assert [event.event_id for event in queue.events] == ["web:msg:m-0", "web:msg:m-2"]


def test_segment_batch_with_no_acceptable_item_is_400_listing_reasons(
    deps: Dependencies, archive: MemoryArchive
) -> None:
    status, body, _ = segment(deps, "/v1/batch", {"batch": [track(timestamp="x"), {"type": "x"}]})
    assert status == 400
    assert "batch[0].timestamp" in body["detail"] and "batch[1].type" in body["detail"]
    assert archive.objects == {}


def test_segment_gzip_batch_is_accepted(deps: Dependencies, queue: MemoryQueue) -> None:
    raw = gzip.compress(json.dumps({"batch": [track()]}).encode())
    headers = {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "authorization": basic_auth(WRITE_KEY),
    }
    status, _, _ = call(deps, "POST", "/v1/batch", body=raw, headers=headers)
    assert status == 200 and len(queue.events) == 1


@pytest.mark.parametrize(
    ("path", "size", "limit"),
    [("/v1/track", 32 * 1024 + 1, "32768 bytes"), ("/v1/batch", 500 * 1024 + 1, "512000 bytes")],
)
def test_segment_body_over_limit_is_413_naming_limit(
    deps: Dependencies, path: str, size: int, limit: str
) -> None:
    raw = b'{"pad":"' + b"x" * (size - 10) + b'"}'
    headers = {"content-type": "application/json", "authorization": basic_auth(WRITE_KEY)}
    status, body, _ = call(deps, "POST", path, body=raw, headers=headers)
    assert status == 413 and limit in body["detail"]


def test_segment_gzip_bomb_is_413(deps: Dependencies) -> None:
    raw = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    headers = {"content-encoding": "gzip", "authorization": basic_auth(WRITE_KEY)}
    status, body, _ = call(deps, "POST", "/v1/batch", body=raw, headers=headers)
    assert status == 413 and "512000 bytes" in body["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"content-type": "application/x-www-form-urlencoded"}, 415),
        ({"content-type": "application/json", "content-encoding": "br"}, 415),
        ({"content-type": "text/plain"}, 200),
        ({"content-type": "application/vnd.segment+json"}, 200),
    ],
)
def test_segment_media_types(deps: Dependencies, headers: dict[str, str], status: int) -> None:
    headers = {**headers, "authorization": basic_auth(WRITE_KEY)}
    got, body, _ = call(deps, "POST", "/v1/track", body=json.dumps(track()), headers=headers)
    assert got == status
    if status == 415:
        assert body["accepted"]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1,2]", "JSON object"),
        (b'{"userId": 1e999}', "finite"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a": NaN}', "finite"),
    ],
)
def test_segment_malformed_body_is_400_saying_what_is_accepted(
    deps: Dependencies, raw: bytes, words: str
) -> None:
    headers = {"authorization": basic_auth(WRITE_KEY)}
    status, body, _ = call(deps, "POST", "/v1/track", body=raw, headers=headers)
    assert status == 400 and words in body["detail"]


def test_unknown_call_route_and_method_are_404_and_405(deps: Dependencies) -> None:
    assert segment(deps, "/v1/dance", track())[0] == 404
    assert call(deps, "GET", "/v1/track")[0] == 405
    assert call(deps, "POST", "/elsewhere")[0] == 404
    assert call(deps, "POST", "/openapi.json")[0] == 405


def test_invalid_base64_body_is_400(deps: Dependencies) -> None:
    event = http_event("POST", "/v1/track", headers={"authorization": basic_auth(WRITE_KEY)})
    event.update(body="!!not base64!!", isBase64Encoded=True)
    response = handle(event, deps)
    assert response["statusCode"] == 400


def test_event_that_is_not_http_is_400(deps: Dependencies) -> None:
    assert handle(["not", "an", "event"], deps)["statusCode"] == 400


# ---------------------------------------------------------------------------- webhooks


def test_stripe_signed_request_is_accepted_with_raw_body_archived(
    deps: Dependencies, archive: MemoryArchive, queue: MemoryQueue
) -> None:
    raw = stripe_body()
    status, body, _ = call(
        deps,
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert (status, body) == (200, {"success": True, "accepted": 1})
    [stored] = archive.objects.values()
    assert stored.body == raw
    assert "stripe-signature" not in stored.metadata["headers"]
    assert queue.events[0].event_id == "stripe:evt_1"


def test_stripe_base64_marked_body_is_verified_over_decoded_bytes(
    deps: Dependencies, queue: MemoryQueue
) -> None:
    raw = stripe_body()
    event = http_event(
        "POST",
        "/webhooks/stripe",
        body=raw,
        base64_body=True,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert handle(event, deps)["statusCode"] == 200 and len(queue.events) == 1


@pytest.mark.parametrize(
    "case", ["tampered", "expired", "future", "unsigned", "retired_secret", "other_body"]
)
def test_stripe_bad_signatures_are_401_and_store_nothing(
    deps: Dependencies,
    archive: MemoryArchive,
    queue: MemoryQueue,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = stripe_body()
    headers = {
        "tampered": stripe_headers(raw, STRIPE_SECRET, STAMP),
        "expired": stripe_headers(raw, STRIPE_SECRET, STAMP - 301),
        "future": stripe_headers(raw, STRIPE_SECRET, STAMP + 301),
        "unsigned": {"content-type": "application/json"},
        "retired_secret": stripe_headers(raw, "whsec_unit_retired", STAMP),
        "other_body": stripe_headers(stripe_body("invoice.payment_failed"), STRIPE_SECRET, STAMP),
    }[case]
    sent = raw.replace(b"cus_1", b"cus_2") if case == "tampered" else raw
    status, body, _ = call(deps, "POST", "/webhooks/stripe", body=sent, headers=headers)
    assert status == 401
    assert body == {
        "error": "unauthorized",
        "detail": "signature missing, invalid or outside the accepted time window",
    }
    assert archive.objects == {} and queue.sent == []
    output = logged(caplog)
    assert "rejected request" in output and '"reason"' in output
    assert STRIPE_SECRET not in output
    if "stripe-signature" in headers:
        assert headers["stripe-signature"].split("v1=")[1] not in output


def test_stripe_previous_secret_still_accepted_during_rotation(deps: Dependencies) -> None:
    raw = stripe_body()
    headers = stripe_headers(raw, "whsec_unit_previous", STAMP)
    assert call(deps, "POST", "/webhooks/stripe", body=raw, headers=headers)[0] == 200


def test_zendesk_intercom_and_generic_signed_requests_are_accepted(
    deps: Dependencies, queue: MemoryQueue
) -> None:
    zd = json.dumps(
        {
            "id": "z1",
            "type": "zen:event-type:ticket.created",
            "detail": {"id": "5", "status": "NEW"},
        }
    ).encode()
    ic = json.dumps({"id": "notif_1", "topic": "ping", "data": {"item": {"type": "ping"}}}).encode()
    gh = json.dumps({"zen": "Design for failure."}).encode()
    answers = [
        call(
            deps,
            "POST",
            "/webhooks/zendesk",
            body=zd,
            headers=zendesk_headers(zd, "zendesk-unit-secret", "2026-03-02T11:59:30Z"),
        )[0],
        call(
            deps,
            "POST",
            "/webhooks/intercom",
            body=ic,
            headers=intercom_headers(ic, "intercom-unit-secret"),
        )[0],
        call(
            deps,
            "POST",
            "/webhooks/generic/github",
            body=gh,
            headers={
                **generic_headers(gh, "github-unit-secret"),
                "x-github-event": "ping",
                "x-github-delivery": "d-1",
            },
        )[0],
    ]
    assert answers == [200, 200, 200]
    assert [event.source for event in queue.events] == ["zendesk", "intercom", "github"]
    assert queue.events[2].event_id == "github:d-1" and queue.events[2].name == "ping"


def test_generic_form_encoded_payload_is_accepted(deps: Dependencies, queue: MemoryQueue) -> None:
    raw = b"payload=%7B%22id%22%3A%22f-1%22%7D"
    headers = {
        **generic_headers(raw, "github-unit-secret"),
        "content-type": "application/x-www-form-urlencoded",
    }
    assert call(deps, "POST", "/webhooks/generic/github", body=raw, headers=headers)[0] == 200
    assert queue.events[0].event_id == "github:f-1"


@pytest.mark.parametrize(("name", "status"), [("stripe", 400), ("Bad-Name!", 400), ("unset", 401)])
def test_generic_reserved_bad_or_unconfigured_source_is_refused(
    deps: Dependencies, name: str, status: int
) -> None:
    raw = b"{}"
    headers = generic_headers(raw, "github-unit-secret")
    assert call(deps, "POST", f"/webhooks/generic/{name}", body=raw, headers=headers)[0] == status


def test_hubspot_uri_is_rebuilt_from_host_and_stage_path(deps: Dependencies) -> None:
    raw = b'[{"eventType":"contact.creation","objectId":1,"occurredAt":1772452800000}]'
    uri = "https://abc.execute-api.us-east-1.amazonaws.com/dev/webhooks/hubspot?x=1"
    headers = hubspot_headers(raw, "hubspot-unit-secret", uri=uri, timestamp_ms=STAMP * 1000)
    event = http_event(
        "POST",
        "/webhooks/hubspot",
        body=raw,
        headers=headers,
        query="x=1",
        stage="dev",
        domain="abc.execute-api.us-east-1.amazonaws.com",
    )
    assert handle(event, deps)["statusCode"] == 200


def test_hubspot_behind_custom_domain_uses_configured_public_url(deps: Dependencies) -> None:
    raw = b"[]"
    uri = "https://hooks.example.org/crm/webhooks/hubspot"
    headers = hubspot_headers(raw, "hubspot-unit-secret", uri=uri, timestamp_ms=STAMP * 1000)
    event = http_event("POST", "/webhooks/hubspot", body=raw, headers=headers)
    assert handle(event, deps)["statusCode"] == 401
    deps.public_urls = ["https://hooks.example.org/crm"]
    assert handle(event, deps)["statusCode"] == 200


def test_webhook_body_over_one_megabyte_is_413(deps: Dependencies) -> None:
    raw = b" " * (1024 * 1024 + 1)
    status, body, _ = call(
        deps,
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert status == 413 and "1048576 bytes" in body["detail"]


def test_signed_but_malformed_json_is_400(deps: Dependencies) -> None:
    raw = b"{oops"
    status, _, _ = call(
        deps,
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert status == 400


# ---------------------------------------------------------------------------- durability


class RecordingSinks:
    """Records the order of storage calls; either step can be made to fail."""

    def __init__(self, fail_archive: bool = False, fail_queue: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_archive = fail_archive
        self.fail_queue = fail_queue

    def put(self, key: str, body: bytes, **_: Any) -> None:
        self.calls.append("archive")
        if self.fail_archive:
            raise DependencyFailure("the request could not be archived; retry later")

    def send(self, events: Any, *, source: str) -> int:
        self.calls.append("queue")
        if self.fail_queue:
            raise DependencyFailure("events could not be enqueued; retry later")
        return 1


def deps_with(sinks: RecordingSinks, clock: Clock) -> Dependencies:
    from ingest_support import SECRETS

    return Dependencies(
        archive=sinks,  # type: ignore[arg-type]
        queue=sinks,  # type: ignore[arg-type]
        secrets=lambda: SECRETS,
        clock=clock,
    )


def test_archive_is_written_before_queue_before_answer(clock: Clock) -> None:
    sinks = RecordingSinks()
    status, _, _ = segment(deps_with(sinks, clock), "/v1/track", track())
    assert (status, sinks.calls) == (200, ["archive", "queue"])


def test_queue_failure_answers_503_so_the_sender_retries(clock: Clock) -> None:
    sinks = RecordingSinks(fail_queue=True)
    status, body, _ = segment(deps_with(sinks, clock), "/v1/batch", {"batch": [track()]})
    assert status == 503 and body["error"] == "dependency_failure"
    assert "success" not in body


def test_archive_failure_answers_503_and_enqueues_nothing(clock: Clock) -> None:
    sinks = RecordingSinks(fail_archive=True)
    raw = stripe_body()
    deps = deps_with(sinks, clock)
    status, _, _ = call(
        deps,
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert status == 503 and sinks.calls == ["archive"]


def test_unexpected_storage_error_is_500_with_generic_body(clock: Clock) -> None:
    class Broken(RecordingSinks):
        def put(self, key: str, body: bytes, **_: Any) -> None:
            raise RuntimeError("disk on fire at /secret/path")

    status, body, _ = segment(deps_with(Broken(), clock), "/v1/track", track())
    assert status == 500 and "fire" not in body["detail"]


def test_openapi_route_needs_no_dependencies() -> None:
    response = handle(http_event("GET", "/openapi.json"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["openapi"].startswith("3.")


def test_segment_text_that_sqs_refuses_is_still_accepted(
    deps: Dependencies, queue: MemoryQueue
) -> None:
    raw = b'{"userId": "u-1", "event": "Feature Used", "properties": {"a": "\\ud800\\uffff"}}'
    headers = {"authorization": basic_auth(WRITE_KEY)}
    status, _, _ = call(deps, "POST", "/v1/track", body=raw, headers=headers)
    assert status == 200 and queue.events[0].properties == {"a": "\ud800\uffff"}


def test_segment_timestamp_out_of_range_is_400_not_500(deps: Dependencies) -> None:
    status, body, _ = segment(deps, "/v1/track", track(timestamp="9999-12-31T23:59:59-01:00"))
    assert status == 400 and "out of range" in body["detail"]


VENDOR_SIGNERS = {
    "/webhooks/zendesk": lambda raw: zendesk_headers(
        raw, "zendesk-unit-secret", "2026-03-02T12:00:00Z"
    ),
    "/webhooks/hubspot": lambda raw: hubspot_headers(
        raw,
        "hubspot-unit-secret",
        uri="https://ingest.example.com/webhooks/hubspot",
        timestamp_ms=STAMP * 1000,
    ),
    "/webhooks/intercom": lambda raw: intercom_headers(raw, "intercom-unit-secret"),
    "/webhooks/generic/github": lambda raw: generic_headers(raw, "github-unit-secret"),
}


@pytest.mark.parametrize("path", sorted(VENDOR_SIGNERS))
def test_every_webhook_route_accepts_signed_and_refuses_tampered_or_unsigned(
    deps: Dependencies, queue: MemoryQueue, path: str
) -> None:
    raw = b'[{"id": "x-1", "type": "thing.happened"}]' if "hubspot" in path else b'{"id": "x-1"}'
    headers = VENDOR_SIGNERS[path](raw)
    assert call(deps, "POST", path, body=raw, headers=headers)[0] == 200
    tampered = raw.replace(b"x-1", b"x-2")
    assert call(deps, "POST", path, body=tampered, headers=headers)[0] == 401
    assert (
        call(deps, "POST", path, body=raw, headers={"content-type": "application/json"})[0] == 401
    )
    assert len(queue.events) == 1


def test_unknown_vendor_event_is_accepted_archived_and_counted(
    deps: Dependencies, archive: MemoryArchive, queue: MemoryQueue
) -> None:
    from intercept.observability import metrics

    metrics.clear_metrics()
    raw = json.dumps(
        {
            "id": "evt_u",
            "type": "radar.early_fraud_warning.created",
            "created": STAMP,
            "data": {"object": {"id": "issfr_1"}},
        }
    ).encode()
    status, body, _ = call(
        deps,
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers=stripe_headers(raw, STRIPE_SECRET, STAMP),
    )
    assert (status, body["accepted"]) == (200, 1)
    assert queue.events[0].kind == "unknown" and len(archive.objects) == 1
    assert metrics.metric_set["UnknownEventTypes"]["Value"] == [1.0]
    metrics.clear_metrics()


def test_same_message_id_from_two_keys_of_one_source_is_one_event(
    deps: Dependencies, queue: MemoryQueue
) -> None:
    from ingest_support import SECRETS

    SECRETS.write_keys["wk_unit_web_rotated"] = "web"
    try:
        segment(deps, "/v1/track", track(messageId="m-9"))
        segment(
            deps,
            "/v1/track",
            track(messageId="m-9"),
            authorization=basic_auth("wk_unit_web_rotated"),
        )
    finally:
        del SECRETS.write_keys["wk_unit_web_rotated"]
    assert [event.event_id for event in queue.events] == ["web:msg:m-9", "web:msg:m-9"]


def test_odd_content_type_is_415_and_huge_replay_headers_still_fit_metadata(
    deps: Dependencies, archive: MemoryArchive
) -> None:
    raw = stripe_body()
    signed = stripe_headers(raw, STRIPE_SECRET, STAMP)
    odd = {**signed, "content-type": "application/\u0436+json"}
    assert call(deps, "POST", "/webhooks/stripe", body=raw, headers=odd)[0] == 415
    noisy = {**signed, "user-agent": "\u00e9" * 500, "x-github-event": "\u00e9" * 500}
    assert call(deps, "POST", "/webhooks/stripe", body=raw, headers=noisy)[0] == 200
    [stored] = archive.objects.values()
    assert sum(len(k) + len(v) for k, v in stored.metadata.items()) <= 2048
    assert all(value.isascii() for value in stored.metadata.values())
