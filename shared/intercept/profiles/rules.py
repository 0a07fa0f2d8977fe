"""Identity and trait rules: what may identify someone, and which source wins a trait.

The defaults below are what a B2B SaaS usually wants. A deployment overrides any of them with
the ``PROFILE_RULES`` setting, a JSON object whose keys are the field names of `ProfileRules`
(lists replace the defaults unless the key starts with ``extra_``, which adds to them)::

    {"extra_blocked_values": ["demo"], "max_people_per_identifier": 5,
     "trait_priority": {"owner": {"salesforce": 40}}}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from intercept.errors import ConfigurationError

# Values that senders put in identifier fields when they have nothing real to say.
DEFAULT_BLOCKED_VALUES: frozenset[str] = frozenset(
    {
        "",
        "0",
        "-1",
        "null",
        "nil",
        "none",
        "undefined",
        "unknown",
        "n/a",
        "na",
        "nan",
        "true",
        "false",
        "[object object]",
        "anonymous",
        "guest",
        "test",
        "test@test.com",
        "test@example.com",
        "user@example.com",
        "email@example.com",
        "noemail@noemail.com",
    }
)

# Local parts of shared mailboxes: many people use them, so they identify nobody.
DEFAULT_SHARED_MAILBOXES: frozenset[str] = frozenset(
    {
        "abuse",
        "accounts",
        "admin",
        "billing",
        "contact",
        "do-not-reply",
        "donotreply",
        "hello",
        "help",
        "info",
        "mailer-daemon",
        "marketing",
        "no-reply",
        "noreply",
        "notifications",
        "office",
        "postmaster",
        "root",
        "sales",
        "security",
        "support",
        "team",
        "webmaster",
    }
)

# Domains anyone can get an address at: they never say which company someone works for.
DEFAULT_FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "126.com",
        "163.com",
        "aol.com",
        "att.net",
        "btinternet.com",
        "comcast.net",
        "example.com",
        "example.org",
        "fastmail.com",
        "gmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "test.com",
        "tutanota.com",
        "verizon.net",
        "web.de",
        "yahoo.co.uk",
        "yahoo.com",
        "yandex.ru",
        "zoho.com",
    }
)

# Per trait, the sources that outrank the rest; any source not listed has priority 0, and
# between equal priorities the most recent `occurred_at` wins.
BILLING_FIRST = {"stripe": 30}
CRM_FIRST = {"hubspot": 30}
DEFAULT_TRAIT_PRIORITY: dict[str, dict[str, int]] = {
    "plan": BILLING_FIRST,
    "mrr": BILLING_FIRST,
    "arr": {"stripe": 30, "hubspot": 20},
    "seats": BILLING_FIRST,
    "status": BILLING_FIRST,
    "canceled_at": BILLING_FIRST,
    "currency": BILLING_FIRST,
    "owner": CRM_FIRST,
    "account_executive": CRM_FIRST,
    "lifecycle_stage": CRM_FIRST,
    "renewal_date": CRM_FIRST,
}

DEFAULT_MAX_PEOPLE_PER_IDENTIFIER = 10

# At most one identifier of these kinds per person / per account: a second one never merges.
PERSON_UNIQUE_KIND = "user_id"
ACCOUNT_UNIQUE_KIND = "group_id"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class ProfileRules:
    """The knobs of identity resolution and trait precedence.

    Parameters
    ----------
    blocked_values : values (lower-cased) that never identify anyone.
    shared_mailboxes : local parts of e-mail addresses that identify nobody (``support@``).
    free_mail_domains : e-mail domains that never attach a person to an account.
    max_people_per_identifier : an identifier already linked to more people than this is no
        longer used to merge anyone (a kiosk's anonymous id, a shared login).
    attach_by_email_domain : attach people to the account whose domain matches their e-mail
        (never for free-mail domains). It never creates an account.
    trait_priority : per trait, per source, an integer; higher wins before recency counts.
    """

    blocked_values: frozenset[str] = DEFAULT_BLOCKED_VALUES
    shared_mailboxes: frozenset[str] = DEFAULT_SHARED_MAILBOXES
    free_mail_domains: frozenset[str] = DEFAULT_FREE_MAIL_DOMAINS
    max_people_per_identifier: int = DEFAULT_MAX_PEOPLE_PER_IDENTIFIER
    attach_by_email_domain: bool = True
    trait_priority: dict[str, dict[str, int]] = field(
        default_factory=lambda: dict(DEFAULT_TRAIT_PRIORITY)
    )

    def priority(self, trait: str, source: str) -> int:
        return self.trait_priority.get(trait, {}).get(source.lower(), 0)

    def normalize_person_identifier(self, kind: str, value: Any) -> str | None:
        """The stored form of a person identifier, or None when it must not identify anyone."""
        text = str(value).strip() if value is not None else ""
        if kind == "email":
            text = text.lower()
            if not _EMAIL.match(text) or text.split("@", 1)[0] in self.shared_mailboxes:
                return None
        if text.lower() in self.blocked_values:
            return None
        return text

    def normalize_account_identifier(self, kind: str, value: Any) -> str | None:
        """The stored form of an account identifier, or None when it must not be used."""
        text = str(value).strip() if value is not None else ""
        if kind == "domain":
            domain = normalize_domain(text)
            if domain is None or domain in self.free_mail_domains:
                return None
            return domain
        if text.lower() in self.blocked_values:
            return None
        return text

    def company_domain(self, email: str) -> str | None:
        """The domain of a (normalised) e-mail when it may attach its owner to an account."""
        if not self.attach_by_email_domain:
            return None
        domain = normalize_domain(email.rpartition("@")[2])
        if domain is None or domain in self.free_mail_domains:
            return None
        return domain


def normalize_domain(text: str) -> str | None:
    """``https://www.Acme.io/pricing`` -> ``acme.io``; None when it is not a domain."""
    raw = text.strip().lower()
    if not raw:
        return None
    host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
    host = host.removeprefix("www.").rstrip(".")
    return host if _DOMAIN.match(host) else None


def rules_from_json(text: str) -> ProfileRules:
    """Apply a JSON override (see the module docstring) to the default rules."""
    if not text.strip():
        return ProfileRules()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"PROFILE_RULES is not valid JSON ({exc.msg})") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError("PROFILE_RULES must be a JSON object of rule names to values")
    names = {f.name for f in fields(ProfileRules)}
    base = ProfileRules()
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        target = name.removeprefix("extra_")
        if target not in names:
            raise ConfigurationError(
                f"PROFILE_RULES has unknown rule {name!r}; accepted: {sorted(names)} "
                "(list rules also as extra_<name>)"
            )
        current = getattr(base, target)
        if isinstance(current, frozenset):
            items = frozenset(str(v).lower() for v in value)
            changes[target] = current | items if name.startswith("extra_") else items
        elif target == "trait_priority":
            merged = dict(current)
            merged.update({k: {s.lower(): int(p) for s, p in v.items()} for k, v in value.items()})
            changes[target] = merged
        else:
            changes[target] = type(current)(value)
    return replace(base, **changes)
