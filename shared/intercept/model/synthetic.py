"""A seeded synthetic B2B SaaS world with a known truth, for training and for measuring.

Accounts have plans, long-tailed ARR and seats, owners and annual renewals; their people use
product modules day by day, open support tickets and pay invoices. Hidden drivers of churn
(falling logins, a dropped module, seat contraction, unresolved tickets, payment failures, the
champion leaving) and of expansion (usage near the cap with high engagement) start on known
days and raise or lower a daily churn hazard, from which churn is drawn. The world keeps that
truth (hazard by account and day, drivers with their onset, churn and expansion days) and can
emit what the vendors would have sent: Segment batches, Stripe events and Zendesk webhooks.
"""

from __future__ import annotations

import gzip
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from intercept.model.signals import ActivityCube
from intercept.records import Account, DailyActivity

PLANS = ("starter", "growth", "business", "enterprise")
PLAN_SHARE = (0.4, 0.3, 0.2, 0.1)
PLAN_MEDIAN_SEATS = (4, 9, 22, 55)
PLAN_SEAT_PRICE = (25.0, 45.0, 70.0, 110.0)
PLAN_CAP_PER_SEAT = (150.0, 250.0, 350.0, 500.0)
PLAN_RISK = (0.4, 0.15, 0.0, -0.4)

MODULES = (
    "Dashboards",
    "Reporting",
    "Alerts",
    "Integrations",
    "Automations",
    "Exports",
    "Admin",
    "API",
)
MODULE_ADOPTION = (0.98, 0.85, 0.6, 0.55, 0.45, 0.35, 0.3, 0.25)
ONBOARDING_STEPS = (
    "Workspace Created",
    "Teammates Invited",
    "Data Source Connected",
    "First Dashboard Built",
    "Alerts Configured",
)
CSM_OWNERS = (
    "ana.lima@example.com",
    "ben.okafor@example.com",
    "chloe.martin@example.com",
    "dev.patel@example.com",
)
ACCOUNT_EXECUTIVES = ("erin.walsh@example.com", "femi.adeyemi@example.com")

DRIVERS = (
    "falling_logins",
    "module_drop",
    "seat_contraction",
    "unresolved_tickets",
    "payment_failures",
    "champion_leaving",
)
DRIVER_RATE_PER_YEAR = (0.14, 0.12, 0.10, 0.12, 0.08, 0.10)
DRIVER_LOG_HAZARD = (3.0, 2.7, 2.8, 2.8, 3.1, 2.9)
EXPANSION_RATE_PER_YEAR = 0.15
BASE_DAILY_HAZARD = 0.00025
RENEWAL_LOG_HAZARD = 1.2
NEW_ACCOUNT_LOG_HAZARD = 0.5
ONBOARDING_LOG_HAZARD = 1.2
EXPANSION_LOG_HAZARD = -0.7
RAMP_DAYS = 14
NEVER = np.iinfo(np.int32).max
TICKET_DRIVER_DAYS = 40
DRIVER_ACTIVE_DAYS = {
    "unresolved_tickets": TICKET_DRIVER_DAYS + 20,
    "champion_leaving": 70,
    "module_drop": 80,
    "seat_contraction": 70,
}
"""Days after onset that a driver keeps raising the hazard (others last until churn)."""

_FIRST = ("alex", "sam", "jo", "kim", "lee", "max", "noa", "ray", "ria", "tao", "uma", "zoe")
_LAST = ("berg", "costa", "diaz", "evans", "fox", "gray", "hale", "ito", "kaur", "lund", "moss")
_NAME_A = ("North", "Blue", "Bright", "Iron", "Silver", "Clear", "Swift", "Green", "Red", "Sun")
_NAME_B = ("wind", "rock", "field", "stone", "brook", "gate", "path", "leaf", "peak", "wave")
_NAME_C = ("Labs", "Systems", "Health", "Logistics", "Media", "Retail", "Energy", "Foods")
_PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class WorldParams:
    seed: int
    accounts: int
    days: int
    start: date
    driver_rate: float = 1.0


@dataclass
class Ticket:
    account: int
    ticket_id: int
    opened: int
    opened_seconds: int
    priority: str
    requester: int
    solved: int | None
    satisfaction: str | None
    escalated: int | None


@dataclass
class BillingItem:
    day: int
    seconds: int
    account: int
    kind: str  # created, updated, deleted, paid, failed
    seats: int
    previous_seats: int | None = None
    attempt: int = 1
    amount: float = 0.0


