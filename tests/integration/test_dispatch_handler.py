"""The dispatch handler on moto: Slack to a real loopback receiver, SES read back from moto,
signed webhooks, partial batch failures, and no second delivery of the same action."""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from intercept.dispatch.webhook import SIGNATURE_HEADER, verify_signature
from intercept.local.runtime import LambdaContext
from intercept.local.sinks import Sink
from intercept.playbooks.store import ActionStore
from intercept.records import Action
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]
SENDER = "alerts@vendor.example"
WEBHOOK_SECRET = "whsec_outbound_integration"


@pytest.fixture(scope="module")
def receivers() -> Iterator[dict[str, Sink]]:
    """Loopback Slack and webhook receivers, started once (stopping one takes half a second)."""
    started = {"slack": Sink("slack"), "webhook": Sink("webhook")}
    for sink in started.values():
        sink.start()
    yield started
    for sink in started.values():
        sink.stop()


@pytest.fixture
def sinks(receivers: dict[str, Sink]) -> dict[str, Sink]:
    """The receivers, answering 200 ``ok`` with nothing received yet."""
    for sink in receivers.values():
        sink.status, sink.reply = 200, b"ok"
        sink.deliveries.clear()
    return receivers


@pytest.fixture
def dispatch(
    aws: None,
    create_table: Callable[[str, str], None],
    sinks: dict[str, Sink],
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """functions/dispatch/app.py, imported as Lambda would, with its tables and receivers."""
    create_table("ProfilesTable", "profiles")
    create_table("IdempotencyTable", "idempotency")
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    monkeypatch.delenv("SECRET_ID", raising=False)
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("INTERCEPT_SLACK_WEBHOOK_URL", sinks["slack"].url)
    monkeypatch.setenv("INTERCEPT_OUTBOUND_WEBHOOK_URL", sinks["webhook"].url)
    monkeypatch.setenv("INTERCEPT_OUTBOUND_WEBHOOK_SECRET", WEBHOOK_SECRET)
    reset_settings()
    spec = importlib.util.spec_from_file_location(
        "dispatch_app", ROOT / "functions/dispatch/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _context() -> LambdaContext:
    return LambdaContext("dispatch", 512, 30, "arn:aws:lambda:us-east-1:123456789012:function:d")


def _sent_emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def _record(event: dict[str, Any]) -> Any:
    body = json.loads(event["Records"][0]["body"])
    return ActionStore.from_settings().get_record(Action.model_validate(body))


def test_slack_action_posts_block_kit_and_records_sent(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_slack.json")

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": []}
    [delivery] = sinks["slack"].deliveries
    message = delivery.json()
    assert message["blocks"][0]["type"] == "header"
    assert "Northwind Logistics" in message["text"]
    record = _record(event)
    assert record.status == "sent" and record.sent_at is not None
    assert json.loads(record.message) == message


def test_email_action_is_sent_through_ses(
    dispatch: ModuleType, sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_email.json")

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": []}
    [email] = _sent_emails()
    assert email.source == SENDER
    assert email.destinations["ToAddresses"] == ["cs-leadership@example.com"]
    assert email.subject.startswith("[Urgent] Escalation: churn risk: Contoso Health")
    assert "Recommended action" in email.body
    record = _record(event)
    assert record.status == "sent" and record.provider_id == email.id


def test_webhook_action_is_signed_for_the_receiver(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_webhook.json")

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": []}
    [delivery] = sinks["webhook"].deliveries
    assert verify_signature(
        delivery.body, delivery.headers[SIGNATURE_HEADER.lower()], WEBHOOK_SECRET
    )
    assert delivery.json()["data"]["playbook"] == "expansion-signal"


def test_redelivered_action_is_not_sent_twice(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    slack = sample_event("dispatch_sqs_slack.json")
    email = sample_event("dispatch_sqs_email.json")
    redelivered = copy.deepcopy(slack)
    redelivered["Records"][0]["messageId"] = "another-receipt-of-the-same-action"

    dispatch.handler(slack, _context())
    dispatch.handler(email, _context())
    second = dispatch.handler(redelivered, _context())
    dispatch.handler(email, _context())

    assert second == {"batchItemFailures": []}
    assert len(sinks["slack"].deliveries) == 1
    assert len(_sent_emails()) == 1
    assert _record(slack).attempts == 1


def test_slack_500_fails_only_that_record_and_allows_a_retry(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    slack = sample_event("dispatch_sqs_slack.json")["Records"][0]
    email = sample_event("dispatch_sqs_email.json")["Records"][0]
    sinks["slack"].status, sinks["slack"].reply = 500, b"rollup_error"

    failed = dispatch.handler({"Records": [slack, email]}, _context())
    sinks["slack"].status, sinks["slack"].reply = 200, b"ok"
    retried = dispatch.handler({"Records": [slack]}, _context())

    assert failed == {"batchItemFailures": [{"itemIdentifier": slack["messageId"]}]}
    assert len(_sent_emails()) == 1
    assert retried == {"batchItemFailures": []}
    assert len(sinks["slack"].deliveries) == 2
    record = _record({"Records": [slack]})
    assert record.status == "sent" and record.attempts == 2


def test_slack_404_is_recorded_rejected_and_not_retried(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_slack.json")
    sinks["slack"].status, sinks["slack"].reply = 404, b"no_service"

    result = dispatch.handler(event, _context())
    again = dispatch.handler(event, _context())

    assert result == again == {"batchItemFailures": []}
    assert len(sinks["slack"].deliveries) == 1
    record = _record(event)
    assert record.status == "rejected" and "404" in record.last_error


def test_unverified_sender_is_rejected_not_retried(
    dispatch: ModuleType, sample_event: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDER_EMAIL", "unverified@vendor.example")
    reset_settings()
    event = sample_event("dispatch_sqs_email.json")

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": []}
    assert _sent_emails() == []
    assert _record(event).status == "rejected"


def test_missing_slack_url_keeps_the_rendered_message(
    dispatch: ModuleType, sample_event: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCEPT_SLACK_WEBHOOK_URL", "")
    event = sample_event("dispatch_sqs_slack.json")

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": []}
    record = _record(event)
    assert record.status == "not_configured"
    assert json.loads(record.message)["blocks"][0]["type"] == "header"


def test_held_out_action_is_recorded_and_never_sent(
    dispatch: ModuleType, sinks: dict[str, Sink], sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_slack.json")
    body = json.loads(event["Records"][0]["body"])
    event["Records"][0]["body"] = json.dumps({**body, "holdout": True})

    dispatch.handler(event, _context())

    assert sinks["slack"].deliveries == []
    assert _record(event).status == "held_out"


def test_malformed_body_fails_its_record_for_the_dlq(
    dispatch: ModuleType, sample_event: Callable[[str], Any]
) -> None:
    event = sample_event("dispatch_sqs_slack.json")
    event["Records"][0]["body"] = '{"not": "an action"}'

    result = dispatch.handler(event, _context())

    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
