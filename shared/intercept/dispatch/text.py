"""Wording shared by every channel: titles, money, percentages, reasons, role names."""

from __future__ import annotations

import hashlib

from intercept.records import Action, Reason

TITLES = {
    "escalation": "Escalation: churn risk",
    "alert": "Churn risk",
    "expansion": "Expansion signal",
    "marketing": "Re-engagement",
}
ROLE_LABELS = {
    "owner": "Owner CSM",
    "account_executive": "Account executive",
    "executive": "Escalation to",
    "customer_contact": "Customer contact",
}
TIER_LABELS = {"healthy": "healthy", "watch": "watch", "at_risk": "at risk", "critical": "critical"}


def account_label(action: Action) -> str:
    return action.account_name or action.account_id


def title(action: Action, category: str | None) -> str:
    """E.g. ``Churn risk: Acme Corp``; the playbook's category picks the words."""
    return f"{TITLES.get(category or '', 'Action')}: {account_label(action)}"


def money(value: float | None) -> str:
    """``$240,000``; ``unknown`` when the ARR is not known."""
    return "unknown" if value is None else f"${value:,.0f}"


def percent(probability: float) -> str:
    return f"{probability * 100:.0f}%"


def number(value: float | None) -> str:
    """Compact numbers for reasons: 3, 8.4, 0.25, 1,200."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"


def reason_numbers(reason: Reason) -> str:
    """``logins_per_week 3 vs 8.4 usual`` (the baseline left out when unknown)."""
    text = f"{reason.signal} {number(reason.value)}"
    return text if reason.baseline is None else f"{text} vs {number(reason.baseline)} usual"


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def summary(action: Action, category: str | None) -> str:
    """One line a notification preview can show."""
    arr = "" if action.arr is None else f", {money(action.arr)} ARR"
    return (
        f"{title(action, category)} ({percent(action.churn_30)} churn risk in 30 days{arr}, "
        f"health {action.health}/100). Next: {action.recommended_action}"
    )


def fingerprint(address: str) -> str:
    """A short stable hash of an address, for logs that must not show it."""
    return (
        hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12] if address else ""
    )
