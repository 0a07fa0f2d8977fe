"""Property: no request, however malformed, gets a 5xx or escapes as an exception.

Bodies are arbitrary bytes, arbitrary JSON, and payloads shaped like each route's (Segment
calls, vendor envelopes); about half are signed correctly so that normalisers see them too.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import NOW, SECRETS, WRITE_KEY, Clock, MemoryArchive, MemoryQueue

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
PATHS = [
    "/v1/track",
    "/v1/batch",
    "/v1/identify",
    "/v1/group",
    "/v1/alias",
    "/v1/unknown",
    "/webhooks/stripe",
    "/webhooks/zendesk",
    "/webhooks/hubspot",
    "/webhooks/intercom",
    "/webhooks/generic/github",
    "/webhooks/generic/BAD name",
    "/openapi.json",
    "/",
]
HEADER_NAMES = [
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
]

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
segment_items = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["track", "identify", "group", "alias", "page", "screen", "x"]),
        "userId": st.just("u-1") | scalars,
        "event": st.sampled_from(["Signed In", "Session Ended", "Feature Used"]) | scalars,
        "groupId": st.just("acct-1") | scalars,
    },
    optional={
        "anonymousId": scalars,
        "previousId": st.just("anon-1") | scalars,
        "timestamp": st.sampled_from(
            ["2026-01-01T00:00:00Z", "2015-2-02T00:30:08Z", "x", 5, "9999-12-31T23:59:59-01:00"]
        ),
        "properties": json_values,
        "traits": json_values,
        "context": json_values,
        "messageId": scalars,
    },
)
vendor_like = st.fixed_dictionaries(
    {},
    optional={
        "id": scalars,
        "type": st.sampled_from(
            [
                "customer.subscription.updated",
                "invoice.payment_failed",
                "customer.updated",
                "zen:event-type:ticket.status_changed",
                "zen:event-type:user.created",
                "other",
            ]
        ),
        "topic": st.sampled_from(["conversation.rating.added", "company.created", "user.created"]),
        "eventType": st.sampled_from(["company.propertyChange", "contact.associationChange"]),
        "created": scalars,
        "time": scalars,
        "data": st.fixed_dictionaries({}, optional={"object": json_values, "item": json_values}),
        "detail": json_values,
        "event": json_values,
        "objectId": scalars,
        "propertyName": st.sampled_from(["annualrevenue", "renewal_date", "email", "website"]),
        "propertyValue": scalars,
    },
)
anything = st.one_of(
    st.binary(max_size=200), json_values.map(lambda value: json.dumps(value).encode())
)
segment_bodies = st.one_of(
    segment_items,
    st.fixed_dictionaries(
        {"batch": st.lists(segment_items | json_values, max_size=5)},
        optional={"context": json_values, "writeKey": st.sampled_from([WRITE_KEY, "nope"])},
    ),
).map(lambda value: json.dumps(value).encode())
vendor_bodies = st.one_of(vendor_like, st.lists(vendor_like, max_size=4)).map(
    lambda value: json.dumps(value).encode()
)


def body_for(path: str) -> st.SearchStrategy[bytes]:
    shaped = segment_bodies if path.startswith("/v1/") else vendor_bodies
    return st.one_of(anything, shaped, shaped, shaped)


def signed(path: str, body: bytes) -> dict[str, str]:
    if path.startswith("/v1/"):
        return {"authorization": basic_auth(WRITE_KEY)}
    if path == "/webhooks/stripe":
        return stripe_headers(body, "whsec_unit_current", STAMP)
    if path == "/webhooks/zendesk":
        return zendesk_headers(body, "zendesk-unit-secret", "2026-03-02T12:00:00Z")
    if path == "/webhooks/hubspot":
        uri = f"https://ingest.example.com{path}"
        return hubspot_headers(body, "hubspot-unit-secret", uri=uri, timestamp_ms=STAMP * 1000)
    if path == "/webhooks/intercom":
        return intercom_headers(body, "intercom-unit-secret")
    return generic_headers(body, "github-unit-secret")


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.data(),
    method=st.sampled_from(["POST"] * 8 + ["GET", "PUT"]),
    path=st.sampled_from(PATHS),
    noise=st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=30), max_size=3),
    sign=st.sampled_from([True, True, True, False]),
    base64_body=st.booleans(),
)
def test_no_request_gets_a_5xx(
    data: st.DataObject,
    method: str,
    path: str,
    noise: dict[str, str],
    sign: bool,
    base64_body: bool,
) -> None:
    body = data.draw(body_for(path))
    headers: dict[str, str] = dict(noise) if data.draw(st.booleans()) else {}
    if sign:
        headers.update(signed(path, body))
    deps = Dependencies(MemoryArchive(), MemoryQueue(), lambda: SECRETS, Clock())
    event: dict[str, Any] = http_event(
        method, path, body=body, headers=headers, base64_body=base64_body or None
    )
    response = handle(event, deps)
    assert response["statusCode"] < 500, response["body"]
    json.loads(response["body"])
