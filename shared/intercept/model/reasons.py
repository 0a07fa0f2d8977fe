"""Reasons a CSM can act on: which signals raise an account's risk, by how much, in words.

Effects come from the logistic-regression baseline: coefficient x (standardised value -
standardised healthy baseline), in log-odds, for every account and signal at once. Risk
reasons are deviations in the risky direction of the catalog with an effect of at least
`MIN_EFFECT`; missing values count zero, and traits nobody can act on (plan, ARR) are never
reasons. An account with no risk reason gets its strongest protective signals instead (a
negative effect, worded as a strength), so every score says why it is what it is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from intercept.model.artifact import Linear
from intercept.model.signals import SIGNAL_NAMES, SIGNALS, SignalFrame
from intercept.records import NextBestAction, Reason

MIN_EFFECT = 0.15
"""Smallest effect (log-odds, about +16% odds) reported as a reason."""

NOT_REASONS = frozenset({"arr", "usage_cap_proximity"})
REASON_WINDOWS = {"days_to_renewal": 60.0, "tenure_days": 180.0}
"""Signals that are a risk reason only at or below these values (renewal near, account new)."""


def effects(linear: Linear, x: np.ndarray, baseline: np.ndarray, features: list[str]) -> np.ndarray:
    """Per-account, per-feature effect on churn log-odds; shape (n_accounts, n_features)."""
    # Limitation: effects come from the logistic baseline even when boosted trees are
    # published, so reasons explain the baseline's view of the account.
    z = linear.standardise(x)
    z0 = linear.standardise(baseline.reshape(1, -1))
    out = linear.coef * (z - z0)
    out[np.isnan(x)] = 0.0
    for j, name in enumerate(features):
        signal = SIGNALS.get(name)
        if signal is None or name in NOT_REASONS:
            out[:, j] = 0.0
            continue
        if signal.direction == "higher_is_riskier":
            out[:, j] = np.where(x[:, j] > baseline[j], out[:, j], 0.0)
        elif signal.direction == "lower_is_riskier":
            out[:, j] = np.where(x[:, j] < baseline[j], out[:, j], 0.0)
        if name in REASON_WINDOWS:
            out[:, j] = np.where(x[:, j] <= REASON_WINDOWS[name], out[:, j], 0.0)
    return out


def protective_effects(
    linear: Linear, x: np.ndarray, baseline: np.ndarray, features: list[str]
) -> np.ndarray:
    """Per-account effects of signals that sit on the safe side of the healthy baseline.

    Negative numbers (they lower the risk); zero where a signal has no protective wording.
    """
    z = linear.standardise(x)
    z0 = linear.standardise(baseline.reshape(1, -1))
    raw = linear.coef * (z - z0)
    out = np.zeros_like(raw)
    for j, name in enumerate(features):
        signal = SIGNALS.get(name)
        if signal is None or name not in STRENGTHS:
            continue
        safe = (
            x[:, j] > baseline[j]
            if signal.direction == "lower_is_riskier"
            else x[:, j] < baseline[j]
        )
        out[:, j] = np.where(safe & ~np.isnan(x[:, j]), np.minimum(raw[:, j], 0.0), 0.0)
    return out


FAMILIES = {"module_gap_days": "module_gap", "module_gap_surprise": "module_gap"}
"""Signals that tell the same story: only the strongest of a family becomes a reason."""


def pick_reasons(effect: np.ndarray, features: list[str], k: int = 3) -> list[list[int]]:
    """Feature indices of up to k risk reasons per account, strongest first, one per family."""
    idx, keep = top_reasons(effect, k + 1)
    picked = []
    for row, oks in zip(idx.tolist(), keep.tolist(), strict=True):
        seen: set[str] = set()
        chosen: list[int] = []
        for j, ok in zip(row, oks, strict=True):
            family = FAMILIES.get(features[j], features[j])
            if ok and family not in seen and len(chosen) < k:
                seen.add(family)
                chosen.append(j)
        picked.append(chosen)
    return picked


def top_reasons(effect: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Indices (n, k) of the largest effects per row and a mask of those above MIN_EFFECT."""
    k = min(k, effect.shape[1])
    part = np.argpartition(-effect, k - 1, axis=1)[:, :k]
    rows = np.arange(effect.shape[0])[:, None]
    order = np.argsort(-effect[rows, part], axis=1)
    idx = part[rows, order]
    return idx, effect[rows, idx] >= MIN_EFFECT


