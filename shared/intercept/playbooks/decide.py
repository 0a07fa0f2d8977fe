"""Deciding which playbooks fire for a scored account: pure functions, no I/O, no clock.

The decision clock is the score's `as_of`, so re-running a decision over the same inputs
gives the same actions with the same ids. Cooldowns and suppressions come in as a
`DecisionState` read beforehand by the store; the store's conditional writes settle races.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from intercept.playbooks.config import Playbook, PlaybookSet, Recipient, When, load_playbooks
from intercept.records import Account, Action, Channel, Score

Outcome = Literal["fired", "held_out", "no_match", "suppressed", "cooling_down", "no_recipient"]
CONTACT_TRAITS = ("contact_email", "billing_email", "email")
MAX_REASONS = 5
_PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


@dataclass(frozen=True)
class DecisionState:
    """What an account's history says before deciding.

    Attributes
    ----------
    cooldowns : mapping of playbook name to the UTC time its cooldown ends.
    suppressions : kinds of the account's active suppressions (e.g. ``escalation``).
    """

    cooldowns: Mapping[str, datetime] = field(default_factory=dict)
    suppressions: frozenset[str] = frozenset()


EMPTY_STATE = DecisionState()


@dataclass(frozen=True)
class Evaluation:
    """One playbook's verdict on one score; `actions` is empty unless it fired or held out."""

    playbook: str
    outcome: Outcome
    actions: tuple[Action, ...] = ()


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def decision_id(account_id: str, playbook: str, as_of: datetime) -> str:
    """Id of one playbook firing for one account on one UTC day (shared by its channels)."""
    return _digest("decision", account_id, playbook, utc(as_of).date().isoformat()).hex()[:32]


def action_id(account_id: str, playbook: str, channel: str, as_of: datetime) -> str:
    """Idempotency key of an action: account, playbook, channel and the UTC day decided.

    A re-scored account on the same day yields the same id, so a repeat publication is
    delivered once.
    """
    day = utc(as_of).date().isoformat()
    return _digest("action", account_id, playbook, channel, day).hex()[:32]


def holdout_draw(account_id: str, playbook: str) -> float:
    """A stable number in [0, 1) for the account and playbook, the same on every machine."""
    return int.from_bytes(_digest("holdout", account_id, playbook)[:8], "big") / 2**64


def in_holdout(account_id: str, playbook: str, share: float) -> bool:
    """True when the account belongs to the playbook's holdout group of size `share`."""
    return share > 0 and holdout_draw(account_id, playbook) < share


def account_arr(account: Account, score: Score) -> float | None:
    """Annual recurring revenue: the account's ARR, the score's, or twelve times MRR."""
    if account.arr is not None:
        return account.arr
    if score.arr is not None:
        return score.arr
    return account.mrr * 12 if account.mrr is not None else None


def _tier_conditions_hold(when: When, score: Score, previous: Score | None) -> bool:
    before = previous.tier if previous is not None else None
    if when.tier_in is not None and score.tier not in when.tier_in:
        return False
    if when.tier_entered is not None and (
        score.tier not in when.tier_entered or before == score.tier
    ):
        return False
    return not (
        when.tier_exited is not None
        and (before is None or before not in when.tier_exited or before == score.tier)
    )


def conditions_hold(when: When, score: Score, account: Account, previous: Score | None) -> bool:
    """True when every condition set in `when` holds for this score and account."""
    bands = (
        (when.churn_30, score.churn_30),
        (when.churn_60, score.churn_60),
        (when.churn_90, score.churn_90),
        (when.health, float(score.health)),
        (when.expansion, score.expansion),
        (when.arr, account_arr(account, score)),
    )
    if any(band is not None and not band.contains(value) for band, value in bands):
        return False
    if when.plan_in is not None and (account.plan or "").lower() not in {
        plan.lower() for plan in when.plan_in
    }:
        return False
    return _tier_conditions_hold(when, score, previous)


def is_suppressed(score: Score, state: DecisionState, signals: list[str]) -> bool:
    """An open escalation (a suppression item or an escalation signal) or any suppression."""
    if state.suppressions:
        return True
    return any((score.signals.get(name) or 0) > 0 for name in signals)


def role_address(role: str, account: Account) -> str | None:
    """The address a role resolves to on this account, if the account names one."""
    if role == "owner":
        return account.owner
    if role == "account_executive":
        return account.account_executive
    if role == "customer_contact":
        for trait in CONTACT_TRAITS:
            value = account.traits.get(trait)
            if isinstance(value, str) and "@" in value:
                return value
    return None


