"""The signal catalog and its point-in-time computation, vectorised over accounts.

A signal as of day T is computed from the daily aggregates of days T-89 .. T and the account's
own traits; nothing dated after T is read. Records are first folded into an `ActivityCube`
(dense account x day arrays), then every signal is a few numpy reductions over a window of
that cube, so scoring ten thousand accounts costs about as much as scoring ten.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from intercept.profiles.activity import StoredDays
from intercept.records import DAILY_COUNTERS, Account, DailyActivity

LOOKBACK_DAYS = 90
"""Days of daily activity (ending with the as-of day) that every signal needs, at most."""

MAX_MODULES = 32
"""Distinct module names kept per computation; rarer names are ignored."""

Direction = Literal["higher_is_riskier", "lower_is_riskier", "context"]


@dataclass(frozen=True)
class Signal:
    """One entry of the catalog: what it measures, over which window, in which unit."""

    name: str
    definition: str
    window: str
    unit: str
    direction: Direction
    log_scale: bool = False


CATALOG: tuple[Signal, ...] = (
    Signal(
        "login_trend",
        "relative change of logins: (last 14 days - 14 days before) / 14 days before",
        "T-13..T vs T-27..T-14",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "login_change_90d",
        "relative change of daily logins: last 14 days vs the 76 days before",
        "T-13..T vs T-89..T-14",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "login_trend_7d",
        "relative change of logins: last 7 days vs the account's usual week (daily mean of "
        "T-89..T-7 x 7)",
        "T-6..T vs T-89..T-7",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "logins_per_seat_14d",
        "logins in the last 14 days per seat",
        "T-13..T",
        "logins per seat",
        "lower_is_riskier",
        log_scale=True,
    ),
    Signal(
        "days_since_last_activity",
        "days since the last day with a login, session or module use (capped at 90)",
        "T-89..T",
        "days",
        "higher_is_riskier",
    ),
    Signal(
        "feature_breadth",
        "distinct modules used",
        "T-29..T",
        "modules",
        "lower_is_riskier",
    ),
    Signal(
        "feature_depth",
        "share of module use that is in the core modules (the ones most accounts use)",
        "T-29..T",
        "share, 0..1",
        "lower_is_riskier",
    ),
    Signal(
        "module_gap_days",
        "current gap of the module whose gap is most unusual, among modules used on 4 or more "
        "days of T-89..T-14",
        "T-89..T",
        "days",
        "higher_is_riskier",
    ),
    Signal(
        "module_gap_surprise",
        "how unusual that gap is: gap x -log(1 - daily use rate), the rate measured over "
        "T-89..T-14",
        "T-89..T",
        "nats",
        "higher_is_riskier",
        log_scale=True,
    ),
    Signal(
        "session_trend",
        "relative change of the mean session length, last 14 days vs the 14 before",
        "T-13..T vs T-27..T-14",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "seat_adoption",
        "distinct active people / seats",
        "T-29..T",
        "share, 0..1.5",
        "lower_is_riskier",
    ),
    Signal(
        "people_trend",
        "relative change of distinct active people, last 14 days vs the 14 before",
        "T-13..T vs T-27..T-14",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "people_trend_7d",
        "relative change of daily active people: last 7 days vs the account's usual week "
        "(daily mean of T-89..T-7 x 7)",
        "T-6..T vs T-89..T-7",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "people_change_90d",
        "relative change of daily active people: last 14 days vs the 76 days before",
        "T-13..T vs T-89..T-14",
        "ratio, -1..3",
        "lower_is_riskier",
    ),
    Signal(
        "seat_change_60d",
        "relative change of paid seats over 60 days",
        "T-60..T",
        "ratio",
        "lower_is_riskier",
    ),
    Signal(
        "champion_inactive_days",
        "days since the most active person of T-73..T-14 was last active, when that is 7 or "
        "more (0 while the champion is active)",
        "T-73..T",
        "days",
        "higher_is_riskier",
    ),
    Signal(
        "key_person_gap_days",
        "days since the regular user whose absence is most unusual was last active (regular: "
        "active on 4 or more days of T-89..T-14)",
        "T-89..T",
        "days",
        "higher_is_riskier",
    ),
    Signal(
        "key_person_surprise",
        "how unusual that absence is: gap x -log(1 - the user's daily activity rate), the rate "
        "measured from the user's first day in T-89..T-14",
        "T-89..T",
        "nats",
        "higher_is_riskier",
        log_scale=True,
    ),
    Signal(
        "regulars_gone",
        "regular users (active on a fifth or more of their days in T-89..T-14) not seen for 14 "
        "days or more",
        "T-89..T",
        "people",
        "higher_is_riskier",
    ),
    Signal(
        "onboarding_completion",
        "share of the onboarding steps completed; missing when onboarding predates the data",
        "T-89..T",
        "share, 0..1",
        "lower_is_riskier",
    ),
    Signal(
        "tickets_30d",
        "support tickets opened",
        "T-29..T",
        "tickets",
        "higher_is_riskier",
        log_scale=True,
    ),
    Signal(
        "ticket_surge",
        "tickets opened in the last 30 days / the number the 60 days before would predict "
        "(both plus 0.5)",
        "T-29..T vs T-89..T-30",
        "ratio",
        "higher_is_riskier",
        log_scale=True,
    ),
    Signal(
        "high_priority_share",
        "share of the tickets opened that were high or urgent priority",
        "T-29..T",
        "share, 0..1",
        "higher_is_riskier",
    ),
    Signal(
        "open_tickets",
        "tickets opened minus tickets solved (not below 0)",
        "T-89..T",
        "tickets",
        "higher_is_riskier",
        log_scale=True,
    ),
    Signal(
        "ticket_backlog_age_days",
        "age of the oldest open ticket, taking tickets as solved in the order they were opened "
        "(0 without open tickets)",
        "T-89..T",
        "days",
        "higher_is_riskier",
    ),
    Signal(
        "open_escalation",
        "1 when a ticket was escalated in the last 30 days and tickets are still open",
        "T-29..T",
        "flag",
        "higher_is_riskier",
    ),
    Signal(
        "csat_30d",
        "good satisfaction ratings / all ratings; missing without ratings",
        "T-29..T",
        "share, 0..1",
        "lower_is_riskier",
    ),
    Signal(
        "csat_trend",
        "satisfaction of the last 30 days minus that of the 60 days before",
        "T-29..T vs T-89..T-30",
        "share points",
        "lower_is_riskier",
    ),
    Signal(
        "payment_failures_60d",
        "failed payment attempts",
        "T-59..T",
        "attempts",
        "higher_is_riskier",
    ),
    Signal(
        "usage_cap_proximity",
        "mean daily metered units / the plan's daily usage cap",
        "T-6..T",
        "share of cap",
        "context",
    ),
    Signal(
        "days_to_renewal",
        "days until the next renewal (annual term from the renewal date)",
        "as of T",
        "days",
        "lower_is_riskier",
    ),
    Signal(
        "tenure_days",
        "days since the account was first seen",
        "as of T",
        "days",
        "lower_is_riskier",
        log_scale=True,
    ),
    Signal(
        "arr",
        "annual recurring revenue (MRR x 12 when only MRR is known)",
        "as of T",
        "currency units",
        "context",
        log_scale=True,
    ),
)
"""Numeric signals. `plan` is categorical and enters models as one indicator per plan."""

SIGNAL_NAMES: tuple[str, ...] = tuple(s.name for s in CATALOG)
SIGNALS: dict[str, Signal] = {s.name: s for s in CATALOG}

_COUNTERS = DAILY_COUNTERS
_COUNTER_GETTER = itemgetter(*_COUNTERS)


@dataclass(frozen=True)
class SignalSpec:
    """What a trained model fixes about signal computation (core modules, onboarding steps)."""

    core_modules: tuple[str, ...] = ()
    onboarding_steps: tuple[str, ...] = ()


@dataclass
class ActivityCube:
    """Daily aggregates as dense arrays: accounts on axis 0, days (from `start`) on axis 1.

    `counters` holds the `DailyActivity` counters plus `people_count` (people active that
    day) and `module_uses` (uses of any module that day). `people` and `steps` are sparse:
    parallel arrays of (account, day, id) triples.
    """

    account_ids: list[str]
    start: date
    n_days: int
    counters: dict[str, np.ndarray]
    seats: np.ndarray
    modules: list[str]
    module_use: np.ndarray
    people_account: np.ndarray
    people_day: np.ndarray
    people_id: np.ndarray
    steps: list[str]
    step_account: np.ndarray
    step_day: np.ndarray
    step_id: np.ndarray

    def day_index(self, day: date) -> int:
        return day.toordinal() - self.start.toordinal()


@dataclass
class AccountFrame:
    """The account traits the signals read, as arrays aligned with `account_ids`."""

    account_ids: list[str]
    plan: list[str]
    arr: np.ndarray
    seats: np.ndarray
    usage_cap: np.ndarray
    renewal: np.ndarray
    first_seen: np.ndarray
    canceled: np.ndarray


@dataclass
class SignalFrame:
    """Signals of many accounts as of one day.

    `values` has shape (n_accounts, len(SIGNAL_NAMES)); missing values are NaN. `context`
    holds the raw counts that reason sentences quote; `gap_module` names the module behind
    `module_gap_days`.
    """

    account_ids: list[str]
    as_of: date
    values: np.ndarray
    plan: list[str]
    gap_module: list[str]
    context: dict[str, np.ndarray] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, SIGNAL_NAMES.index(name)]


# ---------------------------------------------------------------- records -> arrays


def _ordinal(value: date | datetime | str | None) -> float:
    if value is None or value == "":
        return math.nan
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return math.nan
    return float(value.toordinal())  # a datetime's ordinal is its date's


def account_frame(accounts: Sequence[Account]) -> AccountFrame:
    """Fold account records into aligned arrays (dates as proleptic ordinals, NaN if unknown).

    `first_seen` is the earlier of the account's `first_seen` and its `created_at` trait.
    """
    # Limitation: plan, ARR, usage cap and renewal date are the account's current values; for
    # training rows at past cutoffs a later change leaks backwards (only seats are per day).
    n = len(accounts)
    numbers = np.full((n, 6), np.nan)
    plans: list[str] = []
    nan = math.nan
    for i, a in enumerate(accounts):
        arr = a.arr if a.arr is not None else (a.mrr * 12 if a.mrr is not None else nan)
        seen = _ordinal(a.first_seen)
        created = a.traits.get("created_at")
        if created is not None:
            created_day = _ordinal(created)
            if not math.isnan(created_day) and not created_day >= seen:
                seen = created_day
        renewal = a.renewal_date
        canceled = a.canceled_at
        numbers[i] = (
            arr,
            nan if a.seats is None else a.seats,
            nan if a.usage_cap is None else a.usage_cap,
            nan if renewal is None else renewal.toordinal(),
            seen,
            nan if canceled is None else canceled.toordinal(),
        )
        plans.append((a.plan or "").strip().lower())
    return AccountFrame(
        account_ids=[a.account_id for a in accounts],
        plan=plans,
        arr=numbers[:, 0].copy(),
        seats=numbers[:, 1].copy(),
        usage_cap=numbers[:, 2].copy(),
        renewal=numbers[:, 3].copy(),
        first_seen=numbers[:, 4].copy(),
        canceled=numbers[:, 5].copy(),
    )


def cube_from_records(
    account_ids: Sequence[str],
    activity_by_account: Mapping[str, Iterable[DailyActivity]],
    start: date,
    n_days: int,
) -> ActivityCube:
    """Fold `DailyActivity` records of days start .. start+n_days-1 into an `ActivityCube`.

    Records outside the range are ignored; two records of one account and day are added up.
    """
    # Limitation: reading pydantic records costs about 3 microseconds each; the scoring
    # function reads the store's typed items with `cube_from_stored` instead.
    flat: list[DailyActivity] = []
    lengths = []
    for account_id in account_ids:
        items = activity_by_account.get(account_id) or ()
        before = len(flat)
        flat.extend(items)
        lengths.append(len(flat) - before)
    fields: list[dict[str, Any]] = list(map(vars, flat))  # pydantic keeps field values here
    k = len(_COUNTERS)
    stream = chain.from_iterable(map(_COUNTER_GETTER, fields))
    values = np.fromiter(stream, dtype=float, count=len(fields) * k).reshape(len(fields), k)
    people = list(map(itemgetter("people"), fields))
    steps = list(map(itemgetter("onboarding_steps"), fields))
    modules = list(map(itemgetter("modules"), fields))
    columns = _Columns(
        account=np.repeat(np.arange(len(account_ids)), lengths),
        day=np.fromiter(map(date.toordinal, map(itemgetter("day"), fields)), dtype=np.int64),
        values=values,
        seats=np.array(list(map(itemgetter("seats"), fields)), dtype=float),
        person_record=_owners(people),
        person_id=list(chain.from_iterable(people)),
        module_record=_owners(modules),
        module_name=list(chain.from_iterable(modules)),
        module_count=np.fromiter(chain.from_iterable(map(dict.values, modules)), dtype=float),
        step_record=_owners(steps),
        step_id=list(chain.from_iterable(steps)),
    )
    return _fold(list(account_ids), columns, start, n_days)


def cube_from_stored(stored: StoredDays, start: date, n_days: int) -> ActivityCube:
    """Fold day items read by `ProfileStore.get_stored_days` into an `ActivityCube`.

    Same result as `cube_from_records` on the `DailyActivity` records of the same items.
    """
    k = len(_COUNTERS)
    columns = _Columns(
        account=np.array(stored.record_account, dtype=np.int64),
        day=np.array(stored.record_day, dtype=np.int64),
        values=np.array(stored.values, dtype=float).reshape(len(stored.record_day), k),
        seats=np.array(stored.seats, dtype=float),
        person_record=np.array(stored.person_record, dtype=np.int64),
        person_id=stored.person_id,
        module_record=np.array(stored.module_record, dtype=np.int64),
        module_name=stored.module_name,
        module_count=np.array(stored.module_count, dtype=float),
        step_record=np.array(stored.step_record, dtype=np.int64),
        step_id=stored.step_id,
    )
    return _fold(list(stored.account_ids), columns, start, n_days)


@dataclass
class _Columns:
    """Day records as arrays (one row per record) and (record, name) pairs for the sets."""

    account: np.ndarray
    day: np.ndarray  # proleptic ordinals
    values: np.ndarray  # (records, counters) in DAILY_COUNTERS order
    seats: np.ndarray  # NaN when the day has no seat observation
    person_record: np.ndarray
    person_id: list[str]
    module_record: np.ndarray
    module_name: list[str]
    module_count: np.ndarray
    step_record: np.ndarray
    step_id: list[str]


def _owners(collections: list[Any]) -> np.ndarray:
    """The record index of every member of a list of per-record collections, flattened."""
    lengths = np.fromiter(map(len, collections), dtype=np.int64, count=len(collections))
    return np.repeat(np.arange(len(collections)), lengths)


def _fold(account_ids: list[str], c: _Columns, start: date, n_days: int) -> ActivityCube:
    n = len(account_ids)
    rec_day = c.day - start.toordinal()
    keep = (rec_day >= 0) & (rec_day < n_days)
    flat_index = (c.account * n_days + rec_day)[keep]
    size = n * n_days
    people_count = np.bincount(c.person_record, minlength=len(c.day)).astype(float)
    counters = {"people_count": np.bincount(flat_index, weights=people_count[keep], minlength=size)}
    for j, name in enumerate(_COUNTERS):
        counters[name] = np.bincount(flat_index, weights=c.values[keep, j], minlength=size)
    seats = np.full(size, np.nan)
    known = keep & ~np.isnan(c.seats)
    seats[(c.account * n_days + rec_day)[known]] = c.seats[known]

    kept = keep[c.module_record]
    module_index = (c.account * n_days + rec_day)[c.module_record[kept]]
    counters["module_uses"] = np.bincount(
        module_index, weights=c.module_count[kept], minlength=size
    )
    modules, module_use = _fold_modules(
        [name for name, ok in zip(c.module_name, kept.tolist(), strict=True) if ok],
        c.module_count[kept],
        flat_index_of=module_index,
        size=size,
    )
    people = _fold_pairs(c.person_record, c.person_id, keep, c.account, rec_day)
    steps = _fold_pairs(c.step_record, c.step_id, keep, c.account, rec_day)
    return ActivityCube(
        account_ids=account_ids,
        start=start,
        n_days=n_days,
        counters={name: dense.reshape(n, n_days) for name, dense in counters.items()},
        seats=seats.reshape(n, n_days),
        modules=modules,
        module_use=module_use.reshape(n, n_days, len(modules)),
        people_account=people[1],
        people_day=people[2],
        people_id=people[3],
        steps=steps[0],
        step_account=steps[1],
        step_day=steps[2],
        step_id=steps[3],
    )


def _fold_modules(
    names: list[str], counts: np.ndarray, flat_index_of: np.ndarray, size: int
) -> tuple[list[str], np.ndarray]:
    """The `MAX_MODULES` most used module names and use per (account-day, module)."""
    if not names:
        return [], np.zeros((size, 0), dtype=np.float32)
    vocabulary = list(dict.fromkeys(names))
    position = {name: j for j, name in enumerate(vocabulary)}
    raw_idx = np.fromiter(map(position.__getitem__, names), dtype=np.int64, count=len(names))
    totals = np.bincount(raw_idx, weights=counts, minlength=len(vocabulary))
    kept = sorted(vocabulary[j] for j in np.argsort(-totals, kind="stable")[:MAX_MODULES])
    remap = np.full(len(vocabulary), -1, dtype=np.int64)
    for j, name in enumerate(kept):
        remap[position[name]] = j
    module_idx = remap[raw_idx]
    ok = module_idx >= 0
    flat = flat_index_of[ok] * len(kept) + module_idx[ok]
    use = np.bincount(flat, weights=counts[ok], minlength=size * len(kept))
    return kept, use.astype(np.float32)


def _fold_pairs(
    record: np.ndarray,
    members: list[str],
    keep: np.ndarray,
    rec_account: np.ndarray,
    rec_day: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(vocabulary, account, day, id) of every (record, member) pair of the kept records."""
    kept = keep[record]
    if not kept.all():
        members = [m for m, ok in zip(members, kept.tolist(), strict=True) if ok]
        record = record[kept]
    vocabulary = list(dict.fromkeys(members))
    index = {value: j for j, value in enumerate(vocabulary)}
    ids = np.fromiter(map(index.__getitem__, members), dtype=np.int64, count=len(members))
    return vocabulary, rec_account[record], rec_day[record], ids


