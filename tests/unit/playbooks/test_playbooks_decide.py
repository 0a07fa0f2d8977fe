"""decide(): which playbooks fire for a score, to whom, and with which stable ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercept.playbooks.config import PlaybookSet, parse_playbooks
from intercept.playbooks.decide import (
    DecisionState,
    action_id,
    decide,
    evaluate,
    holdout_draw,
    in_holdout,
)
from intercept.records import Account, Score

ScoreFactory = Callable[..., Score]
AccountFactory = Callable[..., Account]

TIER_RULES = """
playbooks:
  - name: entered-critical
    when: {tier_entered: [critical]}
    channel: slack
    recipient: {role: owner}
  - name: recovered
    when: {tier_exited: [at_risk, critical], tier_in: [healthy, watch]}
    channel: slack
    recipient: {role: owner}
"""


def _names(actions: list) -> list[tuple[str, str]]:
    return [(action.playbook, action.channel) for action in actions]


def test_mid_risk_account_alerts_owner_on_slack(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    actions = decide(
        make_score(churn_30=0.45), make_account(arr=60_000), None, playbooks=no_holdout
    )

    assert _names(actions) == [("csm-risk-alert", "slack")]
    action = actions[0]
    assert action.recipient_role == "owner"
    assert action.recipient == "csm@vendor.example"
    assert action.priority == "high"
    assert action.recommended_action == "Call the admin about the drop in logins."
    assert action.model_version == "test-model-1"
    assert action.arr == 60_000
    assert not action.holdout


def test_high_arr_account_at_risk_escalates_on_slack_and_email(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    actions = decide(
        make_score(churn_30=0.45), make_account(arr=250_000), None, playbooks=no_holdout
    )

    assert _names(actions) == [("exec-escalation", "slack"), ("exec-escalation", "email")]
    assert {action.priority for action in actions} == {"urgent"}
    assert {action.recipient for action in actions} == {"cs-leadership@example.com"}
    assert actions[0].recommended_action.startswith("Book an executive sponsor call")


def test_arr_band_boundary_200k_belongs_to_escalation(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    just_below = decide(make_score(), make_account(arr=199_999.0), None, playbooks=no_holdout)
    at_boundary = decide(make_score(), make_account(arr=200_000.0), None, playbooks=no_holdout)

    assert {a.playbook for a in just_below} == {"csm-risk-alert"}
    assert {a.playbook for a in at_boundary} == {"exec-escalation"}


def test_unknown_arr_still_alerts_owner_but_never_escalates(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    actions = decide(make_score(arr=None), make_account(arr=None), None, playbooks=no_holdout)

    assert _names(actions) == [("csm-risk-alert", "slack")]
    assert actions[0].arr is None


def test_arr_falls_back_to_twelve_times_mrr(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    actions = decide(make_score(), make_account(arr=None, mrr=20_000), None, playbooks=no_holdout)

    assert {a.playbook for a in actions} == {"exec-escalation"}
    assert actions[0].arr == 240_000


def test_low_risk_drifting_account_gets_reengagement_email(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(churn_30=0.2, health=60, tier="watch")

    actions = decide(score, make_account(), None, playbooks=no_holdout)

    assert _names(actions) == [("reengagement-email", "email")]
    assert actions[0].recipient_role == "customer_contact"
    assert actions[0].recipient == "admin@acme.example"
    assert actions[0].priority == "low"


def test_reengagement_needs_a_contact_address(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(churn_30=0.2, health=60, tier="watch")

    evaluations = evaluate(score, make_account(traits={}), None, playbooks=no_holdout)

    outcome = {e.playbook: e.outcome for e in evaluations}
    assert outcome["reengagement-email"] == "no_recipient"
    assert decide(score, make_account(traits={}), None, playbooks=no_holdout) == []


@pytest.mark.parametrize(
    "state_or_signal",
    [
        DecisionState(suppressions=frozenset({"escalation"})),
        DecisionState(suppressions=frozenset({"manual"})),
        "open_escalation",
    ],
)
def test_suppressed_account_gets_no_marketing(
    make_score: ScoreFactory,
    make_account: AccountFactory,
    no_holdout: PlaybookSet,
    state_or_signal: DecisionState | str,
) -> None:
    if isinstance(state_or_signal, str):
        score = make_score(churn_30=0.2, health=60, tier="watch", signals={state_or_signal: 1.0})
        state = DecisionState()
    else:
        score = make_score(churn_30=0.2, health=60, tier="watch")
        state = state_or_signal

    evaluations = evaluate(score, make_account(), None, state, no_holdout)

    assert {e.playbook: e.outcome for e in evaluations}["reengagement-email"] == "suppressed"


def test_suppression_does_not_silence_risk_alerts(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    state = DecisionState(suppressions=frozenset({"escalation"}))

    actions = decide(make_score(churn_30=0.5), make_account(), None, state, no_holdout)

    assert _names(actions) == [("csm-risk-alert", "slack")]


def test_cooldown_blocks_until_it_ends(
    make_score: ScoreFactory,
    make_account: AccountFactory,
    no_holdout: PlaybookSet,
    as_of: datetime,
) -> None:
    cooling = DecisionState(cooldowns={"csm-risk-alert": as_of + timedelta(seconds=1)})
    ended = DecisionState(cooldowns={"csm-risk-alert": as_of})

    blocked = evaluate(make_score(), make_account(), None, cooling, no_holdout)
    fired = decide(make_score(), make_account(), None, ended, no_holdout)

    assert {e.playbook: e.outcome for e in blocked}["csm-risk-alert"] == "cooling_down"
    assert _names(fired) == [("csm-risk-alert", "slack")]


def test_expansion_goes_to_account_executive_on_slack_and_webhook(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(churn_30=0.03, health=85, tier="healthy", expansion=0.8)

    actions = decide(score, make_account(), None, playbooks=no_holdout)

    assert _names(actions) == [("expansion-signal", "slack"), ("expansion-signal", "webhook")]
    assert {(a.recipient_role, a.recipient) for a in actions} == {
        ("account_executive", "ae@vendor.example")
    }


def test_expansion_falls_back_to_owner_without_account_executive(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(churn_30=0.03, health=85, tier="healthy", expansion=0.8)

    actions = decide(score, make_account(account_executive=None), None, playbooks=no_holdout)

    assert {(a.recipient_role, a.recipient) for a in actions} == {("owner", "csm@vendor.example")}


def test_expansion_skips_unhealthy_tier(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(churn_30=0.03, health=85, tier="watch", expansion=0.9)

    assert decide(score, make_account(), None, playbooks=no_holdout) == []


def test_slack_alert_without_owner_fires_unassigned(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    actions = decide(make_score(), make_account(owner=None), None, playbooks=no_holdout)

    assert [(a.recipient_role, a.recipient) for a in actions] == [("owner", "")]


@pytest.mark.parametrize(
    ("previous_tier", "new_tier", "fired"),
    [
        (None, "critical", {"entered-critical"}),
        ("at_risk", "critical", {"entered-critical"}),
        ("critical", "critical", set()),
        ("critical", "watch", {"recovered"}),
        ("at_risk", "healthy", {"recovered"}),
        ("watch", "healthy", set()),
        (None, "healthy", set()),
    ],
)
def test_tier_entry_and_exit_compare_with_previous_score(
    make_score: ScoreFactory,
    make_account: AccountFactory,
    previous_tier: str | None,
    new_tier: str,
    fired: set[str],
) -> None:
    config = parse_playbooks(TIER_RULES)
    previous = None if previous_tier is None else make_score(tier=previous_tier)

    actions = decide(make_score(tier=new_tier), make_account(), previous, playbooks=config)

    assert {action.playbook for action in actions} == fired


def test_recommended_action_falls_back_to_top_reason(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet
) -> None:
    score = make_score(next_best_action=None)

    actions = decide(score, make_account(), None, playbooks=no_holdout)

    assert "Logins fell to 3 this week" in actions[0].recommended_action


def test_action_id_is_stable_within_a_day_and_changes_across_days_and_channels(
    as_of: datetime,
) -> None:
    same_day = action_id("acct_1", "csm-risk-alert", "slack", as_of + timedelta(hours=15))
    next_day = action_id("acct_1", "csm-risk-alert", "slack", as_of + timedelta(days=1))
    other_channel = action_id("acct_1", "csm-risk-alert", "email", as_of)

    assert action_id("acct_1", "csm-risk-alert", "slack", as_of) == same_day
    assert same_day != next_day
    assert same_day != other_channel
    assert len(same_day) == 32


def test_rescored_account_same_day_yields_same_actions(
    make_score: ScoreFactory, make_account: AccountFactory, no_holdout: PlaybookSet, as_of: datetime
) -> None:
    first = decide(make_score(as_of=as_of), make_account(), None, playbooks=no_holdout)
    later = decide(
        make_score(as_of=as_of + timedelta(hours=9), churn_30=0.5),
        make_account(),
        None,
        playbooks=no_holdout,
    )

    assert [a.action_id for a in first] == [a.action_id for a in later]


def test_holdout_is_deterministic_and_near_its_share() -> None:
    accounts = [f"acct_{i}" for i in range(4000)]

    first = [in_holdout(account, "csm-risk-alert", 0.1) for account in accounts]
    second = [in_holdout(account, "csm-risk-alert", 0.1) for account in accounts]
    other_playbook = [in_holdout(account, "exec-escalation", 0.1) for account in accounts]

    assert first == second
    assert 0.08 < sum(first) / len(accounts) < 0.12
    assert first != other_playbook
    assert not any(in_holdout(account, "csm-risk-alert", 0.0) for account in accounts)
    assert all(0 <= holdout_draw(account, "x") < 1 for account in accounts[:100])


def test_holdout_actions_are_flagged_not_dropped(
    make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    config = parse_playbooks(
        TIER_RULES.replace(
            "recipient: {role: owner}\n", "recipient: {role: owner}\n    holdout: 0.5\n", 1
        )
    )
    accounts = [f"acct_{i}" for i in range(40)]
    held = [a for a in accounts if in_holdout(a, "entered-critical", 0.5)]
    assert held, "seeded ids include at least one holdout account"

    actions = decide(
        make_score(account_id=held[0], tier="critical"),
        make_account(account_id=held[0]),
        None,
        playbooks=config,
    )
    evaluations = evaluate(
        make_score(account_id=held[0], tier="critical"),
        make_account(account_id=held[0]),
        None,
        playbooks=config,
    )

    assert [a.holdout for a in actions] == [True]
    assert {e.playbook: e.outcome for e in evaluations}["entered-critical"] == "held_out"


def test_actions_come_most_urgent_first(
    make_score: ScoreFactory, make_account: AccountFactory
) -> None:
    config = parse_playbooks(
        """
