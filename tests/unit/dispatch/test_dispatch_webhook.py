"""Signed outbound webhooks: the signature a receiver verifies, and the answer rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import pytest

from intercept.dispatch.errors import ChannelNotConfigured, DeliveryRejected, RetryableDelivery
from intercept.dispatch.http import HttpAnswer
from intercept.dispatch.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    render_webhook,
    send_webhook,
    sign,
    verify_signature,
)
from intercept.records import Action

ActionFactory = Callable[..., Action]
SECRET = "whsec_outbound_test"
NOW = 1_796_277_612


def test_signature_verifies_for_the_same_body_secret_and_time() -> None:
    body = b'{"type":"intercept.action"}'

    header = sign(body, SECRET, NOW)

    assert header.startswith(f"t={NOW},v1=")
    assert verify_signature(body, header, SECRET, now=NOW + 10)
    assert verify_signature(body.decode(), header, [SECRET], now=NOW)


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b"{}"
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()

    assert sign(body, SECRET, NOW) == f"t={NOW},v1={expected}"


@pytest.mark.parametrize(
    ("body", "secret", "now"),
    [
        (b'{"type":"intercept.action","x":1}', SECRET, NOW),
        (b'{"type":"intercept.action"}', "another-secret", NOW),
        (b'{"type":"intercept.action"}', SECRET, NOW + 301),
        (b'{"type":"intercept.action"}', SECRET, NOW - 301),
    ],
    ids=["tampered-body", "wrong-secret", "too-late", "too-early"],
)
def test_signature_fails_when_anything_differs(body: bytes, secret: str, now: int) -> None:
    header = sign(b'{"type":"intercept.action"}', SECRET, NOW)

    assert not verify_signature(body, header, secret, now=now)


def test_signature_accepts_any_secret_during_rotation() -> None:
    header = sign(b"{}", "old-secret", NOW)

    assert verify_signature(b"{}", header, ["new-secret", "old-secret"], now=NOW)
    assert not verify_signature(b"{}", header, ["new-secret"], now=NOW)


@pytest.mark.parametrize("header", ["", "v1=abc", f"t={NOW}", "t=abc,v1=00", "garbage"])
def test_malformed_signature_headers_are_refused(header: str) -> None:
    assert not verify_signature(b"{}", header, SECRET, now=NOW)


class Recorder:
    def __init__(self, answer: HttpAnswer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpAnswer:
        self.calls.append((url, body, dict(headers)))
        return self.answer


def test_send_webhook_signs_what_it_sends(sample_action: ActionFactory) -> None:
    action = sample_action("webhook")
    post = Recorder(HttpAnswer(202, ""))

    sent = send_webhook(action, "https://crm.example/hooks/intercept", SECRET, post, NOW)

    url, body, headers = post.calls[0]
    assert body == sent
    assert verify_signature(body, headers[SIGNATURE_HEADER], SECRET, now=NOW)
    assert headers[DELIVERY_HEADER] == action.action_id
    document = json.loads(body)
    assert document["type"] == "intercept.action"
    assert document["id"] == action.action_id
    assert document["data"]["recipient_role"] == "account_executive"
    assert Action.model_validate(document["data"]) == action


def test_rendered_body_is_stable(sample_action: ActionFactory) -> None:
    action = sample_action("webhook")

    assert render_webhook(action) == render_webhook(action.model_copy())


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, RetryableDelivery),
        (429, RetryableDelivery),
        (408, RetryableDelivery),
        (400, DeliveryRejected),
        (401, DeliveryRejected),
        (301, DeliveryRejected),
    ],
)
def test_send_webhook_classifies_answers(
    sample_action: ActionFactory, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        send_webhook(
            sample_action("webhook"),
            "https://crm.example/h",
            SECRET,
            Recorder(HttpAnswer(status, "")),
        )


def test_send_webhook_refuses_to_post_unsigned(sample_action: ActionFactory) -> None:
    post = Recorder(HttpAnswer(200, ""))

    with pytest.raises(ChannelNotConfigured, match="secret"):
        send_webhook(sample_action("webhook"), "https://crm.example/h", "", post)

    assert post.calls == []
