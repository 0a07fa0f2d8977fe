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
from dataclasses import dataclass

import numpy as np

from intercept.model.artifact import Linear
from intercept.model.signals import SIGNAL_NAMES, SIGNALS, SignalFrame
from intercept.records import NextBestAction, Reason

MIN_EFFECT = 0.15
"""Smallest effect (log-odds, about +16% odds) reported as a reason."""

NOT_REASONS = frozenset({"arr", "usage_cap_proximity"})
REASON_WINDOWS = {"days_to_renewal": 60.0, "tenure_days": 180.0}
"""Signals that are a risk reason only at or below these values (renewal near, account new)."""


@dataclass(frozen=True)
class ReasonRules:
    """Which side of the healthy baseline is a risk or a strength, per feature, as arrays.

    Build it once per model with `ReasonRules.build`; `effects` then applies the rules to all
    accounts and features at once.
    """

    linear: Linear
    baseline: np.ndarray
    z_baseline: np.ndarray
    """The healthy baseline, standardised; shape (1, n_features)."""
    risky_above: np.ndarray
    risky_below: np.ndarray
    risky_either: np.ndarray
    """Risk candidates without a direction (a deviation either way counts)."""
    window: np.ndarray
    """A risk only at or below this value (+inf: no window)."""
    safe_above: np.ndarray
    safe_below: np.ndarray

    @classmethod
    def build(cls, linear: Linear, baseline: np.ndarray, features: list[str]) -> ReasonRules:
        """The rules for a model's features, from the signal catalog and the wording tables."""
        signals = [SIGNALS.get(name) for name in features]
        direction = [s.direction if s is not None else "" for s in signals]
        risk = np.array(
            [s is not None and n not in NOT_REASONS for s, n in zip(signals, features, strict=True)]
        )
        strength = np.array(
            [s is not None and n in STRENGTHS for s, n in zip(signals, features, strict=True)]
        )
        higher = np.array([d == "higher_is_riskier" for d in direction], dtype=bool)
        lower = np.array([d == "lower_is_riskier" for d in direction], dtype=bool)
        return cls(
            linear=linear,
            baseline=baseline,
            z_baseline=linear.standardise(baseline.reshape(1, -1)),
            risky_above=risk & higher,
            risky_below=risk & lower,
            risky_either=risk & ~higher & ~lower,
            window=np.array([REASON_WINDOWS.get(n, np.inf) for n in features], dtype=float),
            safe_above=strength & lower,
            safe_below=strength & ~lower,
        )

    def effects(self, x: np.ndarray, z: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Risk effects and protective effects on churn log-odds, each (n_accounts, n_features).

        Parameters
        ----------
        x : ndarray
            The feature matrix (NaN where a value is missing).
        z : ndarray, optional
            `linear.standardise(x)` when the caller already has it.

        Returns
        -------
        (ndarray, ndarray)
            Risk effects (positive or zero; zero off the risky side, outside a window, for
            missing values and for traits that are never reasons) and protective effects
            (negative or zero; non-zero only on the safe side of signals with a strength
            wording).
        """
        # Limitation: effects come from the logistic baseline even when boosted trees are
        # published, so reasons explain the baseline's view of the account.
        if z is None:
            z = self.linear.standardise(x)
        raw = self.linear.coef * (z - self.z_baseline)
        above, below = x > self.baseline, x < self.baseline  # both False where x is NaN
        risky = (above & self.risky_above) | (below & self.risky_below) | self.risky_either
        risky &= x <= self.window  # also False where x is NaN
        safe = (above & self.safe_above) | (below & self.safe_below)
        return np.where(risky, raw, 0.0), np.where(safe, np.minimum(raw, 0.0), 0.0)


FAMILIES = {
    "module_gap_days": "module_gap",
    "module_gap_surprise": "module_gap",
    "key_person_gap_days": "key_person",
    "key_person_surprise": "key_person",
    "champion_inactive_days": "key_person",
}
"""Signals that tell the same story: only the strongest of a family becomes a reason."""


def pick_reasons(effect: np.ndarray, features: list[str], k: int = 3) -> list[list[int]]:
    """Feature indices of up to k risk reasons per account, strongest first, one per family."""
    idx, chosen = _pick(effect, _families(features), k)
    return [
        [j for j, ok in zip(row, oks, strict=True) if ok]
        for row, oks in zip(idx.tolist(), chosen.tolist(), strict=True)
    ]


def _families(features: list[str]) -> np.ndarray:
    """A number per feature, the same for features of one family (see `FAMILIES`)."""
    numbers: dict[str, int] = {}
    family = [numbers.setdefault(FAMILIES.get(name, name), len(numbers)) for name in features]
    return np.array(family, dtype=np.intp)


def _pick(effect: np.ndarray, family: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest effects per row (indices) and a mask of those that become reasons.

    A candidate becomes a reason when it reaches `MIN_EFFECT`, no stronger reason of the row
    is of its family, and the row has fewer than k reasons so far. Enough candidates are
    looked at for k reasons even when the strongest ones all share the largest family.
    """
    largest = int(np.bincount(family).max()) if family.size else 1
    idx, keep = top_reasons(effect, k + largest - 1)
    fam = family[idx]
    chosen = np.zeros_like(keep)
    count = np.zeros(len(idx), dtype=np.intp)
    for p in range(idx.shape[1]):
        ok = keep[:, p] & (count < k)
        for q in range(p):
            ok &= ~(chosen[:, q] & (fam[:, q] == fam[:, p]))
        chosen[:, p] = ok
        count += ok
    return idx, chosen


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

QUOTED_SIGNALS = ("module_gap_days", "open_tickets", "key_person_gap_days", "tickets_30d")
"""Signals that sentences quote from their context argument (besides `SignalFrame.context`)."""

SENTENCES: dict[str, Sentence] = {
    "login_trend": lambda v, b, c, m: (
        f"Logins fell {_pct(v)} over the last 14 days "
        f"({c['logins_14d']:.0f} vs {c['logins_prior_14d']:.0f} in the 14 days before)"
    ),
    "login_change_90d": lambda v, b, c, m: (
        f"Daily logins are {_pct(v)} below the level of the previous quarter"
    ),
    "login_trend_7d": lambda v, b, c, m: (
        f"Logins in the last 7 days are {_pct(v)} below this account's usual week "
        f"({c['logins_7d']:.0f} this week)"
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
    "people_trend_7d": lambda v, b, c, m: (
        f"Active people in the last 7 days are {_pct(v)} below this account's usual week"
    ),
    "people_change_90d": lambda v, b, c, m: (
        f"Daily active people are {_pct(v)} below the previous quarter"
    ),
    "seat_change_60d": lambda v, b, c, m: f"Paid seats cut by {_pct(v)} in the last 60 days",
    "champion_inactive_days": lambda v, b, c, m: (
        f"The most active user has not been seen for {_days(v)}"
    ),
    "key_person_gap_days": lambda v, b, c, m: (
        f"A regular user has not been seen for {_days(v)}, unusual for them"
    ),
    "key_person_surprise": lambda v, b, c, m: (
        f"A regular user has not been seen for {_days(c['key_person_gap_days'])}, unusual for them"
    ),
    "regulars_gone": lambda v, b, c, m: f"{_count(v, 'regular user')} not seen for 14 days or more",
    "onboarding_completion": lambda v, b, c, m: f"Onboarding only {_pct(v)} complete",
    "tickets_30d": lambda v, b, c, m: (
        f"{v:.0f} support tickets in the last 30 days (typical: {b:.0f})"
    ),
    "ticket_surge": lambda v, b, c, m: (
        f"Support tickets are coming in at {v:.1f}x this account's usual rate "
        f"({c['tickets_30d']:.0f} in the last 30 days)"
    ),
    "high_priority_share": lambda v, b, c, m: (
        f"{_pct(v)} of tickets in the last 30 days were high priority"
    ),
    "open_tickets": lambda v, b, c, m: f"{_count(v, 'support ticket')} still open",
    "ticket_backlog_age_days": lambda v, b, c, m: (
        f"The oldest open support ticket has waited {_days(v)}"
    ),
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
    "login_trend_7d": lambda v, b, c, m: (
        f"Logins in the last 7 days are {_pct(v)} above this account's usual week"
    ),
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
    "login_trend_7d": "Schedule a check-in with the main users to find out why use dropped",
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
    "key_person_gap_days": "Check whether a key user left, and who now owns their work",
    "key_person_surprise": "Check whether a key user left, and who now owns their work",
    "regulars_gone": "Find out who stopped using the product and why",
    "people_trend_7d": "Find out who stopped using the product and why",
    "onboarding_completion": "Finish onboarding with a guided session",
    "tickets_30d": "Review the open support issues with the support lead",
    "high_priority_share": "Review the open support issues with the support lead",
    "open_tickets": "Get the open tickets resolved and confirm with the customer",
    "ticket_backlog_age_days": "Get the oldest open ticket resolved and confirm with the customer",
    "ticket_surge": "Review the open support issues with the support lead",
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
    idx, chosen = _pick(effect, _families(features), k)
    rows, ranks = np.nonzero(chosen)  # row by row, strongest first
    cols = idx[rows, ranks]
    size = effect[rows, cols]
    strong = np.zeros(len(rows), dtype=bool)
    if protective is not None:
        quiet = np.flatnonzero(~chosen.any(axis=1))
        safe_idx, _ = top_reasons(-protective[quiet], 2)
        picked, rank = np.nonzero(-protective[quiet[:, None], safe_idx] > 0)
        safe_rows, safe_cols = quiet[picked], safe_idx[picked, rank]
        rows, cols = np.concatenate([rows, safe_rows]), np.concatenate([cols, safe_cols])
        size = np.concatenate([size, protective[safe_rows, safe_cols]])
        strong = np.concatenate([strong, np.ones(len(safe_rows), dtype=bool)])
    values = x[rows, cols]
    contexts = _contexts(frame, x, np.unique(rows))
    gap_module = frame.gap_module
    base, base_4 = baseline.tolist(), rounded(baseline)
    out: list[list[Reason]] = [[] for _ in range(x.shape[0])]
    for i, j, is_strength, value, value_4, size_4 in zip(
        rows.tolist(),
        cols.tolist(),
        strong.tolist(),
        values.tolist(),
        rounded(values),
        rounded(size),
        strict=True,
    ):
        name = features[j]
        wording = STRENGTHS if is_strength else SENTENCES
        sentence = wording[name](value, base[j], contexts[i], gap_module[i])
        out[i].append(
            Reason.model_validate(
                {
                    "signal": name,
                    "value": value_4,
                    "baseline": base_4[j],
                    "effect": size_4,
                    "sentence": sentence,
                },
            )
        )
    return out


def _contexts(frame: SignalFrame, x: np.ndarray, rows: np.ndarray) -> dict[int, dict[str, float]]:
    """The numbers sentences may quote, for the given account rows.

    The frame's context, then the `QUOTED_SIGNALS` (which win over a context entry of the
    same name).
    """
    names = [*frame.context, *QUOTED_SIGNALS]
    columns = [SIGNAL_NAMES.index(name) for name in QUOTED_SIGNALS]
    table = np.column_stack(
        [
            *(np.asarray(values, dtype=float)[rows] for values in frame.context.values()),
            x[np.ix_(rows, columns)],
        ]
    )
    return {
        i: dict(zip(names, numbers, strict=True))
        for i, numbers in zip(rows.tolist(), table.tolist(), strict=True)
    }


def rounded(values: np.ndarray, digits: int = 4) -> list[float]:
    """`[round(v, digits) for v in values]` for a 1-d array, vectorised, with the same floats.

    `rint(v * 10**digits) / 10**digits` picks the same decimal as Python's `round` unless the
    product, itself rounded, lands within a few ulps of a half-way point (or is too large to
    have a fraction); those entries are rounded by Python.
    """
    values = np.asarray(values, dtype=float)
    scale = 10.0**digits
    with np.errstate(over="ignore", invalid="ignore"):  # NaN stays NaN; inf goes to `round`
        scaled = values * scale
        out: list[float] = (np.rint(scaled) / scale).tolist()
        size = np.abs(scaled)
        half = np.abs(scaled - np.floor(scaled) - 0.5)
        unsure = (half <= 4 * np.spacing(size)) | (size >= 2.0**50)
    for i in np.flatnonzero(unsure).tolist():
        out[i] = round(float(values[i]), digits)
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
        return _action(action, [r.sentence for r in risks])
    strengths = [r.sentence for r in reasons]
    if expansion >= 0.5 and tier == "healthy":
        evidence = [f"Expansion propensity {expansion:.0%} with healthy engagement", *strengths]
        return _action("Introduce an upgrade or more seats", evidence)
    return _action("No action needed: keep the usual cadence", strengths)


def _action(action: str, evidence: list[str]) -> NextBestAction:
    return NextBestAction(action=action, evidence=evidence)


DRIVER_SIGNALS: dict[str, frozenset[str]] = {
    "falling_logins": frozenset(
        {
            "login_trend",
            "login_trend_7d",
            "login_change_90d",
            "logins_per_seat_14d",
            "days_since_last_activity",
        }
    ),
    "module_drop": frozenset(
        {"module_gap_days", "module_gap_surprise", "feature_breadth", "feature_depth"}
    ),
    "seat_contraction": frozenset(
        {
            "seat_adoption",
            "people_trend",
            "people_trend_7d",
            "people_change_90d",
            "seat_change_60d",
            "regulars_gone",
        }
    ),
    "unresolved_tickets": frozenset(
        {
            "tickets_30d",
            "high_priority_share",
            "open_tickets",
            "ticket_backlog_age_days",
            "ticket_surge",
            "open_escalation",
            "csat_30d",
            "csat_trend",
        }
    ),
    "payment_failures": frozenset({"payment_failures_60d"}),
    "champion_leaving": frozenset(
        {"champion_inactive_days", "key_person_gap_days", "key_person_surprise", "regulars_gone"}
    ),
}
"""The reasons that name each kind of churn driver (used to check reasons against a truth)."""
