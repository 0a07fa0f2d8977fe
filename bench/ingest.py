"""Ingest figures: throughput through the handler on moto, a fuzz campaign, cold import.

- ``ingest_events_per_s_segment_batch``: 500-event Segment batches through
  ``functions/ingest/app.handler`` (write-key check, validation, normalisation, S3 archive,
  SQS enqueue) with moto in-process; events per second of wall time.
- ``ingest_requests_per_s_stripe``: signed Stripe webhooks through the same handler.
- ``ingest_moto_time_share``: the share of that wall time spent inside moto's request
  handling (timed around moto's botocore stubber), i.e. what a real AWS endpoint would
  replace with network latency.
- ``fuzz_requests`` / ``fuzz_5xx`` / ``fuzz_crashes``: hypothesis-generated malformed
  requests (bytes, JSON, route-shaped payloads, broken events, about half correctly signed)
  against every ingest route through the handler on moto; a crash is an exception escaping it.
- ``cold_import_seconds_ingest``: median over five fresh interpreters of importing the
  handler module, after one warm-up run that writes the bytecode cache.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUZZ_REQUESTS = int(os.environ.get("INGEST_FUZZ_REQUESTS", "10000"))
BATCHES = 12
BATCH_SIZE = 500
STRIPE_REQUESTS = 300
WRITE_KEY = "wk_bench_web"
SECRETS = {
    "INTERCEPT_WRITE_KEYS": f"{WRITE_KEY}=web",
    "INTERCEPT_WEBHOOK_SECRET_STRIPE": "whsec_bench",
    "INTERCEPT_WEBHOOK_SECRET_ZENDESK": "zendesk-bench",
    "INTERCEPT_WEBHOOK_SECRET_HUBSPOT": "hubspot-bench",
    "INTERCEPT_WEBHOOK_SECRET_INTERCOM": "intercom-bench",
    "INTERCEPT_WEBHOOK_SECRET_GENERIC_GITHUB": "github-bench",
}
IMPORT_PROBE = (
    "import sys, time, runpy; t = time.perf_counter(); "
    "sys.path[:0] = ['shared', 'functions/ingest']; "
    "runpy.run_path('functions/ingest/app.py'); print(time.perf_counter() - t)"
)


# ---------------------------------------------------------------------------- cold import


def cold_import_seconds(runs: int = 5) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"})
    python = str(ROOT / ".venv" / "bin" / "python")
    timings = []
    for attempt in range(runs + 1):
        output = subprocess.run(
            [python, "-c", IMPORT_PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if attempt:
            timings.append(float(output.strip().splitlines()[-1]))
    return round(statistics.median(timings), 3)


# ---------------------------------------------------------------------------- moto harness


class MotoClock:
    """Accumulates the time spent inside moto's botocore stubber."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def installed(self) -> Iterator[None]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.process_request
        clock = self

        def timed(self: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(self, request)
            finally:
                clock.seconds += time.perf_counter() - started

        BotocoreStubber.process_request = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            BotocoreStubber.process_request = original  # type: ignore[method-assign]


@contextmanager
def ingest_on_moto() -> Iterator[
    tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[[], None]]
]:
    """(invoke, drain): the real handler with its bucket and queue in in-process moto."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_TRACE_DISABLED": "true",
            **SECRETS,
        }
    )
    os.environ.pop("SECRET_ID", None)
    from moto import mock_aws

    with mock_aws():
        import boto3

        from intercept.aws import reset_clients
        from intercept.settings import reset_settings

        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket="bench-archive")
        url = sqs.create_queue(QueueName="bench-ingest")["QueueUrl"]
        os.environ.update({"ARCHIVE_BUCKET": "bench-archive", "INGEST_QUEUE_URL": url})
        reset_clients()
        reset_settings()
        sys.path[:0] = [str(ROOT / "shared"), str(ROOT / "functions" / "ingest")]
        import runpy

        from intercept.observability import logger

        logger.setLevel("ERROR")
        handler = runpy.run_path(str(ROOT / "functions" / "ingest" / "app.py"))["handler"]
        context = _Context()

        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = handler(event, context)
            return result

        def drain() -> None:
            while True:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if not messages:
                    return
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )

        yield invoke, drain


class _Context:
    function_name = "IngestFunction"
    memory_limit_in_mb = 768
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    aws_request_id = "bench"


# ---------------------------------------------------------------------------- throughput


def _batch(index: int) -> bytes:
    items = [
        {
            "type": "track",
            "userId": f"u-{i % 97}",
            "event": ("Signed In", "Feature Used", "Session Ended")[i % 3],
            "messageId": f"bench-{index}-{i}",
            "timestamp": "2026-03-01T10:00:00.000Z",
            "properties": {"module": "reports", "feature": "export", "session_seconds": 120},
            "context": {"groupId": f"acct-{i % 13}", "library": {"name": "analytics-python"}},
        }
        for i in range(BATCH_SIZE)
    ]
    return json.dumps({"batch": items}).encode()


def _stripe(index: int) -> bytes:
    return json.dumps(
        {
            "id": f"evt_bench_{index}",
            "type": "customer.subscription.updated",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": "sub_1",
                    "object": "subscription",
                    "customer": f"cus_{index % 50}",
                    "status": "active",
                    "items": {
                        "data": [
                            {
                                "quantity": 10,
                                "price": {
                                    "unit_amount": 4900,
                                    "currency": "usd",
                                    "recurring": {"interval": "month", "interval_count": 1},
                                },
                            }
                        ]
                    },
                }
            },
        }
    ).encode()


def throughput(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], drain: Callable[[], None], clock: MotoClock
) -> dict[str, float]:
    from intercept.ingest.senders import basic_auth, http_event, stripe_headers

    headers = {"content-type": "application/json", "authorization": basic_auth(WRITE_KEY)}
    events = [
        http_event("POST", "/v1/batch", body=_batch(i), headers=headers) for i in range(BATCHES)
    ]
    invoke(events[0])  # first request creates the clients
    drain()
    clock.seconds, elapsed = 0.0, 0.0
    for event in events[1:]:
        started = time.perf_counter()
        assert invoke(event)["statusCode"] == 200
        elapsed += time.perf_counter() - started
        moto_before = clock.seconds
        drain()
        clock.seconds = moto_before
    batch_moto, batch_time = clock.seconds, elapsed

    clock.seconds, elapsed = 0.0, 0.0
    for index in range(STRIPE_REQUESTS):
        raw = _stripe(index)
        event = http_event(
            "POST",
            "/webhooks/stripe",
            body=raw,
            headers=stripe_headers(raw, "whsec_bench", int(time.time())),
        )
        started = time.perf_counter()
        assert invoke(event)["statusCode"] == 200
        elapsed += time.perf_counter() - started
        if index % 100 == 99:
            moto_before = clock.seconds
            drain()
            clock.seconds = moto_before
    drain()
    return {
        "ingest_events_per_s_segment_batch": round((BATCHES - 1) * BATCH_SIZE / batch_time, 1),
        "ingest_requests_per_s_stripe": round(STRIPE_REQUESTS / elapsed, 1),
        "ingest_moto_time_share": round((batch_moto + clock.seconds) / (batch_time + elapsed), 3),
    }


# ---------------------------------------------------------------------------- fuzz


def _signed_headers(path: str, body: bytes) -> dict[str, str]:
    """The headers each sender would add for `body` on `path`, signed now."""
    from intercept.ingest.senders import (
        basic_auth,
        generic_headers,
        hubspot_headers,
        intercom_headers,
        stripe_headers,
        zendesk_headers,
    )

    now = int(time.time())
    if path.startswith("/v1/"):
        return {"content-type": "application/json", "authorization": basic_auth(WRITE_KEY)}
    if path == "/webhooks/stripe":
        return stripe_headers(body, "whsec_bench", now)
    if path == "/webhooks/zendesk":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return zendesk_headers(body, "zendesk-bench", stamp)
    if path == "/webhooks/hubspot":
        uri = f"https://ingest.example.com{path}"
        return hubspot_headers(body, "hubspot-bench", uri=uri, timestamp_ms=now * 1000)
    if path == "/webhooks/intercom":
        return intercom_headers(body, "intercom-bench")
    return generic_headers(body, "github-bench")


def _strategies() -> Any:
    from hypothesis import strategies as st

    from intercept.ingest.senders import (
        http_event,
    )

    paths = [
        "/v1/identify",
        "/v1/track",
        "/v1/page",
        "/v1/screen",
        "/v1/group",
        "/v1/alias",
        "/v1/batch",
        "/v1/",
        "/v1/../batch",
        "/webhooks/stripe",
        "/webhooks/zendesk",
        "/webhooks/hubspot",
        "/webhooks/intercom",
        "/webhooks/generic/github",
        "/webhooks/generic/",
        "/webhooks/generic/stripe",
        "/webhooks/generic/%00",
        "/openapi.json",
        "/",
        "/webhooks",
    ]
    header_names = [
        "content-type",
        "content-encoding",
        "authorization",
        "stripe-signature",
        "x-hub-signature",
        "x-hub-signature-256",
        "x-hubspot-signature-v3",
        "x-hubspot-request-timestamp",
        "x-zendesk-webhook-signature",
        "x-zendesk-webhook-signature-timestamp",
        "x-forwarded-proto",
        "host",
        "x-github-event",
        "x-github-delivery",
        "user-agent",
        "x-event-type",
    ]
    scalar = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=16)
    )
    value = st.recursive(
        scalar,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
        ),
        max_leaves=20,
    )
    ident = st.sampled_from(["u-1", "acct-1", "", "0"]) | scalar
    call = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["track", "identify", "group", "alias", "page", "screen", "?"]),
            "userId": ident,
            "event": st.sampled_from(["Signed In", "Session Ended"]) | scalar,
        },
        optional={
            "anonymousId": ident,
            "groupId": ident,
            "previousId": ident,
            "timestamp": st.sampled_from(
                [
                    "2026-01-01T00:00:00Z",
                    "2015-2-02T00:30:08Z",
                    "nope",
                    "9999-99-99",
                    "9999-12-31T23:59:59-01:00",
                    "0001-01-01T00:00:00+01:00",
                ]
            )
            | scalar,
            "messageId": ident,
            "properties": value,
            "traits": value,
            "context": value,
        },
    )
    segment = st.one_of(
        call,
        st.fixed_dictionaries(
            {"batch": st.lists(call | value, max_size=8)},
            optional={"context": value, "writeKey": st.sampled_from([WRITE_KEY, "x"]) | scalar},
        ),
    )
    vendor = st.fixed_dictionaries(
        {},
        optional={
            "id": ident,
            "type": st.sampled_from(
                [
                    "customer.subscription.created",
                    "customer.subscription.deleted",
                    "invoice.paid",
                    "invoice.payment_failed",
                    "customer.created",
                    "zen:event-type:ticket.created",
                    "zen:event-type:ticket.priority_changed",
                    "zen:event-type:user.created",
                    "zen:event-type:organization.created",
                ]
            )
            | scalar,
            "topic": st.sampled_from(
                [
                    "conversation.admin.closed",
                    "conversation.rating.added",
                    "contact.created",
                    "company.created",
                ]
            )
            | scalar,
            "eventType": st.sampled_from(
                [
                    "company.propertyChange",
                    "contact.propertyChange",
                    "contact.associationChange",
                    "deal.creation",
                ]
            ),
            "created": scalar,
            "time": scalar,
            "occurredAt": scalar,
            "created_at": scalar,
            "data": st.fixed_dictionaries(
                {},
                optional={
                    "object": value
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "items": value,
                            "customer": ident,
                            "status": scalar,
                            "quantity": scalar,
                            "plan": value,
                            "amount_due": scalar,
                            "attempt_count": scalar,
                        },
                    ),
                    "item": value
                    | st.fixed_dictionaries(
                        {"type": st.sampled_from(["conversation", "contact", "user", "company"])},
                        optional={
                            "id": ident,
                            "conversation_rating": value,
                            "contacts": value,
                            "companies": value,
                            "user": value,
                        },
                    ),
                    "previous_attributes": value,
                },
            ),
            "detail": value
            | st.fixed_dictionaries(
                {},
                optional={
                    "id": ident,
                    "status": scalar,
                    "priority": scalar,
                    "requester_id": ident,
                    "organization_id": ident,
                    "satisfaction_rating": value,
                },
            ),
            "event": value,
            "ticket": value,
            "objectId": ident,
            "propertyName": st.sampled_from(
                ["annualrevenue", "renewal_date", "email", "hubspot_owner_id", "seats"]
            )
            | scalar,
            "propertyValue": scalar,
            "associationType": scalar,
            "fromObjectId": ident,
            "toObjectId": ident,
        },
    )
    shaped = st.one_of(segment, vendor, st.lists(vendor, max_size=5)).map(
        lambda v: json.dumps(v).encode()
    )
    bodies = st.one_of(
        st.binary(max_size=300), value.map(lambda v: json.dumps(v).encode()), shaped, shaped, shaped
    )

    @st.composite
    def requests(draw: Any) -> Any:
        path = draw(st.sampled_from(paths))
        body = draw(bodies)
        headers: dict[str, str] = {}
        noise = draw(
            st.dictionaries(st.sampled_from(header_names), st.text(max_size=300), max_size=4)
        )
        placement = draw(st.integers(0, 5))  # 0: noise, then signature; 1: the reverse
        if placement == 0:
            headers.update(noise)
        if draw(st.integers(0, 9)) < 6:
            headers.update(_signed_headers(path, body))
        if placement == 1:
            headers.update(noise)
        method = draw(st.sampled_from(["POST"] * 9 + ["GET", "PUT", "DELETE"]))
        event = http_event(
            method, path, body=body, headers=headers, base64_body=draw(st.booleans()) or None
        )
        breakage = draw(st.integers(0, 19))
        if breakage == 0:
            event[
                draw(
                    st.sampled_from(
                        [
                            "body",
                            "headers",
                            "requestContext",
                            "isBase64Encoded",
                            "rawPath",
                            "pathParameters",
                        ]
                    )
                )
            ] = draw(value)
        elif breakage == 1:
            event["body"] = base64.b64encode(body).decode()[:-1]
            event["isBase64Encoded"] = True
        return path, event

    return requests()


def fuzz(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    drain: Callable[[], None],
    count: int = FUZZ_REQUESTS,
) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings

    statuses: Counter[int] = Counter()
    routes: Counter[str] = Counter()
    crashes: list[str] = []
    failures: list[str] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(_strategies())
    def campaign(request: Any) -> None:
        path, event = request
        routes[path] += 1
        try:
            response = invoke(event)
            status = int(response["statusCode"])
            json.loads(response["body"])
        except Exception as exc:  # a crash is whatever escapes the handler
            crashes.append(f"{path}: {type(exc).__name__}: {exc}"[:200])
            return
        statuses[status] += 1
        if status >= 500:
            failures.append(f"{path}: {json.dumps(event)}")
        if sum(statuses.values()) % 500 == 0:
            drain()

    campaign()
    requests = sum(statuses.values()) + len(crashes)
    return {
        "fuzz_requests": requests,
        "fuzz_5xx": sum(n for status, n in statuses.items() if status >= 500),
        "fuzz_crashes": len(crashes),
        "fuzz_accepted": statuses.get(200, 0),
        "fuzz_routes": len(routes),
        "_statuses": dict(sorted(statuses.items())),
        "_crash_samples": crashes[:5] + failures[:5],
    }


# ---------------------------------------------------------------------------- entry


def run() -> dict[str, float | int | str]:
    figures: dict[str, Any] = {"cold_import_seconds_ingest": cold_import_seconds()}
    clock = MotoClock()
    # The handler prints one metrics line per request; keep them out of the figures.
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        ingest_on_moto() as (invoke, drain),
        clock.installed(),
    ):
        warnings.simplefilter("ignore")
        figures.update(throughput(invoke, drain, clock))
        fuzzed = fuzz(invoke, drain)
    statuses = fuzzed.pop("_statuses")
    samples = fuzzed.pop("_crash_samples")
    figures.update(fuzzed)
    figures["fuzz_statuses"] = json.dumps(statuses)
    if samples:
        figures["fuzz_crash_samples"] = " | ".join(samples)
    return figures


if __name__ == "__main__":
    for name, figure in run().items():
        print(f"{name} = {figure}")
