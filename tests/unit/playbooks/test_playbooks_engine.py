"""act_on_score(s): claim, publish, record, with in-memory stand-ins for DynamoDB and SNS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from intercept.errors import DependencyFailure
from intercept.playbooks.config import PlaybookSet, parse_playbooks
from intercept.playbooks.decide import DecisionState, in_holdout
from intercept.playbooks.engine import Playbooks, act_on_score, act_on_scores
from intercept.records import Account, Action, Score

ScoreFactory = Callable[..., Score]
AccountFactory = Callable[..., Account]


@dataclass
class MemoryStore:
    """Keeps cooldowns, records and suppressions in dicts, with the store's claim rule."""

    cooldowns: dict[tuple[str, str], dict] = field(default_factory=dict)
    records: dict[str, str] = field(default_factory=dict)
    suppressions: dict[tuple[str, str], datetime | None] = field(default_factory=dict)
    state_reads: int = 0

    def load_state(self, account_id: str, at: datetime) -> DecisionState:
        self.state_reads += 1
        cooldowns = {
            playbook: item["until"]
            for (account, playbook), item in self.cooldowns.items()
            if account == account_id and item["published"] and item["until"] > at
        }
        kinds = frozenset(
            kind
            for (account, kind), until in self.suppressions.items()
            if account == account_id and (until is None or until > at)
        )
        return DecisionState(cooldowns=cooldowns, suppressions=kinds)

    def claim(
        self, account_id: str, playbook: str, decision: str, at: datetime, cooldown: timedelta
    ) -> bool:
        held = self.cooldowns.get((account_id, playbook))
        if (
            held
            and held["until"] > at
            and not (held["decision"] == decision and not held["published"])
        ):
            return False
        self.cooldowns[(account_id, playbook)] = {
            "decision": decision,
            "until": at + cooldown,
            "published": False,
        }
        return True

    def mark_published(self, account_id: str, playbook: str, decision: str) -> None:
        held = self.cooldowns[(account_id, playbook)]
        if held["decision"] == decision:
            held["published"] = True

    def record(self, action: Action, status: str, at: datetime) -> bool:
        if action.action_id in self.records:
            return False
        self.records[action.action_id] = status
        return True

    def add_suppression(
        self,
        account_id: str,
        kind: str,
        at: datetime,
        *,
        until: datetime | None = None,
        reason: str = "",
    ) -> None:
        self.suppressions[(account_id, kind)] = until


@dataclass
class MemoryPublisher:
    published: list[Action] = field(default_factory=list)
    fail: bool = False

    def publish(self, actions: Sequence[Action]) -> list[str]:
        if self.fail:
            raise DependencyFailure("topic unavailable")
        self.published.extend(actions)
        return [action.action_id for action in actions]


@pytest.fixture
def context(no_holdout: PlaybookSet) -> Playbooks:
    return Playbooks(no_holdout, MemoryStore(), MemoryPublisher())


def test_fired_playbook_is_published_recorded_and_cooling(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    actions = act_on_score(make_score(), make_account(), None, context)

    assert [a.playbook for a in actions] == ["csm-risk-alert"]
    assert context.publisher.published == actions  # type: ignore[attr-defined]
    records = context.store.records  # type: ignore[attr-defined]
    assert records == {actions[0].action_id: "published"}
    cooldown = context.store.cooldowns[("acct_1", "csm-risk-alert")]  # type: ignore[attr-defined]
    assert cooldown["published"] is True


def test_rescore_inside_cooldown_publishes_nothing(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory, as_of: datetime
) -> None:
    act_on_score(make_score(), make_account(), None, context)

    again = act_on_score(make_score(as_of=as_of + timedelta(days=3)), make_account(), None, context)

    assert again == []
    assert len(context.publisher.published) == 1  # type: ignore[attr-defined]


def test_rescore_after_cooldown_fires_with_new_id(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory, as_of: datetime
) -> None:
    first = act_on_score(make_score(), make_account(), None, context)

    later = act_on_score(make_score(as_of=as_of + timedelta(days=8)), make_account(), None, context)

    assert [a.playbook for a in later] == ["csm-risk-alert"]
    assert later[0].action_id != first[0].action_id


def test_publish_failure_raises_and_retry_republishes_same_ids(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    context.publisher.fail = True  # type: ignore[attr-defined]
    with pytest.raises(DependencyFailure):
        act_on_score(make_score(), make_account(), None, context)
    context.publisher.fail = False  # type: ignore[attr-defined]

    retried = act_on_score(make_score(), make_account(), None, context)

    assert [a.playbook for a in retried] == ["csm-risk-alert"]
    assert context.publisher.published == retried  # type: ignore[attr-defined]


def test_quiet_account_costs_no_state_read(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    quiet = make_score(churn_30=0.05, health=90, tier="healthy", expansion=0.1)

    assert act_on_score(quiet, make_account(), None, context) == []
    assert context.store.state_reads == 0  # type: ignore[attr-defined]


def test_escalation_opens_a_suppression_that_silences_marketing(
    context: Playbooks, make_score: ScoreFactory, make_account: AccountFactory, as_of: datetime
) -> None:
    act_on_score(make_score(), make_account(arr=300_000), None, context)
    drifting = make_score(as_of=as_of + timedelta(days=1), churn_30=0.2, health=60, tier="watch")

    actions = act_on_score(drifting, make_account(arr=300_000), None, context)

    assert ("acct_1", "escalation") in context.store.suppressions  # type: ignore[attr-defined]
    assert actions == []


def test_holdout_actions_are_recorded_but_not_published(
    make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    config = parse_playbooks(
        """
playbooks:
  - {name: half, when: {}, channel: slack, recipient: {role: owner}, holdout: 0.5}
"""
    )
    held = next(f"acct_{i}" for i in range(100) if in_holdout(f"acct_{i}", "half", 0.5))
    treated = next(f"acct_{i}" for i in range(100) if not in_holdout(f"acct_{i}", "half", 0.5))
    context = Playbooks(config, MemoryStore(), MemoryPublisher())

    actions = act_on_scores(
        [make_score(account_id=held), make_score(account_id=treated)],
        {held: make_account(account_id=held), treated: make_account(account_id=treated)},
        {},
        context,
    )

    assert sorted((a.account_id, a.holdout) for a in actions) == sorted(
        [(held, True), (treated, False)]
    )
    published = context.publisher.published  # type: ignore[attr-defined]
    assert [a.account_id for a in published] == [treated]
    statuses = context.store.records  # type: ignore[attr-defined]
    assert sorted(statuses.values()) == ["held_out", "published"]


def test_act_on_scores_uses_previous_scores_for_tier_entry(
    make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    config = parse_playbooks(
        """
playbooks:
  - {name: entered, when: {tier_entered: [critical]}, channel: slack, recipient: {role: owner}}
"""
    )
    context = Playbooks(config, MemoryStore(), MemoryPublisher())
    scores = [
        make_score(account_id="a", tier="critical"),
        make_score(account_id="b", tier="critical"),
    ]
    accounts = {"a": make_account(account_id="a"), "b": make_account(account_id="b")}

    actions = act_on_scores(
        scores, accounts, {"a": make_score(account_id="a", tier="critical")}, context
    )

    assert [a.account_id for a in actions] == ["b"]