def _pct(v: float) -> str:
    return f"{abs(v) * 100:.0f}%"


def _days(v: float) -> str:
    return _count(v, "day")


def _count(v: float, noun: str) -> str:
    n = int(round(v))
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


Sentence = Callable[[float, float, dict[str, float], str], str]

SENTENCES: dict[str, Sentence] = {
    "login_trend": lambda v, b, c, m: (
        f"Logins fell {_pct(v)} over the last 14 days "
        f"({c['logins_14d']:.0f} vs {c['logins_prior_14d']:.0f} in the 14 days before)"
    ),
    "login_change_90d": lambda v, b, c, m: (
        f"Daily logins are {_pct(v)} below the level of the previous quarter"
    ),
    "logins_per_seat_14d": lambda v, b, c, m: (
        f"{v:.1f} logins per seat in the last 14 days (typical: {b:.1f})"
    ),
    "days_since_last_activity": lambda v, b, c, m: f"No product activity for {_days(v)}",
    "feature_breadth": lambda v, b, c, m: (
        f"Used {v:.0f} modules in the last 30 days (typical: {b:.0f})"
    ),
    "feature_depth": lambda v, b, c, m: (
        f"Only {_pct(v)} of use is in the core modules (typical: {_pct(b)})"
    ),
    "module_gap_days": lambda v, b, c, m: f"No use of {m or 'a regular module'} for {_days(v)}",
    "module_gap_surprise": lambda v, b, c, m: (
        f"No use of {m or 'a regular module'} for {_days(c['module_gap_days'])}, "
        "unusual for this account"
    ),
    "session_trend": lambda v, b, c, m: (
        f"Sessions got {_pct(v)} shorter over the last 14 days "
        f"({c['session_minutes_14d']:.0f} vs {c['session_minutes_prior_14d']:.0f} minutes)"
    ),
    "seat_adoption": lambda v, b, c, m: (
        f"Only {_pct(v)} of seats active in the last 30 days "
        f"({c['people_30d']:.0f} of {c['seats']:.0f}; typical: {_pct(b)})"
    ),
    "people_trend": lambda v, b, c, m: (
        f"Active people fell {_pct(v)} over the last 14 days "
        f"({c['people_14d']:.0f} vs {c['people_prior_14d']:.0f})"
    ),
    "people_change_90d": lambda v, b, c, m: (
        f"Daily active people are {_pct(v)} below the previous quarter"
    ),
    "seat_change_60d": lambda v, b, c, m: f"Paid seats cut by {_pct(v)} in the last 60 days",
    "champion_inactive_days": lambda v, b, c, m: (
        f"The most active user has not been seen for {_days(v)}"
    ),
    "onboarding_completion": lambda v, b, c, m: f"Onboarding only {_pct(v)} complete",
    "tickets_30d": lambda v, b, c, m: (
        f"{v:.0f} support tickets in the last 30 days (typical: {b:.0f})"
    ),
    "high_priority_share": lambda v, b, c, m: (
        f"{_pct(v)} of tickets in the last 30 days were high priority"
    ),
    "open_tickets": lambda v, b, c, m: f"{_count(v, 'support ticket')} still open",
    "open_escalation": lambda v, b, c, m: (
        f"An escalated ticket is still open ({_count(c['open_tickets'], 'ticket')} open)"
    ),
    "csat_30d": lambda v, b, c, m: (
        f"Only {_pct(v)} of satisfaction ratings were good in the last 30 days"
    ),
    "csat_trend": lambda v, b, c, m: (
        f"Satisfaction fell {abs(v) * 100:.0f} points against the prior 60 days"
    ),
    "payment_failures_60d": lambda v, b, c, m: f"{_count(v, 'failed payment')} in the last 60 days",
    "days_to_renewal": lambda v, b, c, m: f"Renewal in {_days(v)}",
    "tenure_days": lambda v, b, c, m: f"Customer for only {_days(v)}",
}