@dataclass
class World:
    """The generated world: accounts, people, behaviour, vendor history and the truth."""

    params: WorldParams
    # accounts
    names: list[str]
    domains: list[str]
    group_ids: list[str]
    stripe_customers: list[str]
    zendesk_orgs: list[str]
    plan: np.ndarray
    seats0: np.ndarray
    seats_final: np.ndarray
    mrr0: np.ndarray
    cap_per_seat: np.ndarray
    created: np.ndarray
    owner: list[str]
    executive: list[str]
    # people
    person_account: np.ndarray
    person_ids: list[str]
    person_emails: list[str]
    # behaviour, one row per active person-day
    pd_day: np.ndarray
    pd_person: np.ndarray
    pd_module: np.ndarray
    pd_module2: np.ndarray
    pd_login: np.ndarray
    pd_seconds: np.ndarray
    pd_units: np.ndarray
    pd_start: np.ndarray
    onboarding: list[tuple[int, int, int, int]]  # day, account, person, step
    tickets: list[Ticket]
    billing: list[BillingItem]
    seat_changes: list[tuple[int, int, int]]  # day, account, seats
    # truth
    hazard: np.ndarray
    churn_day: np.ndarray
    drivers: list[dict[str, Any]]
    expansions: list[dict[str, Any]]
    driver_onset: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ views

    @property
    def n_accounts(self) -> int:
        return len(self.group_ids)

    def day(self, index: int) -> date:
        return self.params.start + timedelta(days=int(index))

    def stamp(self, day: int, seconds: int) -> datetime:
        base = datetime(self.params.start.year, self.params.start.month, self.params.start.day)
        return (base + timedelta(days=int(day), seconds=int(seconds))).replace(tzinfo=UTC)

    def seats_on(self, account: int, day: int) -> int:
        seats = int(self.seats0[account])
        for change_day, change_account, value in self.seat_changes:
            if change_account == account and change_day <= day:
                seats = value
        return seats

    def accounts(self, as_of: date | None = None) -> list[Account]:
        """Account records as the profile store would hold them on `as_of` (default: the end)."""
        end = self.params.days - 1 if as_of is None else (as_of - self.params.start).days
        out = []
        for a in range(self.n_accounts):
            if self.created[a] > end:
                continue
            seats = self.seats_on(a, end)
            mrr = round(float(self.mrr0[a]) * seats / float(self.seats0[a]), 2)
            churned = 0 <= self.churn_day[a] <= end
            renewal = self._next_renewal(a, end)
            out.append(
                Account(
                    account_id=self.group_ids[a],
                    name=self.names[a],
                    plan=PLANS[int(self.plan[a])],
                    mrr=mrr,
                    arr=round(mrr * 12, 2),
                    seats=seats,
                    usage_cap=float(seats * self.cap_per_seat[a]),
                    owner=self.owner[a],
                    account_executive=self.executive[a],
                    renewal_date=renewal,
                    lifecycle_stage="churned" if churned else "customer",
                    status="canceled" if churned else "active",
                    domain=self.domains[a],
                    first_seen=self.stamp(int(self.created[a]), 3600 * 9),
                    canceled_at=self.stamp(int(self.churn_day[a]), 3600 * 10) if churned else None,
                    traits={
                        "group_id": self.group_ids[a],
                        "stripe_customer_id": self.stripe_customers[a],
                        "zendesk_organization_id": self.zendesk_orgs[a],
                    },
                )
            )
        return out

    def _next_renewal(self, account: int, day: int) -> date:
        offset = (int(self.created[account]) - day) % 365
        return self.day(day + (offset or 365))

    def cube(self) -> ActivityCube:
        """Daily aggregates of every account over the whole world, without building records."""
        if "cube" not in self._cache:
            self._cache["cube"] = _build_cube(self)
        cube: ActivityCube = self._cache["cube"]
        return cube

    def daily_activity(self) -> dict[str, list[DailyActivity]]:
        """`DailyActivity` records per account id, as Merge folds the emitted events."""
        return _daily_records(self)

    def requests(self, batch_size: int = 100) -> Iterator[tuple[str, dict[str, Any]]]:
        """Vendor requests in time order: (route path, JSON payload).

        Routes: `/v1/batch` (Segment), `/webhooks/stripe`, `/webhooks/zendesk`.
        """
        from intercept.model.payloads import iter_requests

        return iter_requests(self, batch_size)

    def summary(self) -> dict[str, Any]:
        churned = int((self.churn_day >= 0).sum())
        return {
            "seed": self.params.seed,
            "accounts": self.n_accounts,
            "days": self.params.days,
            "start": self.params.start.isoformat(),
            "driver_rate": self.params.driver_rate,
            "people": len(self.person_ids),
            "active_person_days": len(self.pd_day),
            "tickets": len(self.tickets),
            "churned": churned,
            "drivers": {d: sum(1 for x in self.drivers if x["driver"] == d) for d in DRIVERS},
            "expansions": sum(1 for x in self.expansions if x["expand_day"] is not None),
        }

    def save(self, out: Path, payloads: bool = True) -> dict[str, Any]:
        """Write the world, its truth and (optionally) its vendor payloads under `out`."""
        return _save(self, out, payloads)


# ---------------------------------------------------------------- generation