# ---------------------------------------------------------------- signals


def _window(a: np.ndarray, t: int, length: int) -> np.ndarray:
    """Columns t-length+1 .. t of a (n, days, ...) array, clipped at day 0."""
    return a[:, max(t - length + 1, 0) : t + 1]


def _trend(recent: np.ndarray, prior: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (recent - prior) / np.maximum(prior, 1.0)
    return np.clip(change, -1.0, 3.0)


def _distinct_in(
    accounts: np.ndarray, days: np.ndarray, ids: np.ndarray, lo: int, hi: int, n: int
) -> np.ndarray:
    """Distinct ids per account among triples with lo <= day <= hi."""
    sel = (days >= lo) & (days <= hi)
    if ids.size == 0 or not sel.any():
        return np.zeros(n)
    width = int(ids.max()) + 1
    pairs = np.unique(accounts[sel] * width + ids[sel])
    return np.bincount(pairs // width, minlength=n).astype(float)


def _last_index(active: np.ndarray) -> np.ndarray:
    """Index of the last True along axis 1, or -1 when there is none."""
    width = active.shape[1]
    if width == 0:
        return np.full(active.shape[0], -1)
    flipped = active[:, ::-1]
    has = flipped.any(axis=1)
    return np.where(has, width - 1 - flipped.argmax(axis=1), -1)


@dataclass
class _People:
    """Who was active on which of the `LOOKBACK_DAYS` days ending with day t.

    `active` is a dense (person, day) matrix whose last column is day t and whose first is
    t - 89 (days before the cube starts stay empty); `account` maps rows to accounts and is
    sorted, so each account's people are adjacent rows.
    """

    account: np.ndarray
    active: np.ndarray
    first_day: int

    @classmethod
    def of(cls, cube: ActivityCube, t: int) -> _People:
        first_day = t - LOOKBACK_DAYS + 1
        acc, day, pid = cube.people_account, cube.people_day, cube.people_id
        keep = (day <= t) & (day >= first_day)
        if not keep.any():
            empty = np.zeros((0, LOOKBACK_DAYS), dtype=bool)
            return cls(np.zeros(0, dtype=np.int64), empty, first_day)
        if not keep.all():
            acc, day, pid = acc[keep], day[keep], pid[keep]
        width = int(pid.max()) + 1
        owner = np.full(width, -1, dtype=np.int64)
        owner[pid] = acc
        if (owner[pid] == acc).all():  # each id belongs to one account: ids are the rows
            row, account = pid, owner
        else:
            keys, row = np.unique(acc * width + pid, return_inverse=True)
            account = keys // width
        active = np.zeros((len(account), LOOKBACK_DAYS), dtype=bool)
        active[row, day - first_day] = True
        present = account >= 0  # ids of people seen only outside the window have no row
        order = np.argsort(np.where(present, account, -1), kind="stable")[(~present).sum() :]
        return cls(account[order], active[order], first_day)

    def distinct(self, lo: int, hi: int, n: int) -> np.ndarray:
        """Distinct people per account active on some day of lo..hi (days of the cube)."""
        a, b = max(lo - self.first_day, 0), hi - self.first_day + 1
        seen = self.active[:, a:b].any(axis=1)
        counts: np.ndarray = np.bincount(self.account[seen], minlength=n)[:n]
        return counts.astype(float)


def _first_per_account(account: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Row of the highest score per account (ties: the lowest row); `account` must be sorted."""
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
    best = np.maximum.reduceat(score, starts)
    sizes = np.diff(np.r_[starts, len(account)])
    rows = np.where(score == np.repeat(best, sizes), np.arange(len(account)), len(account))
    chosen: np.ndarray = np.minimum.reduceat(rows, starts)
    return chosen


def _people_signals(people: _People, t: int, n: int) -> dict[str, np.ndarray]:
    """Champion and key-person absences, and regular users gone quiet, as of day t."""
    out = {name: np.zeros(n) for name in ("champion", "key_gap", "key_surprise", "gone")}
    active, account = people.active, people.account
    if account.size == 0:
        return out
    end = LOOKBACK_DAYS - 1  # column of day t
    begin = max(-people.first_day, 0)  # first column inside the cube
    last = _last_index(active)  # -1: not seen in the window (ids of absent people are dropped)

    # The champion: most active person of T-73..T-14 (8 days or more), quiet for 7+ days.
    counts = active[:, max(end - 73, begin) : end - 13].sum(axis=1)
    best = _first_per_account(account, counts.astype(float))
    best = best[counts[best] >= 8]
    gap = end - last[best]
    out["champion"][account[best]] = np.where(gap >= 7, gap, 0)

    # Key person: the regular user whose current absence is least likely given their habits.
    base_days = active[:, begin : end - 13].sum(axis=1)
    first = active.argmax(axis=1)
    span = np.maximum((end - 14) - first + 1, 1)
    rate = np.minimum(base_days / span, 0.95)
    regular = base_days >= 4
    gaps = np.where(regular, end - last, 0).astype(float)
    surprise = np.where(regular, -gaps * np.log1p(-rate), 0.0)
    key = _first_per_account(account, surprise)
    out["key_surprise"][account[key]] = surprise[key]
    out["key_gap"][account[key]] = np.where(surprise[key] > 0, gaps[key], 0.0)
    gone = regular & (rate >= 0.2) & (gaps >= 14)
    out["gone"] = np.bincount(account[gone], minlength=n)[:n].astype(float)
    return out


def _module_signals(
    cube: ActivityCube, t: int, spec: SignalSpec, n: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Breadth, depth, and the most unusual current gap in a regularly used module."""
    if not cube.modules:
        zeros = np.zeros(n)
        columns = {
            "feature_breadth": zeros,
            "feature_depth": np.full(n, np.nan),
            "module_gap_days": zeros,
            "module_gap_surprise": zeros,
        }
        return columns, [""] * n
    use30 = _window(cube.module_use, t, 30)
    breadth = (use30.sum(axis=1) > 0).sum(axis=1).astype(float)
    core_names = set(spec.core_modules)
    core = [j for j, name in enumerate(cube.modules) if name in core_names]
    total = use30.sum(axis=(1, 2))
    core_total = use30[:, :, core].sum(axis=(1, 2)) if core else np.zeros(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(total > 0, core_total / total, np.nan)

    history = _window(cube.module_use, t, LOOKBACK_DAYS) > 0
    width = history.shape[1]
    base_days = max(width - 14, 1)
    use_days = history[:, :base_days].sum(axis=1)
    regular = use_days >= 4
    last = _last_index(history.transpose(0, 2, 1).reshape(-1, width)).reshape(n, -1)
    gaps = np.where(regular, (width - 1) - last, 0).astype(float)
    rate = np.minimum(use_days / base_days, 0.95)
    surprise = np.where(regular, -gaps * np.log1p(-rate), 0.0)
    worst = surprise.argmax(axis=1)
    rows = np.arange(n)
    gap, score = gaps[rows, worst], surprise[rows, worst]
    names = [
        cube.modules[j] if g > 0 else "" for j, g in zip(worst.tolist(), gap.tolist(), strict=True)
    ]
    columns = {
        "feature_breadth": breadth,
        "feature_depth": depth,
        "module_gap_days": gap,
        "module_gap_surprise": score,
    }
    return columns, names


def _change_vs_quarter(daily: np.ndarray, t: int) -> np.ndarray:
    """Mean of the last 14 days vs the mean of the 76 days before, as a relative change."""
    if t < 14:
        return np.zeros(daily.shape[0])
    recent = _window(daily, t, 14).sum(axis=1) / 14.0
    before = _window(daily, t - 14, LOOKBACK_DAYS - 14)
    base = before.sum(axis=1) / max(before.shape[1], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(base > 0, recent / base - 1.0, 0.0)
    return np.clip(change, -1.0, 3.0)


def _week_vs_usual(daily: np.ndarray, t: int) -> np.ndarray:
    """The last 7 days against the account's usual week (daily mean of T-89..T-7 x 7)."""
    if t < 14:
        return np.zeros(daily.shape[0])
    recent = _window(daily, t, 7).sum(axis=1)
    before = _window(daily, t - 7, LOOKBACK_DAYS - 7)
    usual = before.sum(axis=1) / before.shape[1] * 7.0
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(usual > 0, recent / usual - 1.0, 0.0)
    return np.clip(change, -1.0, 3.0)


def _backlog_age(opened: np.ndarray, solved: np.ndarray) -> np.ndarray:
    """Age in days of the oldest open ticket, taking tickets as solved first-in first-out."""
    width = opened.shape[1]
    if width == 0:
        return np.zeros(opened.shape[0])
    cumulative = np.cumsum(opened, axis=1)
    done = solved.sum(axis=1)
    still_open = cumulative[:, -1] > done
    oldest = (cumulative > done[:, None]).argmax(axis=1)
    return np.where(still_open, (width - 1) - oldest, 0).astype(float)


def _support_signals(c: dict[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    def total(name: str, length: int, end: int = t) -> np.ndarray:
        if end < 0:
            return np.zeros(c[name].shape[0])
        return _window(c[name], end, length).sum(axis=1)

    opened30 = total("tickets_opened", 30)
    with np.errstate(divide="ignore", invalid="ignore"):
        high_share = np.where(opened30 > 0, total("tickets_opened_high", 30) / opened30, 0.0)
        open_tickets = np.maximum(
            total("tickets_opened", LOOKBACK_DAYS) - total("tickets_solved", LOOKBACK_DAYS), 0
        )
        good30, bad30 = total("satisfaction_good", 30), total("satisfaction_bad", 30)
        good60 = total("satisfaction_good", 60, t - 30)
        bad60 = total("satisfaction_bad", 60, t - 30)
        csat30 = np.where(good30 + bad30 > 0, good30 / (good30 + bad30), np.nan)
        csat60 = np.where(good60 + bad60 > 0, good60 / (good60 + bad60), np.nan)
    escalated = (total("escalations", 30) > 0) & (open_tickets > 0)
    before = _window(c["tickets_opened"], t - 30, 60) if t >= 30 else None
    usual30 = (
        before.sum(axis=1) / before.shape[1] * 30.0
        if before is not None
        else np.zeros_like(opened30)
    )
    return {
        "tickets_30d": opened30,
        "high_priority_share": high_share,
        "open_tickets": open_tickets,
        "open_escalation": escalated.astype(float),
        "csat_30d": csat30,
        "csat_trend": csat30 - csat60,
        "payment_failures_60d": total("payment_failures", 60),
        "ticket_surge": (opened30 + 0.5) / (usual30 + 0.5),
        "ticket_backlog_age_days": _backlog_age(
            _window(c["tickets_opened"], t, LOOKBACK_DAYS),
            _window(c["tickets_solved"], t, LOOKBACK_DAYS),
        ),
    }


def _seats_at(cube: ActivityCube, frame: AccountFrame, t: int) -> np.ndarray:
    """Latest seat count known on or before day t; the account's seats otherwise."""
    known = ~np.isnan(cube.seats[:, : t + 1])
    last = _last_index(known)
    rows = np.arange(len(last))
    latest = np.where(last >= 0, cube.seats[rows, np.maximum(last, 0)], np.nan)
    return np.where(np.isnan(latest), frame.seats, latest)


def _onboarding(
    cube: ActivityCube, t: int, spec: SignalSpec, tenure: np.ndarray, n: int
) -> np.ndarray:
    """Share of onboarding steps seen; NaN when onboarding predates the lookback."""
    steps = spec.onboarding_steps or tuple(cube.steps)
    if not steps:
        return np.full(n, np.nan)
    wanted_names = set(steps)
    wanted = np.array([name in wanted_names for name in cube.steps] + [False], dtype=bool)
    sel = wanted[cube.step_id] if cube.step_id.size else np.zeros(0, dtype=bool)
    done = _distinct_in(
        cube.step_account[sel], cube.step_day[sel], cube.step_id[sel], t - LOOKBACK_DAYS + 1, t, n
    )
    completion = np.minimum(done / len(steps), 1.0)
    unknown = (done == 0) & ~(tenure <= LOOKBACK_DAYS)
    return np.where(unknown, np.nan, completion)


def _activity_signals(
    cube: ActivityCube, frame: AccountFrame, t: int, tenure: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Logins, sessions, idleness, people and seats; and the raw counts sentences quote."""
    n = len(cube.account_ids)
    c = cube.counters

    def total(name: str, length: int, end: int = t) -> np.ndarray:
        if end < 0:
            return np.zeros(n)
        return _window(c[name], end, length).sum(axis=1)

    logins14, logins_prior = total("logins", 14), total("logins", 14, t - 14)
    sessions14, sessions_prior = total("sessions", 14), total("sessions", 14, t - 14)
    secs14, secs_prior = total("session_seconds", 14), total("session_seconds", 14, t - 14)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean14 = np.where(sessions14 > 0, secs14 / sessions14, 0.0)
        mean_prior = np.where(sessions_prior > 0, secs_prior / sessions_prior, 0.0)
        session_trend = np.where(mean_prior > 0, np.clip(mean14 / mean_prior - 1, -1, 3), 0.0)

    used = c["module_uses"]
    active = (c["logins"] + c["sessions"] + used) > 0
    last_active = _last_index(_window(active, t, LOOKBACK_DAYS))
    width = min(t + 1, LOOKBACK_DAYS)
    idle = np.where(last_active >= 0, width - 1 - last_active, LOOKBACK_DAYS).astype(float)
    cap = np.where(np.isnan(tenure), LOOKBACK_DAYS, np.minimum(tenure, LOOKBACK_DAYS))
    idle = np.maximum(np.minimum(idle, cap), 0)

    seats = _seats_at(cube, frame, t)
    seats_before = _seats_at(cube, frame, t - 60) if t >= 60 else seats
    safe_seats = np.where(np.isnan(seats) | (seats <= 0), np.nan, seats)
    people = _People.of(cube, t)
    people30 = people.distinct(t - 29, t, n)
    people14 = people.distinct(t - 13, t, n)
    people_prior = people.distinct(t - 27, t - 14, n)
    absences = _people_signals(people, t, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = {
            "login_trend": _trend(logins14, logins_prior),
            "login_change_90d": _change_vs_quarter(c["logins"], t),
            "logins_per_seat_14d": logins14 / np.where(np.isnan(safe_seats), 1.0, safe_seats),
            "days_since_last_activity": idle,
            "session_trend": session_trend,
            "seat_adoption": np.clip(people30 / safe_seats, 0, 1.5),
            "people_trend": _trend(people14, people_prior),
            "people_change_90d": _change_vs_quarter(c["people_count"], t),
            "seat_change_60d": np.nan_to_num(seats / seats_before - 1, nan=0.0, posinf=0.0),
            "champion_inactive_days": absences["champion"],
            "login_trend_7d": _week_vs_usual(c["logins"], t),
            "people_trend_7d": _week_vs_usual(c["people_count"], t),
            "key_person_gap_days": absences["key_gap"],
            "key_person_surprise": absences["key_surprise"],
            "regulars_gone": absences["gone"],
        }
    context = {
        "logins_14d": logins14,
        "logins_prior_14d": logins_prior,
        "logins_7d": total("logins", 7),
        "people_14d": people14,
        "people_prior_14d": people_prior,
        "people_30d": people30,
        "seats": seats,
        "session_minutes_14d": mean14 / 60.0,
        "session_minutes_prior_14d": mean_prior / 60.0,
    }
    return columns, context


def compute_signals(
    cube: ActivityCube, frame: AccountFrame, t: int, spec: SignalSpec | None = None
) -> SignalFrame:
    """Every catalog signal of every account as of day index `t` of the cube.

    Parameters
    ----------
    cube : ActivityCube
        Daily aggregates; only days 0 .. t are read.
    frame : AccountFrame
        Account traits aligned with `cube.account_ids`.
    t : int
        The as-of day as an index into the cube.
    spec : SignalSpec, optional
        Core modules and onboarding steps fixed by a trained model.

    Returns
    -------
    SignalFrame
        `values` of shape (n_accounts, n_signals), NaN where a signal is undefined.
    """
    spec = spec or SignalSpec()
    n = len(cube.account_ids)
    as_of = date.fromordinal(cube.start.toordinal() + t)
    t_ord = float(as_of.toordinal())
    tenure = np.maximum(t_ord - frame.first_seen, 0)

    activity, context = _activity_signals(cube, frame, t, tenure)
    modules, gap_module = _module_signals(cube, t, spec, n)
    support = _support_signals(cube.counters, t)
    cap = np.where(frame.usage_cap > 0, frame.usage_cap, np.nan)
    units7 = _window(cube.counters["usage_units"], t, 7).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = {
            **activity,
            **modules,
            "onboarding_completion": _onboarding(cube, t, spec, tenure, n),
            **support,
            "usage_cap_proximity": units7 / 7.0 / cap,
            # Limitation: renewals are assumed annual, counted from the renewal date.
            "days_to_renewal": np.where(
                np.isnan(frame.renewal), np.nan, np.mod(frame.renewal - t_ord, 365.0)
            ),
            "tenure_days": tenure,
            "arr": frame.arr,
        }
    values = np.column_stack([columns[name] for name in SIGNAL_NAMES]).astype(float)
    return SignalFrame(
        account_ids=list(cube.account_ids),
        as_of=as_of,
        values=values,
        plan=list(frame.plan),
        gap_module=gap_module,
        context=context,
    )


def signals_as_of(
    accounts: Sequence[Account],
    activity_by_account: Mapping[str, Iterable[DailyActivity]],
    as_of: date | datetime,
    spec: SignalSpec | None = None,
) -> SignalFrame:
    """Signals of `accounts` as of the day of `as_of` (UTC), from their daily activity.

    Only records of the `LOOKBACK_DAYS` days ending with that day are read.
    """
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    start = date.fromordinal(day.toordinal() - LOOKBACK_DAYS + 1)
    ids = [a.account_id for a in accounts]
    cube = cube_from_records(ids, activity_by_account, start, LOOKBACK_DAYS)
    return compute_signals(cube, account_frame(accounts), LOOKBACK_DAYS - 1, spec)


def signals_from_stored(
    accounts: Sequence[Account],
    stored: StoredDays,
    as_of: date | datetime,
    spec: SignalSpec | None = None,
) -> SignalFrame:
    """Signals of `accounts` as of the day of `as_of` (UTC), from their stored day items.

    `stored` holds the same accounts in the same order (`ProfileStore.get_stored_days`); only
    items of the `LOOKBACK_DAYS` days ending with that day are read.
    """
    ids = [a.account_id for a in accounts]
    if ids != stored.account_ids:
        raise ValueError(
            f"the stored days cover {len(stored.account_ids)} accounts, not the {len(ids)} "
            "accounts given (same accounts in the same order expected)"
        )
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    start = date.fromordinal(day.toordinal() - LOOKBACK_DAYS + 1)
    cube = cube_from_stored(stored, start, LOOKBACK_DAYS)
    return compute_signals(cube, account_frame(accounts), LOOKBACK_DAYS - 1, spec)


def as_dicts(frame: SignalFrame) -> list[dict[str, Any]]:
    """Per-account `{signal: value}` with None for missing values (for `Score.signals`)."""
    rounded = np.round(frame.values, 4)
    return [
        {k: (None if v != v else v) for k, v in zip(SIGNAL_NAMES, row, strict=True)}
        for row in rounded.tolist()
    ]
