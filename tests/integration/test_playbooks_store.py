"""The playbook store and publisher on moto: conditional cooldown claims, action records,
suppressions, and SNS -> SQS routing by the `channel` attribute as the template wires it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from intercept.local.template import load_template
from intercept.playbooks.config import load_playbooks
from intercept.playbooks.decide import decision_id
from intercept.playbooks.engine import Playbooks, act_on_scores
from intercept.playbooks.publish import SnsPublisher
from intercept.playbooks.store import ActionStore
from intercept.records import Account, Action, Reason, Score
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def store(
    aws: None, create_table: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch
) -> ActionStore:
    """An action store over a fresh profiles table (in place of the profile store)."""
    create_table("ProfilesTable", "profiles")
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    reset_settings()
    return ActionStore.from_settings()


def _action(account_id: str = "acct_1", playbook: str = "csm-risk-alert", **extra: Any) -> Action:
    values: dict[str, Any] = {
        "action_id": f"{account_id}-{playbook}-{extra.get('channel', 'slack')}",
        "account_id": account_id,
        "account_name": "Acme",
        "playbook": playbook,
        "channel": "slack",
        "recipient_role": "owner",
        "recipient": "csm@vendor.example",
        "churn_30": 0.4,
        "health": 41,
        "tier": "at_risk",
        "arr": 50_000.0,
        "recommended_action": "Call them.",
        "decided_at": AS_OF,
    }
    values.update(extra)
    return Action(**values)


def test_only_one_of_two_decisions_claims_a_cooldown(store: ActionStore) -> None:
    week = timedelta(days=7)

    first = store.claim("acct_1", "csm-risk-alert", "decision-a", AS_OF, week)
    rival = store.claim("acct_1", "csm-risk-alert", "decision-b", AS_OF, week)

    assert (first, rival) == (True, False)


def test_same_decision_reclaims_until_published(store: ActionStore) -> None:
    week = timedelta(days=7)
    store.claim("acct_1", "p", "decision-a", AS_OF, week)

    retry = store.claim("acct_1", "p", "decision-a", AS_OF, week)
    store.mark_published("acct_1", "p", "decision-a")
    after_publish = store.claim("acct_1", "p", "decision-a", AS_OF, week)

    assert retry is True
    assert after_publish is False


def test_cooldown_can_be_claimed_again_once_it_ends(store: ActionStore) -> None:
    week = timedelta(days=7)
    store.claim("acct_1", "p", "decision-a", AS_OF, week)
    store.mark_published("acct_1", "p", "decision-a")

    inside = store.claim("acct_1", "p", "decision-b", AS_OF + timedelta(days=6), week)
    after = store.claim("acct_1", "p", "decision-c", AS_OF + week, week)

    assert (inside, after) == (False, True)


def test_state_lists_published_cooldowns_and_active_suppressions(store: ActionStore) -> None:
    store.claim("acct_1", "published-one", "d1", AS_OF, timedelta(days=7))
    store.mark_published("acct_1", "published-one", "d1")
    store.claim("acct_1", "in-flight", "d2", AS_OF, timedelta(days=7))
    store.add_suppression("acct_1", "manual", AS_OF)
    store.add_suppression("acct_1", "expired", AS_OF, until=AS_OF + timedelta(hours=1))
    store.add_suppression("acct_2", "manual", AS_OF)

    state = store.load_state("acct_1", AS_OF + timedelta(days=1))

    assert set(state.cooldowns) == {"published-one"}
    assert state.cooldowns["published-one"] == AS_OF + timedelta(days=7)
    assert state.suppressions == frozenset({"manual"})

    store.remove_suppression("acct_1", "manual")
    assert store.load_state("acct_1", AS_OF).suppressions == frozenset({"expired"})


def test_record_keeps_the_first_write_and_delivery_updates_it(store: ActionStore) -> None:
    action = _action()
    store.record(action, "published", AS_OF)

    again = store.record(action, "published", AS_OF)
    store.update_delivery(
        action, "sent", AS_OF + timedelta(seconds=3), provider_id="m-1", message="{}"
    )

    record = store.get_record(action)
    assert again is False
    assert record is not None
    assert record.status == "sent"
    assert record.action == action
    assert record.attempts == 1
    assert record.provider_id == "m-1"
    assert record.sent_at == AS_OF + timedelta(seconds=3)


def test_delivery_update_creates_a_record_the_decision_did_not_write(store: ActionStore) -> None:
    action = _action()

    store.update_delivery(action, "rejected", AS_OF, error="Slack answered 404")

    record = store.get_record(action)
    assert record is not None and record.status == "rejected"
    assert record.last_error == "Slack answered 404"
    assert [r.action.action_id for r in store.recent_actions(10)] == [action.action_id]


def test_recent_actions_newest_first_and_filtered(store: ActionStore) -> None:
    for hours, account in enumerate(["a", "b", "c"]):
        store.record(
            _action(account, decided_at=AS_OF + timedelta(hours=hours)), "published", AS_OF
        )
    store.update_delivery(_action("b", decided_at=AS_OF + timedelta(hours=1)), "sent", AS_OF)

    newest = store.recent_actions(10)
    sent = store.recent_actions(10, status="sent")
    for_c = store.recent_actions(10, account_id="c")

    assert [r.action.account_id for r in newest] == ["c", "b", "a"]
    assert [r.action.account_id for r in sent] == ["b"]
    assert [r.action.account_id for r in for_c] == ["c"]
    assert len(store.recent_actions(2)) == 2


# ---------------------------------------------------------------------- SNS -> SQS routing
@pytest.fixture
def queues(store: ActionStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """ActionsTopic and one queue per channel, subscribed with the template's filter policies."""
    resources = load_template(ROOT / "template.yaml")["Resources"]
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="actions")["TopicArn"]
    urls: dict[str, str] = {}
    for logical_id in ("SlackSubscription", "EmailSubscription", "WebhookSubscription"):
        properties = resources[logical_id]["Properties"]
        queue_id = properties["Endpoint"]["Fn::GetAtt"][0]
        url = sqs.create_queue(QueueName=queue_id)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "RawMessageDelivery": str(properties["RawMessageDelivery"]).lower(),
                "FilterPolicyScope": properties["FilterPolicyScope"],
                "FilterPolicy": json.dumps(properties["FilterPolicy"]),
            },
        )
        urls[properties["FilterPolicy"]["channel"][0]] = url
    monkeypatch.setenv("ACTIONS_TOPIC_ARN", topic)
    reset_settings()
    yield urls