def generate_world(
    seed: int, accounts: int, days: int, start: date | None = None, driver_rate: float = 1.0
) -> World:
    """Generate a world of `accounts` accounts over `days` days from `start` (2026-01-01).

    `driver_rate` multiplies how often churn and expansion drivers start (1.0: the rates
    the packaged model was trained on; a short demo world may want more). The same
    arguments always give the same world.
    """
    if accounts < 1 or days < 1 or driver_rate < 0:
        raise ValueError(
            f"accounts and days must be positive and driver_rate not negative; got {accounts}, "
            f"{days} and {driver_rate}"
        )
    rng = np.random.default_rng(seed)
    params = WorldParams(seed, accounts, days, start or date(2026, 1, 1), driver_rate)
    acc = _draw_accounts(rng, params)
    people = _draw_people(rng, acc)
    truth = _draw_truth(rng, params, acc, people)
    behaviour = _simulate_behaviour(rng, params, acc, people, truth)
    tickets = _simulate_tickets(rng, params, acc, people, truth)
    billing, seat_changes = _simulate_billing(rng, params, acc, truth)
    return World(
        params=params,
        names=acc["names"],
        domains=acc["domains"],
        group_ids=acc["group_ids"],
        stripe_customers=acc["stripe"],
        zendesk_orgs=acc["zendesk"],
        plan=acc["plan"],
        seats0=acc["seats"],
        seats_final=acc["seats"].copy(),
        mrr0=acc["mrr"],
        cap_per_seat=acc["cap_per_seat"],
        created=acc["created"],
        owner=acc["owner"],
        executive=acc["executive"],
        person_account=people["account"],
        person_ids=people["ids"],
        person_emails=people["emails"],
        pd_day=behaviour["day"],
        pd_person=behaviour["person"],
        pd_module=behaviour["module"],
        pd_module2=behaviour["module2"],
        pd_login=behaviour["login"],
        pd_seconds=behaviour["seconds"],
        pd_units=behaviour["units"],
        pd_start=behaviour["start"],
        onboarding=behaviour["onboarding"],
        tickets=tickets,
        billing=billing,
        seat_changes=seat_changes,
        hazard=truth["hazard"],
        churn_day=truth["churn_day"],
        drivers=truth["drivers"],
        expansions=truth["expansions"],
        driver_onset=truth["onset"],
    )


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, size=n).tolist())


def _draw_accounts(rng: np.random.Generator, params: WorldParams) -> dict[str, Any]:
    n, days = params.accounts, params.days
    plan = rng.choice(len(PLANS), size=n, p=PLAN_SHARE)
    median = np.array(PLAN_MEDIAN_SEATS, dtype=float)[plan]
    seats = np.clip(np.round(rng.lognormal(np.log(median), 0.55)), 2, 300).astype(int)
    price = np.array(PLAN_SEAT_PRICE)[plan] * rng.lognormal(0, 0.3, size=n)
    mrr = np.round(seats * price, 2)
    existing = rng.random(n) < 0.85
    created = np.where(
        existing,
        -rng.integers(60, 1100, size=n),
        rng.integers(0, max(int(days * 0.6), 1), size=n),
    )
    names, domains = [], []
    for i in range(n):
        a, b, c = (int(x) for x in rng.integers(0, 10, size=3))
        name = f"{_NAME_A[a]}{_NAME_B[b]} {_NAME_C[c % len(_NAME_C)]}"
        names.append(name)
        domains.append(f"{_NAME_A[a]}{_NAME_B[b]}-{i}.example".lower())
    weights = np.where(rng.random((n, len(MODULES))) < np.array(MODULE_ADOPTION), 1.0, 0.0)
    weights[:, 0] = np.maximum(weights[:, 0], (weights.sum(axis=1) == 0).astype(float))
    weights *= rng.gamma(2.0, 1.0, size=weights.shape)
    weights /= weights.sum(axis=1, keepdims=True)
    return {
        "plan": plan,
        "seats": seats,
        "mrr": mrr,
        "cap_per_seat": np.array(PLAN_CAP_PER_SEAT)[plan],
        "created": created.astype(int),
        "names": names,
        "domains": domains,
        "group_ids": [f"grp_{_hex(rng, 8)}" for _ in range(n)],
        "stripe": [f"cus_{_hex(rng, 7)}" for _ in range(n)],
        "zendesk": [str(int(x)) for x in rng.integers(10**12, 10**13, size=n)],
        "owner": [CSM_OWNERS[int(x)] for x in rng.integers(0, len(CSM_OWNERS), size=n)],
        "executive": [ACCOUNT_EXECUTIVES[int(x)] for x in rng.integers(0, 2, size=n)],
        "engagement": rng.lognormal(0, 0.3, size=n),
        "utilisation": rng.beta(2.0, 4.0, size=n),
        "module_weights": weights,
        "frailty": rng.normal(0, 0.25, size=n),
        "onboarding_propensity": rng.beta(4.0, 1.5, size=n),
        "session_scale": rng.lognormal(np.log(900), 0.3, size=n),
        "ticket_rate": 0.012 * np.sqrt(seats) * rng.lognormal(0, 0.3, size=n),
    }


def _draw_people(rng: np.random.Generator, acc: dict[str, Any]) -> dict[str, Any]:
    seats = acc["seats"]
    reserve = np.ceil(seats * 0.5).astype(int)  # people who join if the account expands
    counts = seats + reserve
    account = np.repeat(np.arange(len(seats)), counts)
    rank = np.concatenate([np.arange(c) for c in counts])
    q = rng.beta(1.5, 5.0, size=len(account)) * acc["engagement"][account]
    q = np.where(rng.random(len(account)) < 0.2, q * 0.1, q)
    reserve_flag = rank >= seats[account]
    order_q = q.copy()
    order_q[reserve_flag] = -1
    champion = np.zeros(len(seats), dtype=int)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for a, s in enumerate(starts.tolist()):
        champion[a] = s + int(np.argmax(order_q[s : s + counts[a]]))
    q[champion] = np.maximum(q[champion], 0.6)
    first = rng.integers(0, len(_FIRST), size=len(account))
    last = rng.integers(0, len(_LAST), size=len(account))
    ids = [f"usr_{_hex(rng, 6)}" for _ in range(len(account))]
    emails = [
        f"{_FIRST[f]}.{_LAST[g]}{r}@{acc['domains'][a]}"
        for f, g, r, a in zip(
            first.tolist(), last.tolist(), rank.tolist(), account.tolist(), strict=True
        )
    ]
    return {
        "account": account,
        "q": np.minimum(q, 0.95),
        "reserve": reserve_flag,
        "champion": champion,
        "starts": starts,
        "counts": counts,
        "ids": ids,
        "emails": emails,
    }


