"""Signals: definitions on hand-made histories, point-in-time safety, record and cube paths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from intercept.model.signals import (
    LOOKBACK_DAYS,
    SIGNAL_NAMES,
    account_frame,
    compute_signals,
    cube_from_records,
    signals_as_of,
)
from intercept.model.synthetic import World
from intercept.records import Account, DailyActivity

AS_OF = date(2026, 6, 30)


def _day(offset: int) -> date:
    return AS_OF - timedelta(days=offset)


def _account(**traits: object) -> Account:
    base: dict[str, object] = {
        "account_id": "acct_1",
        "plan": "growth",
        "arr": 12000.0,
        "seats": 10,
        "usage_cap": 1000.0,
        "renewal_date": date(2026, 7, 21),
        "first_seen": datetime(2024, 1, 1, tzinfo=UTC),
    }
    base.update(traits)
    return Account.model_validate(base)


def _steady(days: int = LOOKBACK_DAYS, **fields: object) -> list[DailyActivity]:
    """One record per day, T-days+1 .. T, with the given counters."""
    return [
        DailyActivity.model_validate({"account_id": "acct_1", "day": _day(i), **fields})
        for i in range(days)
    ]


def _value(records: list[DailyActivity], name: str, account: Account | None = None) -> float:
    frame = signals_as_of([account or _account()], {"acct_1": records}, AS_OF)
    return float(frame.column(name)[0])


def test_login_trend_halves_when_logins_halve() -> None:
    records = [
        r.model_copy(update={"logins": 1 if (AS_OF - r.day).days < 14 else 2})
        for r in _steady(events=1)
    ]
    assert _value(records, "login_trend") == pytest.approx(-0.5)


def test_days_since_last_activity_counts_from_the_last_active_day() -> None:
    records = [r for r in _steady(events=3, logins=1) if (AS_OF - r.day).days >= 12]
    assert _value(records, "days_since_last_activity") == 12


def test_module_gap_names_the_module_that_stopped() -> None:
    records = []
    for r in _steady(events=4, logins=1):
        modules = {"Dashboards": 2}
        if (AS_OF - r.day).days >= 21:
            modules["Reporting"] = 1
        records.append(r.model_copy(update={"modules": modules}))
    frame = signals_as_of([_account()], {"acct_1": records}, AS_OF)
    assert frame.column("module_gap_days")[0] == 21
    assert frame.gap_module[0] == "Reporting"
    assert frame.column("feature_breadth")[0] == 2  # Reporting was still used 21-29 days ago


def test_seat_adoption_is_distinct_people_over_seats() -> None:
    records = [
        r.model_copy(update={"people": {f"p{(AS_OF - r.day).days % 4}"}}) for r in _steady(events=1)
    ]
    assert _value(records, "seat_adoption") == pytest.approx(0.4)


def test_champion_inactive_when_the_most_active_person_goes_quiet() -> None:
    records = []
    for r in _steady(events=2, logins=1):
        ago = (AS_OF - r.day).days
        people = {"helper"} if ago % 3 == 0 else set()
        if ago >= 10:
            people.add("champion")
        records.append(r.model_copy(update={"people": people}))
    assert _value(records, "champion_inactive_days") == 10


def test_key_person_is_the_regular_user_whose_absence_is_least_likely() -> None:
    # GIVEN a daily user who stopped 9 days ago and an occasional user away for longer
    records = []
    for r in _steady(events=2, logins=1):
        ago = (AS_OF - r.day).days
        people = set()
        if ago >= 9:
            people.add("daily")
        if ago % 5 == 0 and ago >= 15:
            people.add("occasional")
        records.append(r.model_copy(update={"people": people}))
    frame = signals_as_of([_account()], {"acct_1": records}, AS_OF)
    # THEN the daily user's 9-day absence is the key one: 9 x -log(1 - 0.95) nats
    assert frame.column("key_person_gap_days")[0] == 9
    assert frame.column("key_person_surprise")[0] == pytest.approx(-9 * np.log(0.05))
    # AND only users absent for 14 days or more count as gone (the occasional one, at a 20% rate)
    assert frame.column("regulars_gone")[0] == 1


def test_no_key_person_while_everyone_keeps_their_habits() -> None:
    records = [
        r.model_copy(update={"people": {"a", "b"} if (AS_OF - r.day).days % 2 == 0 else {"a"}})
        for r in _steady(events=1)
    ]
    frame = signals_as_of([_account()], {"acct_1": records}, AS_OF)
    assert frame.column("key_person_gap_days")[0] == 0
    assert frame.column("regulars_gone")[0] == 0


def test_login_trend_7d_compares_the_week_with_the_usual_week() -> None:
    records = [
        r.model_copy(update={"logins": 1 if (AS_OF - r.day).days < 7 else 4})
        for r in _steady(events=1)
    ]
    assert _value(records, "login_trend_7d") == pytest.approx(-0.75)


def test_ticket_backlog_age_takes_tickets_as_solved_in_opening_order() -> None:
    # GIVEN tickets opened 40, 20 and 5 days ago and one solved since
    records = _steady(events=1)
    for ago in (40, 20, 5):
        records[ago] = records[ago].model_copy(update={"tickets_opened": 1})
    records[2] = records[2].model_copy(update={"tickets_solved": 1})
    # THEN the oldest still open is the one of 20 days ago
    assert _value(records, "ticket_backlog_age_days") == 20
    records[1] = records[1].model_copy(update={"tickets_solved": 2})
    assert _value(records, "ticket_backlog_age_days") == 0


def test_ticket_surge_is_the_last_30_days_over_the_usual_rate() -> None:
    records = _steady(events=1)
    for ago in (3, 6, 9, 12, 15, 18, 21, 24):  # 8 in the last 30 days
        records[ago] = records[ago].model_copy(update={"tickets_opened": 1})
    for ago in (40, 70):  # 2 in the 60 days before: 1 expected per 30 days
        records[ago] = records[ago].model_copy(update={"tickets_opened": 1})
    assert _value(records, "ticket_surge") == pytest.approx(8.5 / 1.5)


def test_payment_failures_count_only_the_last_60_days() -> None:
    records = _steady(events=1)
    for ago in (5, 40, 70):
        records[ago] = records[ago].model_copy(update={"payment_failures": 1})
    assert _value(records, "payment_failures_60d") == 2


def test_days_to_renewal_rolls_to_the_next_annual_term() -> None:
    passed = _account(renewal_date=date(2025, 7, 21))
    assert _value(_steady(events=1), "days_to_renewal", passed) == 21


def test_onboarding_is_missing_when_it_predates_the_lookback() -> None:
    assert np.isnan(_value(_steady(events=1), "onboarding_completion"))
    new = _account(first_seen=datetime(2026, 6, 1, tzinfo=UTC))
    steps = _steady(30, events=1)
    steps[-1] = steps[-1].model_copy(update={"onboarding_steps": {"Workspace Created"}})
    assert _value(steps, "onboarding_completion", new) == pytest.approx(1.0)


def test_signals_as_of_a_day_ignore_everything_after_it(small_world: World) -> None:
    # GIVEN a world's records, WHEN scored as of a day with and without later records,
    # THEN every signal is identical.
    accounts = small_world.accounts()
    activity = small_world.daily_activity()
    as_of = small_world.day(95)
    before = {k: [r for r in v if r.day <= as_of] for k, v in activity.items()}
    full = signals_as_of(accounts, activity, as_of)
    cut = signals_as_of(accounts, before, as_of)
    np.testing.assert_array_equal(full.values, cut.values)
    assert full.gap_module == cut.gap_module


def test_signals_from_records_match_the_world_cube(small_world: World) -> None:
    # The record path (what the profile store returns) and the fast path agree.
    accounts = small_world.accounts()
    ids = [a.account_id for a in accounts]
    world_cube = small_world.cube()
    record_cube = cube_from_records(
        ids, small_world.daily_activity(), small_world.params.start, small_world.params.days
    )
    frame = account_frame(accounts)
    for t in (60, 100, 119):
        a = compute_signals(world_cube, frame, t)
        b = compute_signals(record_cube, frame, t)
        np.testing.assert_allclose(a.values, b.values, equal_nan=True)


def test_every_catalog_signal_is_computed(small_world: World) -> None:
    frame = signals_as_of(
        small_world.accounts(), small_world.daily_activity(), small_world.day(119)
    )
    assert frame.values.shape == (len(small_world.accounts()), len(SIGNAL_NAMES))
    assert not np.isnan(frame.column("login_trend")).any()
