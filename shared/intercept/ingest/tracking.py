"""The tracking plan: what product events and account traits mean (docs/tracking-plan.md).

Product usage arrives as Segment track / page / screen calls; account facts arrive as group
traits (or CRM properties). This module turns both into the typed parts of the canonical
event. Values of the wrong type are dropped with a warning, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from intercept.events import Usage
from intercept.ingest.timeparse import TimestampError, isoformat, parse_any, parse_date

LOGIN_EVENTS = frozenset({"signed in", "logged in", "login", "user logged in"})
SESSION_ENDED = "session ended"
ONBOARDING_STEP = "onboarding step completed"

# Group-trait keys that link an account to its id in another tool.
LINK_KEYS = {
    "stripe_customer_id": "stripe_customer",
    "hubspot_company_id": "hubspot_company",
    "zendesk_organization_id": "zendesk_organization",
    "intercom_company_id": "intercom_company",
}
TEXT_TRAITS = frozenset({"name", "plan", "owner", "account_executive", "lifecycle_stage"})
AMOUNT_TRAITS = frozenset({"mrr", "arr", "usage_cap"})
_MAX_TEXT = 512
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric text; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            result = float(value)
        elif isinstance(value, str):
            result = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def text(value: Any, limit: int = _MAX_TEXT) -> str | None:
    """A non-empty string (numbers become text); ``None`` for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def email(value: Any) -> str | None:
    """A plausible e-mail address, lower-cased; ``None`` when it is not one."""
    candidate = text(value, 254)
    if candidate is None or " " in candidate or candidate.count("@") != 1:
        return None
    local, domain = candidate.split("@")
    if not local or "." not in domain:
        return None
    return candidate.lower()


def domain(value: Any) -> str | None:
    """A bare host name from a domain or website URL ('https://www.acme.io/x' -> 'acme.io')."""
    candidate = text(value, 2048)
    if candidate is None:
        return None
    host = candidate.lower().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    host = host.removeprefix("www.")
    return host if _DOMAIN.match(host) else None


def usage_from(
    name: str, properties: Mapping[str, Any], *, category: str | None = None
) -> tuple[Usage | None, list[tuple[str, str]]]:
    """Usage facts of one track / page / screen call, and (field, reason) warnings."""
    warnings: list[tuple[str, str]] = []
    lowered = name.strip().lower()
    values: dict[str, Any] = {}
    if lowered in LOGIN_EVENTS:
        values["login"] = True
    module = text(properties.get("module")) or text(properties.get("category")) or text(category)
    if module:
        values["module"] = module
    feature = text(properties.get("feature"))
    if feature:
        values["feature"] = feature
    if lowered == SESSION_ENDED:
        _non_negative(
            properties, ("session_seconds", "duration"), "session_seconds", values, warnings
        )
    if lowered == ONBOARDING_STEP:
        step = text(properties.get("step"))
        if step:
            values["onboarding_step"] = step
        else:
            warnings.append(("properties.step", "onboarding step needs properties.step (text)"))
    if "units" in properties:
        _non_negative(properties, ("units",), "units", values, warnings)
    return (Usage(**values) if values else None), warnings


def _non_negative(
    properties: Mapping[str, Any],
    keys: tuple[str, ...],
    target: str,
    values: dict[str, Any],
    warnings: list[tuple[str, str]],
) -> None:
    for key in keys:
        if key not in properties:
            continue
        amount = number(properties[key])
        if amount is None or amount < 0:
            warnings.append(
                (f"properties.{key}", f"{key} must be a number >= 0; the value was ignored")
            )
            return
        values[target] = amount
        return


def account_trait(key: str, value: Any) -> tuple[Any, str | None]:
    """Normalise one account trait of the tracking plan: (value, warning).

    Known keys are typed (amounts as floats >= 0, seats as an int, dates as ISO text);
    others pass through unchanged. A value of the wrong type gives ``(None, reason)``.
    """
    if key in AMOUNT_TRAITS:
        amount = number(value)
        if amount is None or amount < 0:
            return None, f"{key} must be a number >= 0"
        return amount, None
    if key == "seats":
        amount = number(value)
        if amount is None or amount < 0 or amount != int(amount):
            return None, "seats must be a whole number >= 0"
        return int(amount), None
    if key == "renewal_date":
        try:
            return parse_date(value).isoformat(), None
        except TimestampError:
            return None, "renewal_date must be an ISO date, e.g. 2026-03-31"
    if key == "created_at":
        try:
            return isoformat(parse_any(value)), None
        except TimestampError:
            return None, "created_at must be an ISO-8601 timestamp"
    if key in ("domain", "website"):
        host = domain(value)
        return (host, None) if host else (None, f"{key} must be a domain or a website URL")
    if key in TEXT_TRAITS:
        shown = text(value)
        return (shown, None) if shown else (None, f"{key} must be text")
    return value, None


def account_from_traits(
    traits: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, Any], list[tuple[str, str]]]:
    """Account identifiers, normalised traits and warnings from group-style traits.

    The link keys (``stripe_customer_id`` ...) stay in the traits and are copied into the
    account identifiers; ``website`` also fills ``domain`` when that is absent.
    """
    account: dict[str, str] = {}
    normalised: dict[str, Any] = {}
    warnings: list[tuple[str, str]] = []
    for key, value in traits.items():
        if key in LINK_KEYS:
            link = text(value)
            if link:
                account[LINK_KEYS[key]] = link
                normalised[key] = link
            continue
        shown, problem = account_trait(key, value)
        if problem:
            warnings.append((f"traits.{key}", f"{problem}; the trait was ignored"))
            continue
        normalised[key] = shown
    if "website" in normalised and "domain" not in normalised:
        normalised["domain"] = normalised["website"]
    return account, normalised, warnings
