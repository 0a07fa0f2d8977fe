"""Per-account daily activity: what one event adds to its account's day, and reading it back.

A day item (``PK=ACCOUNT#{id}``, ``SK=DAY#{YYYY-MM-DD}``, the UTC day of `occurred_at`) holds
counters and sets that only grow, written with DynamoDB ``ADD``: additions commute, so the
order in which events arrive does not matter. Gauges are stored as one attribute per
observation (``seats#{occurred_at}#{event_id}``) and read as the latest one, which commutes
too. Modules and features are top-level attributes (``mod#{name}``, ``feat#{name}``) so
``ADD`` works on a day that does not exist yet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from intercept.events import CanonicalEvent
from intercept.profiles.codec import decimal, iso
from intercept.records import DAILY_COUNTERS, DailyActivity

COUNTERS: tuple[str, ...] = DAILY_COUNTERS
# Event kinds that are product usage: they count as events and make their person active.
PRODUCT_KINDS = frozenset({"track", "page", "screen"})
MODULE_PREFIX = "mod#"
FEATURE_PREFIX = "feat#"
SEATS_PREFIX = "seats#"
HIGH_PRIORITIES = frozenset({"high", "urgent"})
NAME_LIMIT = 100


@dataclass
class DayDelta:
    """What a group of events adds to one account-day."""

    counters: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    modules: Counter[str] = field(default_factory=Counter)
    features: Counter[str] = field(default_factory=Counter)
    people: set[str] = field(default_factory=set)
    onboarding_steps: set[str] = field(default_factory=set)
    seats: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the delta changes nothing (no counter, set or observation)."""
        numbers, sets, observations = self.attributes()
        return not (numbers or sets or observations)

    def add(self, other: DayDelta) -> None:
        for name, amount in other.counters.items():
            self.counters[name] += amount
        self.modules.update(other.modules)
        self.features.update(other.features)
        self.people |= other.people
        self.onboarding_steps |= other.onboarding_steps
        self.seats.update(other.seats)

    def attributes(self) -> tuple[dict[str, Decimal], dict[str, set[str]], dict[str, int]]:
        """Numbers to ADD, sets to ADD and observations to SET, by attribute name."""
        numbers = {name: value for name, value in self.counters.items() if value}
        numbers.update({MODULE_PREFIX + m: Decimal(n) for m, n in self.modules.items()})
        numbers.update({FEATURE_PREFIX + f: Decimal(n) for f, n in self.features.items()})
        sets = {"people": set(self.people), "onboarding_steps": set(self.onboarding_steps)}
        sets = {name: values for name, values in sets.items() if values}
        return numbers, sets, {SEATS_PREFIX + obs: seats for obs, seats in self.seats.items()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DayDelta:
        """The whole content of a stored day, as a delta (used when accounts merge)."""
        delta = cls()
        for name, value in item.items():
            if name in COUNTERS:
                delta.counters[name] = decimal(value)
            elif name.startswith(MODULE_PREFIX):
                delta.modules[name[len(MODULE_PREFIX) :]] = int(value)
            elif name.startswith(FEATURE_PREFIX):
                delta.features[name[len(FEATURE_PREFIX) :]] = int(value)
            elif name.startswith(SEATS_PREFIX):
                delta.seats[name[len(SEATS_PREFIX) :]] = int(value)
        delta.people = set(item.get("people", set()))
        delta.onboarding_steps = set(item.get("onboarding_steps", set()))
        return delta


@dataclass
class StoredDays:
    """Day items of many accounts as flat columns, read straight from DynamoDB's wire format.

    Scoring reads tens of items per account; building a `DailyActivity` per item (decode,
    validate) costs more than everything scoring does afterwards, so the scoring path folds
    the typed items (``{"N": "3"}``, ``{"SS": [...]}``) into these plain lists instead and
    numpy takes over from there. One row per item: `record_account` indexes `account_ids`,
    `record_day` is the day's proleptic ordinal, `values` holds the counters in `COUNTERS`
    order (0 when absent), row after row in one flat list, and `seats` the day's latest seat
    observation (None when none).
    Modules, people and onboarding steps are (row, name) pairs.
    """

    account_ids: list[str] = field(default_factory=list)
    record_account: list[int] = field(default_factory=list)
    record_day: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    seats: list[float | None] = field(default_factory=list)
    module_record: list[int] = field(default_factory=list)
    module_name: list[str] = field(default_factory=list)
    module_count: list[float] = field(default_factory=list)
    person_record: list[int] = field(default_factory=list)
    person_id: list[str] = field(default_factory=list)
    step_record: list[int] = field(default_factory=list)
    step_id: list[str] = field(default_factory=list)
    _ordinals: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def add_account(self, account_id: str, typed_items: Iterable[dict[str, Any]]) -> None:
        """Append one account's day items (as the low-level client returns them)."""
        index = len(self.account_ids)
        self.account_ids.append(account_id)
        column = _COUNTER_COLUMN
        zeros = [0.0] * len(COUNTERS)
        ordinals = self._ordinals
        for item in typed_items:
            row = len(self.record_day)
            values = zeros.copy()
            latest: tuple[str, float] | None = None
            for name, typed in item.items():
                j = column.get(name)
                if j is not None:
                    values[j] = float(typed["N"])
                elif name == "people":
                    members = typed["SS"]
                    self.person_record.extend([row] * len(members))
                    self.person_id.extend(members)
                elif name.startswith(MODULE_PREFIX):
                    self.module_record.append(row)
                    self.module_name.append(name[len(MODULE_PREFIX) :])
                    self.module_count.append(float(typed["N"]))
                elif name.startswith(SEATS_PREFIX):
                    if latest is None or name > latest[0]:
                        latest = (name, float(typed["N"]))
                elif name == "onboarding_steps":
                    steps = typed["SS"]
                    self.step_record.extend([row] * len(steps))
                    self.step_id.extend(steps)
            self.record_account.append(index)
            key = item["SK"]["S"]
            day = ordinals.get(key)
            if day is None:
                day = ordinals[key] = date.fromisoformat(key.removeprefix("DAY#")).toordinal()
            self.record_day.append(day)
            self.values.extend(values)
            self.seats.append(None if latest is None else latest[1])


_COUNTER_COLUMN = {name: j for j, name in enumerate(COUNTERS)}


def event_day(event: CanonicalEvent) -> str:
    return event.occurred_at.date().isoformat()


def event_delta(event: CanonicalEvent, person_id: str | None) -> DayDelta:
    """What one event adds to its account's day (``person_id`` is the resolved person).

    Only product usage (track, page, screen) counts as an event and makes its person active
    that day; support and billing events add to their own counters, and identify, group or
    CRM events add nothing to the day.
    """
    delta = DayDelta()
    if event.kind in PRODUCT_KINDS:
        delta.counters["events"] += 1
        if person_id:
            delta.people.add(person_id)
    _usage(event, delta)
    _support(event, delta)
    _billing(event, delta)
    return delta


def _usage(event: CanonicalEvent, delta: DayDelta) -> None:
    usage = event.usage
    if usage is None:
        return
    if usage.login:
        delta.counters["logins"] += 1
    if usage.session_seconds is not None:
        delta.counters["sessions"] += 1
        delta.counters["session_seconds"] += decimal(usage.session_seconds)
    if usage.module:
        delta.modules[usage.module[:NAME_LIMIT]] += 1
    if usage.feature:
        delta.features[usage.feature[:NAME_LIMIT]] += 1
    if usage.units is not None:
        delta.counters["usage_units"] += decimal(usage.units)
    if usage.onboarding_step:
        delta.onboarding_steps.add(usage.onboarding_step[:NAME_LIMIT])


def _support(event: CanonicalEvent, delta: DayDelta) -> None:
    support = event.support
    if support is None:
        return
    if support.opened:
        delta.counters["tickets_opened"] += 1
        if (support.priority or "").lower() in HIGH_PRIORITIES:
            delta.counters["tickets_opened_high"] += 1
    if support.solved:
        delta.counters["tickets_solved"] += 1
    if support.escalated:
        delta.counters["escalations"] += 1
    satisfaction = (support.satisfaction or "").lower()
    if satisfaction == "good":
        delta.counters["satisfaction_good"] += 1
    elif satisfaction == "bad":
        delta.counters["satisfaction_bad"] += 1


def _billing(event: CanonicalEvent, delta: DayDelta) -> None:
    billing = event.billing
    if billing is None:
        return
    if billing.payment_failed:
        delta.counters["payment_failures"] += 1
    if billing.payment_succeeded:
        delta.counters["payments"] += 1
    if billing.seats is not None:
        delta.seats[f"{iso(event.occurred_at)}#{event.event_id}"] = int(billing.seats)


def daily_activity(account_id: str, item: dict[str, Any]) -> DailyActivity:
    """A stored day item as the record the scoring stage reads."""
    stored = DayDelta.from_item(item)
    counters = {name: stored.counters.get(name, Decimal(0)) for name in COUNTERS}
    seats = stored.seats[max(stored.seats)] if stored.seats else None
    return DailyActivity(
        account_id=account_id,
        day=date.fromisoformat(str(item["SK"]).removeprefix("DAY#")),
        events=int(counters["events"]),
        people=stored.people,
        logins=int(counters["logins"]),
        sessions=int(counters["sessions"]),
        session_seconds=float(counters["session_seconds"]),
        modules=dict(stored.modules),
        usage_units=float(counters["usage_units"]),
        onboarding_steps=stored.onboarding_steps,
        tickets_opened=int(counters["tickets_opened"]),
        tickets_opened_high=int(counters["tickets_opened_high"]),
        tickets_solved=int(counters["tickets_solved"]),
        escalations=int(counters["escalations"]),
        satisfaction_good=int(counters["satisfaction_good"]),
        satisfaction_bad=int(counters["satisfaction_bad"]),
        payment_failures=int(counters["payment_failures"]),
        payments=int(counters["payments"]),
        seats=seats,
    )