def _ramp(days_since: np.ndarray, length: int = RAMP_DAYS) -> np.ndarray:
    return np.clip((days_since + 1) / length, 0.0, 1.0)


def _driver_onset(
    rng: np.random.Generator, name: str, a: int, lo: int, days: int, acc: dict[str, Any]
) -> tuple[int, dict[str, Any]] | None:
    """Onset day (and detail) of one driver for one account, or None when it cannot apply."""
    day = int(rng.integers(lo, days - 10))
    if name == "payment_failures":
        created = int(acc["created"][a])
        day = created + 30 * int(math.ceil((day - created) / 30.0))  # the next billing day
        return (day, {}) if day < days else None
    if name == "module_drop":
        weights = acc["module_weights"][a]
        top = [
            j
            for j in np.argsort(-weights)[:2].tolist()
            if weights[j] >= 0.15 and weights.sum() - weights[j] > 0.05
        ]
        if not top:
            return None
        return day, {"module": MODULES[top[int(rng.integers(0, len(top)))]]}
    return day, {}


def _draw_drivers(
    rng: np.random.Generator, params: WorldParams, acc: dict[str, Any]
) -> tuple[np.ndarray, list[dict[str, Any]], np.ndarray]:
    n, days = params.accounts, params.days
    onset = np.full((n, len(DRIVERS)), NEVER, dtype=np.int64)
    dropped = np.full(n, -1)
    drivers: list[dict[str, Any]] = []
    lo = np.maximum(acc["created"] + 45, 30)
    for k, name in enumerate(DRIVERS):
        p = min(DRIVER_RATE_PER_YEAR[k] * days / 365.0 * params.driver_rate, 0.9)
        chosen = (rng.random(n) < p) & (lo < days - 10)
        if name == "seat_contraction":
            chosen &= acc["seats"] >= 4
        for a in np.nonzero(chosen)[0].tolist():
            drawn = _driver_onset(rng, name, a, int(lo[a]), days, acc)
            if drawn is None:
                continue
            onset[a, k] = drawn[0]
            if "module" in drawn[1]:
                dropped[a] = MODULES.index(drawn[1]["module"])
            drivers.append({"account": a, "driver": name, "onset_day": drawn[0], **drawn[1]})
    return onset, drivers, dropped