playbooks:
  - {name: low-one, when: {}, channel: slack, recipient: {role: owner}, priority: low}
  - {name: urgent-one, when: {}, channel: slack, recipient: {role: owner}, priority: urgent}
  - {name: normal-one, when: {}, channel: slack, recipient: {role: owner}}
"""
    )

    actions = decide(make_score(), make_account(), None, playbooks=config)

    assert [a.playbook for a in actions] == ["urgent-one", "normal-one", "low-one"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    churn=st.floats(0, 1),
    health=st.integers(0, 100),
    tier=st.sampled_from(["healthy", "watch", "at_risk", "critical"]),
    expansion=st.floats(0, 1),
    arr=st.one_of(st.none(), st.floats(0, 2_000_000)),
)
def test_decide_is_pure_and_ids_are_unique(
    make_score: ScoreFactory,
    make_account: AccountFactory,
    churn: float,
    health: int,
    tier: str,
    expansion: float,
    arr: float | None,
) -> None:
    score = make_score(churn_30=churn, health=health, tier=tier, expansion=expansion)
    account = make_account(arr=arr)
    before = (score.model_dump(), account.model_dump())

    first = decide(score, account, None)
    second = decide(score, account, None)

    assert first == second
    assert (score.model_dump(), account.model_dump()) == before
    assert len({a.action_id for a in first}) == len(first)
    assert all(a.decided_at == score.as_of for a in first)