def resolve_recipient(
    recipient: Recipient, account: Account, channel: Channel
) -> tuple[str, str] | None:
    """(role, address) for a channel, or None when an e-mail has nobody to go to.

    Slack and webhook actions go to a configured endpoint, so they fire without an address
    (the message then says the role is unassigned); e-mail needs a real address.
    """
    candidates: list[tuple[str, str | None]]
    if recipient.address:
        candidates = [(recipient.role, recipient.address)]
    else:
        roles = [recipient.role, *recipient.fallback_roles]
        candidates = [(role, role_address(role, account)) for role in roles]
    for role, address in candidates:
        if address and (channel != "email" or "@" in address):
            return role, address
    if channel == "email":
        return None
    return recipient.role, ""


def recommended_action(score: Score, playbook: Playbook) -> str:
    """The playbook's own action, else the score's next-best-action, else its top reason."""
    if playbook.action:
        return playbook.action
    if score.next_best_action is not None and score.next_best_action.action:
        return score.next_best_action.action
    if score.reasons:
        top = max(score.reasons, key=lambda reason: reason.effect)
        return f"Review the top risk with the account: {top.sentence}"
    return "Review the account and reach out to its main contact."


def _build_actions(
    playbook: Playbook, score: Score, account: Account, holdout: bool
) -> tuple[Action, ...]:
    decided_at = utc(score.as_of)
    reasons = sorted(score.reasons, key=lambda reason: reason.effect, reverse=True)[:MAX_REASONS]
    actions = []
    for channel in playbook.channels:
        resolved = resolve_recipient(playbook.recipient, account, channel)
        if resolved is None:
            continue
        role, address = resolved
        actions.append(
            Action(
                action_id=action_id(account.account_id, playbook.name, channel, decided_at),
                account_id=account.account_id,
                account_name=account.name,
                playbook=playbook.name,
                channel=channel,
                recipient_role=role,
                recipient=address,
                priority=playbook.priority,
                churn_30=score.churn_30,
                health=score.health,
                tier=score.tier,
                arr=account_arr(account, score),
                reasons=reasons,
                recommended_action=recommended_action(score, playbook),
                holdout=holdout,
                decided_at=decided_at,
                model_version=score.model_version,
            )
        )
    return tuple(actions)


def evaluate_playbook(
    playbook: Playbook,
    score: Score,
    account: Account,
    previous: Score | None,
    state: DecisionState,
    suppression_signals: list[str],
) -> Evaluation:
    """One playbook's verdict, checked in order: conditions, suppression, cooldown,
    recipients, holdout."""
    if not conditions_hold(playbook.when, score, account, previous):
        return Evaluation(playbook.name, "no_match")
    if playbook.respects_suppressions and is_suppressed(score, state, suppression_signals):
        return Evaluation(playbook.name, "suppressed")
    until = state.cooldowns.get(playbook.name)
    if until is not None and utc(until) > utc(score.as_of):
        return Evaluation(playbook.name, "cooling_down")

    holdout = in_holdout(account.account_id, playbook.name, playbook.holdout)
    actions = _build_actions(playbook, score, account, holdout)
    if not actions:
        return Evaluation(playbook.name, "no_recipient")
    return Evaluation(playbook.name, "held_out" if holdout else "fired", actions)


def evaluate(
    score: Score,
    account: Account,
    previous: Score | None,
    state: DecisionState = EMPTY_STATE,
    playbooks: PlaybookSet | None = None,
) -> list[Evaluation]:
    """Every enabled playbook's verdict on this score, in file order."""
    config = playbooks if playbooks is not None else load_playbooks()
    return [
        evaluate_playbook(playbook, score, account, previous, state, config.suppression_signals)
        for playbook in config.enabled
    ]


def decide(
    score: Score,
    account: Account,
    previous: Score | None,
    state: DecisionState = EMPTY_STATE,
    playbooks: PlaybookSet | None = None,
) -> list[Action]:
    """The actions this score calls for, most urgent first.

    Parameters
    ----------
    score : the account's new score; its `as_of` is the decision time.
    account : the account's traits (owner, account executive, ARR, contact e-mail).
    previous : the score before this one, or None for a first score (tier entry then counts
        as entering from nowhere).
    state : active cooldowns and suppressions of the account.
    playbooks : the playbooks to apply; the configured ones when omitted.

    Returns
    -------
    list of Action, one per fired playbook and channel; actions of a holdout group carry
    ``holdout=True`` and are recorded but never delivered.
    """
    actions = [
        action
        for evaluation in evaluate(score, account, previous, state, playbooks)
        for action in evaluation.actions
    ]
    return sorted(actions, key=lambda action: _PRIORITY_ORDER[action.priority])