def _log_hazard(
    params: WorldParams, acc: dict[str, Any], onset: np.ndarray, exp_onset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True daily hazard (accounts x days) and the onboarding completion it used."""
    created = acc["created"]
    t = np.arange(params.days)[None, :]
    log_h = (
        np.log(BASE_DAILY_HAZARD)
        + np.array(PLAN_RISK)[acc["plan"]][:, None]
        + acc["frailty"][:, None]
    )
    age = t - created[:, None]
    log_h = log_h + NEW_ACCOUNT_LOG_HAZARD * (age < 120)
    completion = _onboarding_completion(acc)
    new_account = (created >= 0)[:, None] & (age < 180)
    log_h = log_h + ONBOARDING_LOG_HAZARD * (1 - completion)[:, None] * new_account
    to_renewal = np.mod(created[:, None] - t, 365)
    log_h = log_h + RENEWAL_LOG_HAZARD * (to_renewal <= 30)
    for k, name in enumerate(DRIVERS):
        since = t - onset[:, k][:, None]
        active = since >= 0
        if name in DRIVER_ACTIVE_DAYS:
            active &= since < DRIVER_ACTIVE_DAYS[name]
        log_h = log_h + DRIVER_LOG_HAZARD[k] * np.where(active, _ramp(since), 0.0)
    since_exp = t - exp_onset[:, None]
    log_h = log_h + EXPANSION_LOG_HAZARD * np.where(since_exp >= 0, _ramp(since_exp), 0.0)
    hazard = np.where(age >= 0, np.minimum(np.exp(log_h), 0.5), 0.0)
    return hazard, completion


def _draw_truth(
    rng: np.random.Generator, params: WorldParams, acc: dict[str, Any], people: dict[str, Any]
) -> dict[str, Any]:
    n, days = params.accounts, params.days
    onset, drivers, dropped = _draw_drivers(rng, params, acc)
    exp_onset = np.full(n, NEVER, dtype=np.int64)
    lo = np.maximum(acc["created"] + 45, 30)
    eligible = (acc["engagement"] > 1.0) & (lo < days - 40)
    rate = EXPANSION_RATE_PER_YEAR * days / 365 * 2 * params.driver_rate
    for a in np.nonzero(eligible & (rng.random(n) < rate))[0]:
        exp_onset[a] = int(rng.integers(lo[a], days - 30))

    hazard, completion = _log_hazard(params, acc, onset, exp_onset)
    hit = rng.random((n, days)) < hazard
    hit[:, 0] = False
    churn_day = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)

    expansions = []
    for a in np.nonzero(exp_onset < days)[0].tolist():
        expand = int(exp_onset[a] + rng.integers(25, 50))
        alive = churn_day[a] < 0 or expand < churn_day[a]
        happened = expand < days and alive and rng.random() < 0.75
        expansions.append(
            {
                "account": a,
                "onset_day": int(exp_onset[a]),
                "expand_day": expand if happened else None,
                "added_seats": int(math.ceil(acc["seats"][a] * rng.uniform(0.2, 0.5))),
            }
        )
    for d in drivers:
        d["active_at_churn"] = bool(churn_day[d["account"]] >= d["onset_day"])
    return {
        "onset": onset,
        "drivers": drivers,
        "dropped_module": dropped,
        "exp_onset": exp_onset,
        "expansions": expansions,
        "hazard": hazard.astype(np.float32),
        "churn_day": churn_day.astype(int),
        "completion": completion,
    }


def _onboarding_completion(acc: dict[str, Any]) -> np.ndarray:
    steps = len(ONBOARDING_STEPS)
    done = np.floor(acc["onboarding_propensity"] * (steps + 0.999))
    return np.minimum(done, steps) / steps


def _simulate_behaviour(
    rng: np.random.Generator,
    params: WorldParams,
    acc: dict[str, Any],
    people: dict[str, Any],
    truth: dict[str, Any],
) -> dict[str, Any]:
    n, days = params.accounts, params.days
    p_acc = people["account"]
    q = people["q"]
    start_day = np.where(people["reserve"], NEVER, acc["created"][p_acc])
    for e in truth["expansions"]:
        if e["expand_day"] is not None:
            s = people["starts"][e["account"]] + acc["seats"][e["account"]]
            start_day[s : s + e["added_seats"]] = e["expand_day"]
    stop_day = np.full(len(p_acc), NEVER)
    k_champ = DRIVERS.index("champion_leaving")
    k_seat = DRIVERS.index("seat_contraction")
    onset = truth["onset"]
    for a in range(n):
        if onset[a, k_champ] < days:
            stop_day[people["champion"][a]] = onset[a, k_champ]
        if onset[a, k_seat] < days:
            s, c = people["starts"][a], acc["seats"][a]
            members = np.arange(s, s + c)
            members = members[members != people["champion"][a]]
            size = max(1, int(len(members) * rng.uniform(0.4, 0.6)))
            weight = q[members] / q[members].sum()
            leaving = rng.choice(members, size=size, replace=False, p=weight)
            stop_day[leaving] = onset[a, k_seat] + rng.integers(0, RAMP_DAYS, size=len(leaving))
    churn = np.where(truth["churn_day"] >= 0, truth["churn_day"], days + 1)
    stop_day = np.minimum(stop_day, churn[p_acc])

    expected = np.bincount(p_acc, weights=np.where(people["reserve"], 0, q) * 0.786, minlength=n)
    cap0 = acc["seats"] * acc["cap_per_seat"]
    unit_scale = cap0 * acc["utilisation"] / np.maximum(expected, 0.3)
    weights = acc["module_weights"]
    k_fall, k_mod = DRIVERS.index("falling_logins"), DRIVERS.index("module_drop")
    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("day", "person", "module", "module2", "login", "seconds", "units", "start")
    }
    for t in range(days):
        weekday = (params.start + timedelta(days=t)).weekday()
        factor = 1.0 if weekday < 5 else 0.25
        fall = 1 - 0.75 * np.where(t >= onset[:, k_fall], _ramp(t - onset[:, k_fall]), 0.0)
        since_exp = t - truth["exp_onset"]
        boost = 1 + 0.15 * np.where(since_exp >= 0, _ramp(since_exp), 0.0)
        p = q * factor * (fall * boost)[p_acc]
        p = np.where((t >= start_day) & (t < stop_day), p, 0.0)
        active = np.nonzero(rng.random(len(p)) < p)[0]
        if active.size == 0:
            continue
        a_idx = p_acc[active]
        w = weights.copy()
        drop_now = (truth["dropped_module"] >= 0) & (t >= onset[:, k_mod])
        rows_drop = np.nonzero(drop_now)[0]
        w[rows_drop, truth["dropped_module"][rows_drop]] = 0.0
        w /= w.sum(axis=1, keepdims=True)
        cw = np.cumsum(w, axis=1)
        module = np.minimum(
            (rng.random(active.size)[:, None] > cw[a_idx]).sum(axis=1), len(MODULES) - 1
        )
        module2 = np.minimum(
            (rng.random(active.size)[:, None] > cw[a_idx]).sum(axis=1), len(MODULES) - 1
        )
        module2 = np.where((rng.random(active.size) < 0.35) & (module2 != module), module2, -1)
        util = _utilisation(t, a_idx, acc, truth)
        rows["day"].append(np.full(active.size, t, dtype=np.int32))
        rows["person"].append(active.astype(np.int32))
        rows["module"].append(module.astype(np.int8))
        rows["module2"].append(module2.astype(np.int8))
        rows["login"].append(rng.random(active.size) < 0.55)
        rows["seconds"].append(
            np.round(rng.lognormal(np.log(acc["session_scale"][a_idx]), 0.6)).astype(np.float32)
        )
        rows["units"].append(
            np.round(
                unit_scale[a_idx] * util * rng.lognormal(-0.045, 0.3, size=active.size)
            ).astype(np.float32)
        )
        rows["start"].append(rng.integers(7 * 3600, 18 * 3600, size=active.size).astype(np.int32))
    out: dict[str, Any] = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in rows.items()}
    out["onboarding"] = _simulate_onboarding(rng, params, acc, people, truth)
    return out


def _utilisation(
    t: int, a_idx: np.ndarray, acc: dict[str, Any], truth: dict[str, Any]
) -> np.ndarray:
    """Multiplier of an account's usual metered units: near the cap while expansion brews."""
    util0 = acc["utilisation"][a_idx]
    since = t - truth["exp_onset"][a_idx]
    ramp = np.where(since >= 0, _ramp(since, 21), 0.0)
    return 1 + ramp * (0.97 / util0 - 1)


def _simulate_onboarding(
    rng: np.random.Generator,
    params: WorldParams,
    acc: dict[str, Any],
    people: dict[str, Any],
    truth: dict[str, Any],
) -> list[tuple[int, int, int, int]]:
    events = []
    steps_done = np.round(truth["completion"] * len(ONBOARDING_STEPS)).astype(int)
    for a in np.nonzero(acc["created"] >= 0)[0].tolist():
        offsets = np.sort(rng.integers(0, 28, size=len(ONBOARDING_STEPS)))
        for k in range(int(steps_done[a])):
            day = int(acc["created"][a] + offsets[k])
            if day < params.days and (truth["churn_day"][a] < 0 or day < truth["churn_day"][a]):
                events.append((day, a, int(people["champion"][a]), k))
    return events


def _simulate_tickets(
    rng: np.random.Generator,
    params: WorldParams,
    acc: dict[str, Any],
    people: dict[str, Any],
    truth: dict[str, Any],
) -> list[Ticket]:
    days = params.days
    k_tix = DRIVERS.index("unresolved_tickets")
    onset = truth["onset"][:, k_tix]
    churn = np.where(truth["churn_day"] >= 0, truth["churn_day"], days + 1)
    t = np.arange(days)[None, :]
    since = t - onset[:, None]
    in_driver = (since >= 0) & (since < TICKET_DRIVER_DAYS)
    rate = acc["ticket_rate"][:, None] * np.where(in_driver, 5.0, 1.0)
    alive = (t >= np.maximum(acc["created"], 0)[:, None]) & (t < churn[:, None])
    counts = rng.poisson(rate * alive)
    tickets: list[Ticket] = []
    serial = 1000
    for a, day in zip(*np.nonzero(counts), strict=True):
        a, day = int(a), int(day)
        driven = bool(in_driver[a, day])
        for _ in range(int(counts[a, day])):
            serial += 1
            probs = (0.1, 0.25, 0.45, 0.2) if driven else (0.3, 0.5, 0.15, 0.05)
            priority = _PRIORITIES[int(rng.choice(4, p=probs))]
            wait = int(rng.geometric(0.02 if driven else 0.35))
            solved = day + wait if day + wait < min(days, int(churn[a])) else None
            satisfaction = None
            if solved is not None and rng.random() < 0.5:
                good = 0.25 if driven else 0.88
                satisfaction = "good" if rng.random() < good else "bad"
            # An escalation raises the priority to urgent, so only lower priorities escalate.
            escalate_p = (
                0.5
                if driven and priority in ("normal", "high")
                else (0.15 if priority == "high" else 0.0)
            )
            escalated = day + int(rng.integers(1, 4)) if rng.random() < escalate_p else None
            if escalated is not None and (
                escalated >= days
                or escalated >= churn[a]
                or (solved is not None and escalated >= solved)
            ):
                escalated = None
            s, c = people["starts"][a], acc["seats"][a]
            tickets.append(
                Ticket(
                    account=a,
                    ticket_id=serial,
                    opened=day,
                    opened_seconds=int(rng.integers(8 * 3600, 17 * 3600)),
                    priority=priority,
                    requester=int(s + rng.integers(0, c)),
                    solved=solved,
                    satisfaction=satisfaction,
                    escalated=escalated,
                )
            )
    return tickets


def _seat_events(
    rng: np.random.Generator,
    a: int,
    end: int,
    acc: dict[str, Any],
    truth: dict[str, Any],
    expansion: Any,
) -> list[tuple[int, int]]:
    """(day, seats after) of every seat change of one account."""
    k_seat = DRIVERS.index("seat_contraction")
    seats = int(acc["seats"][a])
    events: list[tuple[int, int]] = []
    if truth["onset"][a, k_seat] < end:
        day = int(truth["onset"][a, k_seat] + rng.integers(3, 12))
        if day < end:
            events.append((day, max(2, int(round(seats * rng.uniform(0.5, 0.7))))))
    if expansion is not None and expansion["expand_day"] is not None:
        events.append((int(expansion["expand_day"]), seats + int(expansion["added_seats"])))
    return sorted(events)


def _invoices(
    a: int, end: int, acc: dict[str, Any], truth: dict[str, Any], events: list[tuple[int, int]]
) -> list[BillingItem]:
    """Monthly invoices: paid, or failed with retries once payment failures set in."""
    created = int(acc["created"][a])
    seats0 = int(acc["seats"][a])
    per_seat = float(acc["mrr"][a]) / seats0
    pay_onset = int(truth["onset"][a, DRIVERS.index("payment_failures")])
    items = []
    for cycle_day in range(created + 30, end, 30):
        if cycle_day < 0:
            continue
        seats_now = seats0
        for day, new in events:
            if day <= cycle_day:
                seats_now = new
        amount = round(per_seat * seats_now, 2)
        if cycle_day < pay_onset:
            items.append(BillingItem(cycle_day, 5 * 3600, a, "paid", seats_now, amount=amount))
            continue
        for attempt, delay in enumerate((0, 3, 5, 7), start=1):
            if cycle_day + delay < end:
                items.append(
                    BillingItem(
                        cycle_day + delay,
                        5 * 3600,
                        a,
                        "failed",
                        seats_now,
                        attempt=attempt,
                        amount=amount,
                    )
                )
    return items


def _simulate_billing(
    rng: np.random.Generator, params: WorldParams, acc: dict[str, Any], truth: dict[str, Any]
) -> tuple[list[BillingItem], list[tuple[int, int, int]]]:
    items: list[BillingItem] = []
    changes: list[tuple[int, int, int]] = []
    expansions = {e["account"]: e for e in truth["expansions"]}
    for a in range(params.accounts):
        created, churn = int(acc["created"][a]), int(truth["churn_day"][a])
        end = churn if churn >= 0 else params.days
        seats = int(acc["seats"][a])
        events = _seat_events(rng, a, end, acc, truth, expansions.get(a))
        items.append(
            BillingItem(created, 6 * 3600, a, "created", seats, amount=float(acc["mrr"][a]))
        )
        current = seats
        for day, new in events:
            items.append(BillingItem(day, 11 * 3600, a, "updated", new, previous_seats=current))
            changes.append((day, a, new))
            current = new
        items.extend(_invoices(a, end, acc, truth, events))
        if churn >= 0:
            items.append(BillingItem(churn, 10 * 3600, a, "deleted", current))
    items.sort(key=lambda b: (b.day, b.seconds, b.account))
    return items, sorted(changes)


# ---------------------------------------------------------------- aggregates


def _build_cube(world: World) -> ActivityCube:
    n, days = world.n_accounts, world.params.days
    acc = world.person_account[world.pd_person]
    day = world.pd_day.astype(np.int64)
    flat = acc * days + day
    size = n * days

    def dense(weights: np.ndarray | None, index: np.ndarray = flat) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=size).reshape(n, days).astype(float)

    second = world.pd_module2 >= 0
    onboarding = np.array(world.onboarding, dtype=np.int64).reshape(-1, 4)
    ob_flat = onboarding[:, 1] * days + onboarding[:, 0]
    counters = {
        "logins": dense(world.pd_login.astype(float)),
        "sessions": dense(None),
        "session_seconds": dense(world.pd_seconds.astype(float)),
        "usage_units": dense(world.pd_units.astype(float)),
        "events": dense(1.0 + world.pd_login + second) + dense(None, ob_flat),
    }
    people_key = np.unique(
        np.concatenate([flat, ob_flat]) * len(world.person_ids)
        + np.concatenate([world.pd_person, onboarding[:, 2]])
    )
    counters["people_count"] = dense(None, people_key // len(world.person_ids))
    counters.update(_ticket_counters(world))
    counters.update(_billing_counters(world))
    seats = np.full((n, days), np.nan)
    for item in world.billing:
        if 0 <= item.day < days and item.kind != "deleted":
            seats[item.account, item.day] = item.seats

    module_use = np.zeros((n, days, len(MODULES)), dtype=np.float32)
    np.add.at(module_use, (acc, day, world.pd_module.astype(np.int64)), 1.0)
    np.add.at(
        module_use, (acc[second], day[second], world.pd_module2[second].astype(np.int64)), 1.0
    )
    counters["module_uses"] = module_use.sum(axis=2, dtype=float)
    people_acc = np.concatenate([acc, onboarding[:, 1]])
    people_day = np.concatenate([day, onboarding[:, 0]])
    people_id = np.concatenate([world.pd_person.astype(np.int64), onboarding[:, 2]])
    keep = (people_day >= 0) & (people_day < days)
    ob_keep = (onboarding[:, 0] >= 0) & (onboarding[:, 0] < days)
    return ActivityCube(
        account_ids=list(world.group_ids),
        start=world.params.start,
        n_days=days,
        counters=counters,
        seats=seats,
        modules=list(MODULES),
        module_use=module_use,
        people_account=people_acc[keep],
        people_day=people_day[keep],
        people_id=people_id[keep],
        steps=list(ONBOARDING_STEPS),
        step_account=onboarding[ob_keep, 1],
        step_day=onboarding[ob_keep, 0],
        step_id=onboarding[ob_keep, 3],
    )


def _ticket_counters(world: World) -> dict[str, np.ndarray]:
    n, days = world.n_accounts, world.params.days
    names = (
        "tickets_opened",
        "tickets_opened_high",
        "tickets_solved",
        "escalations",
        "satisfaction_good",
        "satisfaction_bad",
    )
    out = {name: np.zeros((n, days)) for name in names}
    for tk in world.tickets:
        out["tickets_opened"][tk.account, tk.opened] += 1
        if tk.priority in ("high", "urgent"):
            out["tickets_opened_high"][tk.account, tk.opened] += 1
        if tk.solved is not None:
            out["tickets_solved"][tk.account, tk.solved] += 1
            if tk.satisfaction:
                out[f"satisfaction_{tk.satisfaction}"][tk.account, tk.solved] += 1
        if tk.escalated is not None:
            out["escalations"][tk.account, tk.escalated] += 1
    return out


def _billing_counters(world: World) -> dict[str, np.ndarray]:
    n, days = world.n_accounts, world.params.days
    out = {"payments": np.zeros((n, days)), "payment_failures": np.zeros((n, days))}
    for item in world.billing:
        if not 0 <= item.day < days:
            continue
        if item.kind == "paid":
            out["payments"][item.account, item.day] += 1
        elif item.kind == "failed":
            out["payment_failures"][item.account, item.day] += 1
    return out


def _daily_records(world: World) -> dict[str, list[DailyActivity]]:
    cube = world.cube()
    people: dict[tuple[int, int], set[str]] = {}
    for a, d, p in zip(
        cube.people_account.tolist(), cube.people_day.tolist(), cube.people_id.tolist(), strict=True
    ):
        people.setdefault((a, d), set()).add(world.person_ids[p])
    steps: dict[tuple[int, int], set[str]] = {}
    for a, d, s in zip(
        cube.step_account.tolist(), cube.step_day.tolist(), cube.step_id.tolist(), strict=True
    ):
        steps.setdefault((a, d), set()).add(ONBOARDING_STEPS[s])
    c = cube.counters
    any_activity = sum(v for k, v in c.items() if k != "people_count") > 0
    any_activity |= ~np.isnan(cube.seats)
    out: dict[str, list[DailyActivity]] = {gid: [] for gid in world.group_ids}
    for a, d in zip(*np.nonzero(any_activity), strict=True):
        a, d = int(a), int(d)
        mods = cube.module_use[a, d]
        seat = cube.seats[a, d]
        out[world.group_ids[a]].append(
            DailyActivity(
                account_id=world.group_ids[a],
                day=world.day(d),
                events=int(c["events"][a, d]),
                people=people.get((a, d), set()),
                logins=int(c["logins"][a, d]),
                sessions=int(c["sessions"][a, d]),
                session_seconds=float(c["session_seconds"][a, d]),
                modules={MODULES[j]: int(mods[j]) for j in np.nonzero(mods)[0].tolist()},
                usage_units=float(c["usage_units"][a, d]),
                onboarding_steps=steps.get((a, d), set()),
                tickets_opened=int(c["tickets_opened"][a, d]),
                tickets_opened_high=int(c["tickets_opened_high"][a, d]),
                tickets_solved=int(c["tickets_solved"][a, d]),
                escalations=int(c["escalations"][a, d]),
                satisfaction_good=int(c["satisfaction_good"][a, d]),
                satisfaction_bad=int(c["satisfaction_bad"][a, d]),
                payment_failures=int(c["payment_failures"][a, d]),
                payments=int(c["payments"][a, d]),
                seats=None if np.isnan(seat) else int(seat),
            )
        )
    return out


# ---------------------------------------------------------------- persistence


def _truth_rows(world: World) -> list[dict[str, Any]]:
    rows = []
    for d in world.drivers:
        rows.append(
            {
                "account_id": world.group_ids[d["account"]],
                "kind": "churn_driver",
                "driver": d["driver"],
                "onset": world.day(d["onset_day"]).isoformat(),
                **({"module": d["module"]} if "module" in d else {}),
            }
        )
    for e in world.expansions:
        rows.append(
            {
                "account_id": world.group_ids[e["account"]],
                "kind": "expansion_driver",
                "driver": "near_usage_cap",
                "onset": world.day(e["onset_day"]).isoformat(),
                "expanded_on": world.day(e["expand_day"]).isoformat()
                if e["expand_day"] is not None
                else None,
            }
        )
    return rows


def _save(world: World, out: Path, payloads: bool) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    summary = world.summary()
    with (out / "accounts.jsonl").open("w") as fh:
        for account in world.accounts():
            fh.write(account.model_dump_json() + "\n")
    with gzip.open(out / "activity.jsonl.gz", "wt") as fh:
        for records in world.daily_activity().values():
            for record in records:
                fh.write(record.model_dump_json() + "\n")
    truth = out / "truth"
    truth.mkdir(exist_ok=True)
    np.save(truth / "hazard.npy", world.hazard)
    with (truth / "drivers.jsonl").open("w") as fh:
        for row in _truth_rows(world):
            fh.write(json.dumps(row) + "\n")
    with (truth / "outcomes.jsonl").open("w") as fh:
        for a, gid in enumerate(world.group_ids):
            churn = int(world.churn_day[a])
            fh.write(
                json.dumps(
                    {
                        "account_id": gid,
                        "churned_on": world.day(churn).isoformat() if churn >= 0 else None,
                    }
                )
                + "\n"
            )
    if payloads:
        count = 0
        with gzip.open(out / "requests.jsonl.gz", "wt") as fh:
            for route, body in world.requests():
                fh.write(json.dumps({"route": route, "body": body}) + "\n")
                count += 1
        summary["requests"] = count
    (out / "world.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def load_world_records(folder: Path) -> tuple[list[Account], dict[str, list[DailyActivity]]]:
    """Read back the accounts and daily activity that `World.save` wrote."""
    accounts_file, activity_file = folder / "accounts.jsonl", folder / "activity.jsonl.gz"
    if not accounts_file.is_file() or not activity_file.is_file():
        raise FileNotFoundError(
            f"{folder} is not a generated world: expected accounts.jsonl and activity.jsonl.gz "
            "(write one with `intercept generate --out DIR`)"
        )
    accounts = [
        Account.model_validate_json(line) for line in accounts_file.read_text().splitlines() if line
    ]
    activity: dict[str, list[DailyActivity]] = {a.account_id: [] for a in accounts}
    with gzip.open(activity_file, "rt") as fh:
        for line in fh:
            record = DailyActivity.model_validate_json(line)
            activity.setdefault(record.account_id, []).append(record)
    return accounts, activity


def stable_uuid(seed: int, *parts: object) -> str:
    """A UUID that depends only on the seed and the parts (for vendor ids)."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"intercept-synthetic/{seed}/" + "/".join(map(str, parts)))
    )