STRENGTHS: dict[str, Sentence] = {
    "login_trend": lambda v, b, c, m: (
        f"Logins rose {_pct(v)} over the last 14 days "
        f"({c['logins_14d']:.0f} vs {c['logins_prior_14d']:.0f} in the 14 days before)"
    ),
    "login_change_90d": lambda v, b, c, m: f"Daily logins are {_pct(v)} above the previous quarter",
    "logins_per_seat_14d": lambda v, b, c, m: (
        f"{v:.1f} logins per seat in the last 14 days (typical: {b:.1f})"
    ),
    "feature_breadth": lambda v, b, c, m: (
        f"Used {_count(v, 'module')} in the last 30 days (typical: {b:.0f})"
    ),
    "feature_depth": lambda v, b, c, m: (
        f"{_pct(v)} of use is in the core modules (typical: {_pct(b)})"
    ),
    "session_trend": lambda v, b, c, m: f"Sessions got {_pct(v)} longer over the last 14 days",
    "seat_adoption": lambda v, b, c, m: (
        f"{_pct(v)} of seats active in the last 30 days ({c['people_30d']:.0f} of {c['seats']:.0f})"
    ),
    "people_trend": lambda v, b, c, m: (
        f"Active people rose {_pct(v)} over the last 14 days "
        f"({c['people_14d']:.0f} vs {c['people_prior_14d']:.0f})"
    ),
    "people_change_90d": lambda v, b, c, m: (
        f"Daily active people are {_pct(v)} above the previous quarter"
    ),
    "tickets_30d": lambda v, b, c, m: (
        f"{_count(v, 'support ticket')} in the last 30 days (typical: {b:.0f})"
    ),
    "csat_30d": lambda v, b, c, m: (
        f"{_pct(v)} of satisfaction ratings were good in the last 30 days"
    ),
    "days_to_renewal": lambda v, b, c, m: f"Renewal is {_days(v)} away",
    "tenure_days": lambda v, b, c, m: f"Customer for {_days(v)}",
}
"""Sentences for signals on the safe side of the baseline (used when nothing raises risk)."""

ACTIONS: dict[str, str] = {
    "login_trend": "Schedule a check-in with the main users to find out why use dropped",
    "login_change_90d": "Schedule a check-in with the main users to find out why use dropped",
    "logins_per_seat_14d": "Run a re-engagement session for the team",
    "days_since_last_activity": "Call the account owner: the product has gone quiet",
    "feature_breadth": "Offer a walkthrough of the modules they no longer use",
    "feature_depth": "Show the team the core workflows they are missing",
    "module_gap_days": "Offer a refresher on {module} and ask what replaced it",
    "module_gap_surprise": "Offer a refresher on {module} and ask what replaced it",
    "session_trend": "Review recent sessions for friction and offer help",
    "seat_adoption": "Run an adoption workshop for the inactive seats",
    "people_trend": "Find out who stopped using the product and why",
    "people_change_90d": "Find out who stopped using the product and why",
    "seat_change_60d": "Meet the sponsor about the seat reduction before renewal",
    "champion_inactive_days": "Find and build a relationship with a new champion",
    "onboarding_completion": "Finish onboarding with a guided session",
    "tickets_30d": "Review the open support issues with the support lead",
    "high_priority_share": "Review the open support issues with the support lead",
    "open_tickets": "Get the open tickets resolved and confirm with the customer",
    "open_escalation": "Own the escalation until it is resolved",
    "csat_30d": "Follow up on the poor support ratings",
    "csat_trend": "Follow up on the poor support ratings",
    "payment_failures_60d": "Ask billing to help update the payment method",
    "days_to_renewal": "Start the renewal conversation now",
    "tenure_days": "Check in on early value: the account is new",
}


