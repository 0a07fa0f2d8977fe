"""Slack Block Kit rendering and the incoming-webhook answer rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from intercept.dispatch.errors import ChannelNotConfigured, DeliveryRejected, RetryableDelivery
from intercept.dispatch.http import HttpAnswer
from intercept.dispatch.preview import render_preview, render_sent_message
from intercept.dispatch.slack import (
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    render_slack,
    send_slack,
)
from intercept.records import Action, Reason

ActionFactory = Callable[..., Action]
BLOCK_TYPES = {"header", "section", "context", "divider", "actions"}


def _texts(body: dict) -> list[str]:
    found = []
    for block in body["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields", [])]
        found += [element["text"] for element in block.get("elements", [])]
    return found


def _plain_texts(body: dict) -> list[str]:
    """Texts Slack shows verbatim (plain_text), where mentions and links are not parsed."""
    return [
        b["text"]["text"] for b in body["blocks"] if b.get("text", {}).get("type") == "plain_text"
    ]


def _assert_within_slack_limits(body: dict) -> None:
    assert isinstance(body["text"], str) and body["text"]
    assert 1 <= len(body["blocks"]) <= MAX_BLOCKS
    for block in body["blocks"]:
        assert block["type"] in BLOCK_TYPES
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= MAX_FIELD_TEXT for f in block.get("fields", []))
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10


def test_alert_has_header_facts_reasons_action_and_context(sample_action: ActionFactory) -> None:
    action = sample_action("slack")

    body = render_slack(action, "alert")

    _assert_within_slack_limits(body)
    assert [block["type"] for block in body["blocks"]] == [
        "header",
        "section",
        "section",
        "section",
        "context",
    ]
    assert body["blocks"][0]["text"]["text"].endswith("Churn risk: Northwind Logistics")
    facts = "\n".join(field["text"] for field in body["blocks"][1]["fields"])
    assert "$84,000" in facts and "47%" in facts and "38/100" in facts
    assert "dana.whitfield@example.com" in facts
    why = body["blocks"][2]["text"]["text"]
    assert "`logins_per_active_seat_7d` 1.2 vs 4.8 usual" in why
    assert action.recommended_action in body["blocks"][3]["text"]["text"]
    context = body["blocks"][4]["elements"][0]["text"]
    assert "`csm-risk-alert`" in context and "`churn-hgb-2026.12.01`" in context
    assert "Northwind Logistics" in body["text"] and "47%" in body["text"]


def test_body_has_the_shape_slack_documents(
    sample_action: ActionFactory, reference_payloads: Path
) -> None:
    reference = json.loads((reference_payloads / "slack_incoming_webhook_blocks.json").read_text())

    body = render_slack(sample_action("slack"), "alert")

    assert set(reference) <= set(body)
    assert type(body["text"]) is type(reference["text"])
    section = next(
        block for block in body["blocks"] if block["type"] == "section" and "text" in block
    )
    assert set(section["text"]) == set(reference["blocks"][0]["text"])
    json.dumps(body)


def test_oversized_content_is_clipped_to_slack_limits(sample_action: ActionFactory) -> None:
    long_reason = Reason(signal="s" * 80, value=1.5, baseline=2, effect=0.1, sentence="x" * 900)
    action = sample_action(
        "slack",
        account_name="N" * 400,
        reasons=[long_reason] * 12,
        recommended_action="y" * 5000,
    )

    body = render_slack(action, "escalation")

    _assert_within_slack_limits(body)
    assert len(body["text"]) <= 3000


def test_account_data_cannot_inject_mentions_or_links(sample_action: ActionFactory) -> None:
    action = sample_action("slack", account_name="<!channel> & <https://evil.example|click>")

    body = render_slack(action, "alert")

    parsed = [body["text"]] + [t for t in _texts(body) if t not in _plain_texts(body)]
    assert all("<!channel>" not in text and "<https://" not in text for text in parsed)
    assert "&lt;!channel&gt; &amp;" in body["text"]
    assert body["blocks"][0]["text"]["type"] == "plain_text"


def test_unknown_category_gets_a_neutral_title(sample_action: ActionFactory) -> None:
    body = render_slack(sample_action("slack"), None)

    assert body["blocks"][0]["text"]["text"].endswith("Action: Northwind Logistics")


def test_preview_reads_like_the_posted_message(sample_action: ActionFactory) -> None:
    body = render_slack(sample_action("slack"), "alert")

    preview = render_preview(body)

    assert preview.splitlines()[0].endswith("Churn risk: Northwind Logistics")
    assert "ARR:" in preview and "$84,000" in preview
    assert "logins_per_active_seat_7d 1.2 vs 4.8 usual" in preview
    assert "*" not in preview and "`" not in preview
    assert render_sent_message("slack", json.dumps(body)) == preview


def test_recorded_email_and_webhook_messages_preview_as_text() -> None:
    email = render_sent_message("email", json.dumps({"subject": "Hi", "text": "Body\n"}))
    webhook = render_sent_message("webhook", '{"type":"intercept.action","id":"x"}')

    assert email == "Subject: Hi\n\nBody"
    assert json.loads(webhook) == {"type": "intercept.action", "id": "x"}


class Recorder:
    def __init__(self, answer: HttpAnswer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpAnswer:
        self.calls.append((url, body, dict(headers)))
        return self.answer


def test_send_slack_posts_json_and_accepts_ok() -> None:
    post = Recorder(HttpAnswer(200, "ok"))
    body = {"text": "hi", "blocks": []}

    send_slack(body, "https://hooks.slack.example/services/T/B/X", post)

    url, sent, headers = post.calls[0]
    assert json.loads(sent) == body
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (HttpAnswer(200, "not ok"), RetryableDelivery),
        (HttpAnswer(429, "rate_limited"), RetryableDelivery),
        (HttpAnswer(500, "rollup_error"), RetryableDelivery),
        (HttpAnswer(503, ""), RetryableDelivery),
        (HttpAnswer(400, "invalid_payload"), DeliveryRejected),
        (HttpAnswer(403, "action_prohibited"), DeliveryRejected),
        (HttpAnswer(404, "no_service"), DeliveryRejected),
        (HttpAnswer(410, "channel_is_archived"), DeliveryRejected),
        (HttpAnswer(302, ""), DeliveryRejected),
    ],
)
def test_send_slack_classifies_failures(answer: HttpAnswer, error: type[Exception]) -> None:
    with pytest.raises(error):
        send_slack({"text": "hi"}, "https://hooks.slack.example/x", Recorder(answer))


@pytest.mark.parametrize(
    "url", ["", "http://hooks.slack.example/x", "file:///etc/passwd", "ftp://127.0.0.1/x"]
)
def test_send_slack_refuses_unusable_urls(url: str) -> None:
    post = Recorder(HttpAnswer(200, "ok"))

    with pytest.raises(ChannelNotConfigured):
        send_slack({"text": "hi"}, url, post)

    assert post.calls == []
