"""The playbook step the score service calls: decide, claim cooldowns, record and publish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from intercept.observability import MetricUnit, logger, metrics
from intercept.playbooks.config import PlaybookSet, load_playbooks
from intercept.playbooks.decide import (
    EMPTY_STATE,
    DecisionState,
    decision_id,
    evaluate,
    evaluate_playbook,
    utc,
)
from intercept.playbooks.store import ActionStatus
from intercept.records import Account, Action, Score


class Store(Protocol):
    def load_state(self, account_id: str, at: datetime) -> DecisionState: ...

    def claim(
        self, account_id: str, playbook: str, decision: str, at: datetime, cooldown: timedelta
    ) -> bool: ...

    def mark_published(self, account_id: str, playbook: str, decision: str) -> None: ...

    def record(self, action: Action, status: ActionStatus, at: datetime) -> bool: ...

    def add_suppression(
        self,
        account_id: str,
        kind: str,
        at: datetime,
        *,
        until: datetime | None = None,
        reason: str = "",
    ) -> None: ...


class Publisher(Protocol):
    def publish(self, actions: Sequence[Action]) -> list[str]: ...


@dataclass
class Playbooks:
    """What the playbook step needs; built from settings unless given (tests pass fakes)."""

    config: PlaybookSet
    store: Store
    publisher: Publisher

    @classmethod
    def from_settings(cls) -> Playbooks:
        from intercept.playbooks.publish import SnsPublisher
        from intercept.playbooks.store import ActionStore

        return cls(load_playbooks(), ActionStore.from_settings(), SnsPublisher.from_settings())


@dataclass
class _Claimed:
    playbook: str
    decision: str
    actions: list[Action] = field(default_factory=list)


def _claim(
    context: Playbooks,
    score: Score,
    account: Account,
    previous: Score | None,
    state: DecisionState,
) -> list[_Claimed]:
    claimed = []
    signals = context.config.suppression_signals
    for playbook in context.config.enabled:
        evaluation = evaluate_playbook(playbook, score, account, previous, state, signals)
        if not evaluation.actions:
            continue
        decision = decision_id(score.account_id, playbook.name, score.as_of)
        if context.store.claim(
            score.account_id, playbook.name, decision, score.as_of, playbook.cooldown
        ):
            claimed.append(_Claimed(playbook.name, decision, list(evaluation.actions)))
        else:
            logger.info(
                "skipped playbook claimed elsewhere",
                extra={"account_id": score.account_id, "playbook": playbook.name},
            )
    return claimed


def act_on_score(
    score: Score,
    account: Account | None = None,
    previous: Score | None = None,
    playbooks: Playbooks | None = None,
) -> list[Action]:
    """Decide one scored account's actions, record them and publish the deliverable ones.

    Parameters
    ----------
    score : the new score (its `as_of` is the decision time).
    account : the account's traits; a bare account with the score's id when None.
    previous : the account's score before this one, None for a first score.
    playbooks : config, store and publisher; from settings when None.

    Returns
    -------
    list of Action: the actions this call claimed (published ones and held-out ones, the
    latter with ``holdout=True``). Empty when nothing fired or another scorer claimed it.

    Raises
    ------
    DependencyFailure when DynamoDB or SNS fails. Calling again with the same score is safe:
    the same actions (same ids) are claimed again and Dispatch delivers each once.
    """
    account = account if account is not None else Account(account_id=score.account_id)
    context = playbooks if playbooks is not None else Playbooks.from_settings()
    if not decide_any(score, account, previous, context.config):
        return []

    state = context.store.load_state(score.account_id, score.as_of)
    claimed = _claim(context, score, account, previous, state)
    deliverable = [a for group in claimed for a in group.actions if not a.holdout]
    if deliverable:
        context.publisher.publish(deliverable)

    now = utc(score.as_of)
    for group in claimed:
        for action in group.actions:
            context.store.record(action, "held_out" if action.holdout else "published", now)
        _open_escalation(context, score, group)
        context.store.mark_published(score.account_id, group.playbook, group.decision)

    actions = [action for group in claimed for action in group.actions]
    _count(score.account_id, actions)
    return actions


def decide_any(score: Score, account: Account, previous: Score | None, config: PlaybookSet) -> bool:
    """Cheap pre-check without state: could any playbook fire? Saves reads for quiet accounts."""
    return any(e.actions for e in evaluate(score, account, previous, EMPTY_STATE, config))


def _open_escalation(context: Playbooks, score: Score, group: _Claimed) -> None:
    playbook = context.config.get(group.playbook)
    if playbook is None or playbook.category != "escalation":
        return
    if all(action.holdout for action in group.actions):
        return
    context.store.add_suppression(
        score.account_id,
        "escalation",
        utc(score.as_of),
        until=utc(score.as_of) + playbook.cooldown,
        reason=f"opened by playbook {playbook.name}",
    )


def _count(account_id: str, actions: list[Action]) -> None:
    if not actions:
        return
    held_out = sum(action.holdout for action in actions)
    logger.info(
        "decided actions",
        extra={
            "account_id": account_id,
            "playbooks": sorted({action.playbook for action in actions}),
            "actions": len(actions),
            "held_out": held_out,
        },
    )
    if len(actions) > held_out:
        metrics.add_metric(
            name="ActionsDecided", unit=MetricUnit.Count, value=len(actions) - held_out
        )
    if held_out:
        metrics.add_metric(name="ActionsHeldOut", unit=MetricUnit.Count, value=held_out)


def act_on_scores(
    scores: Sequence[Score],
    accounts: Mapping[str, Account],
    previous_scores: Mapping[str, Score | None] | None = None,
    playbooks: Playbooks | None = None,
) -> list[Action]:
    """`act_on_score` for each score; `accounts` and `previous_scores` are keyed by account id.

    Stops at the first failure (DependencyFailure); accounts done before it keep their
    actions and a retry of the whole batch is safe.
    """
    context = playbooks if playbooks is not None else Playbooks.from_settings()
    previous_scores = previous_scores or {}
    actions: list[Action] = []
    for score in scores:
        account = accounts.get(score.account_id)
        previous = previous_scores.get(score.account_id)
        actions.extend(act_on_score(score, account, previous, context))
    return actions