def _drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return messages
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _score(account_id: str, **values: Any) -> Score:
    base: dict[str, Any] = {
        "account_id": account_id,
        "as_of": AS_OF,
        "model_version": "m1",
        "churn_30": 0.45,
        "churn_60": 0.5,
        "churn_90": 0.6,
        "health": 35,
        "tier": "at_risk",
        "expansion": 0.1,
        "reasons": [Reason(signal="logins_7d", value=2, baseline=9, effect=0.2, sentence="Fewer.")],
    }
    base.update(values)
    return Score(**base)


def _no_holdout() -> Playbooks:
    config = load_playbooks("")
    config = config.model_copy(
        update={"playbooks": [p.model_copy(update={"holdout": 0.0}) for p in config.playbooks]}
    )
    return Playbooks(config, ActionStore.from_settings(), SnsPublisher.from_settings())


def test_actions_reach_only_their_channel_queue(queues: dict[str, str]) -> None:
    scores = [
        _score("small"),
        _score("big"),
        _score("grower", churn_30=0.02, health=90, tier="healthy", expansion=0.9),
    ]
    accounts = {
        "small": Account(account_id="small", arr=40_000, owner="csm@vendor.example"),
        "big": Account(account_id="big", arr=400_000, owner="csm@vendor.example"),
        "grower": Account(account_id="grower", arr=90_000, account_executive="ae@vendor.example"),
    }

    actions = act_on_scores(scores, accounts, {}, _no_holdout())

    received = {channel: _drain(url) for channel, url in queues.items()}
    routed = {
        channel: sorted(
            (json.loads(m["Body"])["account_id"], json.loads(m["Body"])["playbook"])
            for m in messages
        )
        for channel, messages in received.items()
    }
    assert routed == {
        "slack": [
            ("big", "exec-escalation"),
            ("grower", "expansion-signal"),
            ("small", "csm-risk-alert"),
        ],
        "email": [("big", "exec-escalation")],
        "webhook": [("grower", "expansion-signal")],
    }
    assert len(actions) == 5
    first = received["email"][0]
    assert Action.model_validate_json(first["Body"]).channel == "email"
    assert first["MessageAttributes"]["channel"]["StringValue"] == "email"
    assert first["MessageAttributes"]["priority"]["StringValue"] == "urgent"


def test_rescoring_the_same_day_publishes_nothing_new(queues: dict[str, str]) -> None:
    accounts = {"small": Account(account_id="small", arr=40_000, owner="csm@vendor.example")}
    act_on_scores([_score("small")], accounts, {}, _no_holdout())
    _drain(queues["slack"])

    again = act_on_scores(
        [_score("small", as_of=AS_OF + timedelta(hours=6), churn_30=0.5)],
        accounts,
        {},
        _no_holdout(),
    )

    assert again == []
    assert _drain(queues["slack"]) == []
    assert len(ActionStore.from_settings().recent_actions(10)) == 1


def test_escalation_is_recorded_with_its_suppression(queues: dict[str, str]) -> None:
    accounts = {"big": Account(account_id="big", arr=400_000)}

    act_on_scores([_score("big")], accounts, {}, _no_holdout())

    store = ActionStore.from_settings()
    statuses = sorted((r.action.channel, r.status) for r in store.recent_actions(10))
    assert statuses == [("email", "published"), ("slack", "published")]
    assert store.load_state("big", AS_OF).suppressions == frozenset({"escalation"})
    assert decision_id("big", "exec-escalation", AS_OF) != decision_id(
        "big", "exec-escalation", AS_OF + timedelta(days=1)
    )