def build_reasons(
    frame: SignalFrame,
    x: np.ndarray,
    effect: np.ndarray,
    baseline: np.ndarray,
    features: list[str],
    protective: np.ndarray | None = None,
    k: int = 3,
) -> list[list[Reason]]:
    """Top-k risk reasons per account; up to two strengths where no signal raises risk."""
    picked = pick_reasons(effect, features, k)
    safe_idx = safe_keep = None
    if protective is not None:
        safe_idx, safe_keep = top_reasons(-protective, 2)
        safe_keep = (-protective[np.arange(len(x))[:, None], safe_idx] > 0).tolist()
        safe_idx = safe_idx.tolist()
    context_rows = {name: values.tolist() for name, values in frame.context.items()}
    quoted = {name: SIGNAL_NAMES.index(name) for name in ("module_gap_days", "open_tickets")}
    out: list[list[Reason]] = []
    for i in range(x.shape[0]):
        ctx = {key: float(v[i]) for key, v in context_rows.items()}
        ctx.update({name: float(x[i, col]) for name, col in quoted.items()})
        chosen = [(j, SENTENCES, effect) for j in picked[i]]
        if not chosen and safe_idx is not None and safe_keep is not None and protective is not None:
            pairs = zip(safe_idx[i], safe_keep[i], strict=True)
            chosen = [(j, STRENGTHS, protective) for j, ok in pairs if ok]
        reasons = []
        for j, wording, source in chosen:
            name = features[j]
            value, base = float(x[i, j]), float(baseline[j])
            reasons.append(
                Reason(
                    signal=name,
                    value=round(value, 4),
                    baseline=round(base, 4),
                    effect=round(float(source[i, j]), 4),
                    sentence=wording[name](value, base, ctx, frame.gap_module[i]),
                )
            )
        out.append(reasons)
    return out


def next_best_action(
    reasons: list[Reason], module: str, expansion: float, tier: str
) -> NextBestAction:
    """One recommended step with the evidence behind it."""
    risks = [r for r in reasons if r.effect > 0]
    if risks:
        top = risks[0]
        action = ACTIONS.get(top.signal, "Review the account with its owner").format(
            module=module or "the module"
        )
        return NextBestAction(action=action, evidence=[r.sentence for r in risks])
    strengths = [r.sentence for r in reasons]
    if expansion >= 0.5 and tier == "healthy":
        evidence = [f"Expansion propensity {expansion:.0%} with healthy engagement", *strengths]
        return NextBestAction(action="Introduce an upgrade or more seats", evidence=evidence)
    return NextBestAction(action="No action needed: keep the usual cadence", evidence=strengths)


DRIVER_SIGNALS: dict[str, frozenset[str]] = {
    "falling_logins": frozenset(
        {"login_trend", "login_change_90d", "logins_per_seat_14d", "days_since_last_activity"}
    ),
    "module_drop": frozenset(
        {"module_gap_days", "module_gap_surprise", "feature_breadth", "feature_depth"}
    ),
    "seat_contraction": frozenset(
        {"seat_adoption", "people_trend", "people_change_90d", "seat_change_60d"}
    ),
    "unresolved_tickets": frozenset(
        {
            "tickets_30d",
            "high_priority_share",
            "open_tickets",
            "open_escalation",
            "csat_30d",
            "csat_trend",
        }
    ),
    "payment_failures": frozenset({"payment_failures_60d"}),
    "champion_leaving": frozenset({"champion_inactive_days"}),
}
"""The reasons that name each kind of churn driver (used to check reasons against a truth)."""
