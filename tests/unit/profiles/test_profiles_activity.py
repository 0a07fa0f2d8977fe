from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from intercept.events import Billing, CanonicalEvent, Support, Usage
from intercept.profiles.activity import DayDelta, daily_activity, event_day, event_delta


def test_usage_counts_logins_sessions_modules_units_and_steps(
    event: Callable[..., CanonicalEvent],
) -> None:
    delta = DayDelta()
    delta.add(event_delta(event(usage=Usage(login=True)), "p1"))
    delta.add(event_delta(event(usage=Usage(session_seconds=90.5)), "p2"))
    delta.add(event_delta(event(usage=Usage(module="reports", feature="export")), "p1"))
    delta.add(event_delta(event(usage=Usage(units=0.1)), None))
    delta.add(event_delta(event(usage=Usage(units=0.2)), None))
    delta.add(event_delta(event(usage=Usage(onboarding_step="invited_team")), "p1"))
    assert delta.counters["events"] == 6
    assert delta.counters["logins"] == 1
    assert delta.counters["sessions"] == 1
    assert delta.counters["session_seconds"] == Decimal("90.5")
    assert delta.counters["usage_units"] == Decimal("0.3")
    assert delta.modules == {"reports": 1} and delta.features == {"export": 1}
    assert delta.people == {"p1", "p2"}
    assert delta.onboarding_steps == {"invited_team"}


def test_support_counts_tickets_by_priority_and_satisfaction(
    event: Callable[..., CanonicalEvent],
) -> None:
    delta = DayDelta()
    for support in (
        Support(ticket_id="1", opened=True, priority="urgent"),
        Support(ticket_id="2", opened=True, priority="low"),
        Support(ticket_id="1", solved=True, satisfaction="bad", escalated=True),
        Support(ticket_id="2", satisfaction="good"),
    ):
        delta.add(event_delta(event(kind="support", support=support), None))
    counters = delta.counters
    assert (counters["tickets_opened"], counters["tickets_opened_high"]) == (2, 1)
    assert (counters["tickets_solved"], counters["escalations"]) == (1, 1)
    assert (counters["satisfaction_good"], counters["satisfaction_bad"]) == (1, 1)


def test_billing_counts_payments_and_observes_seats(event: Callable[..., CanonicalEvent]) -> None:
    delta = event_delta(event(kind="billing", billing=Billing(payment_failed=True, seats=7)), None)
    assert delta.counters["payment_failures"] == 1
    assert list(delta.seats.values()) == [7]


def test_late_event_lands_on_its_own_utc_day(event: Callable[..., CanonicalEvent]) -> None:
    late = event(occurred_at=datetime(2024, 4, 30, 23, 59, tzinfo=UTC))
    assert event_day(late) == "2024-04-30"


def test_daily_activity_reads_latest_seats_and_modules() -> None:
    item = {
        "PK": "ACCOUNT#acme",
        "SK": "DAY#2024-05-01",
        "events": Decimal(4),
        "people": {"p1", "p2"},
        "session_seconds": Decimal("12.5"),
        "mod#reports": Decimal(3),
        "feat#export": Decimal(1),
        "seats#2024-05-01T08:00:00.000000Z#e1": Decimal(10),
        "seats#2024-05-01T18:00:00.000000Z#e2": Decimal(12),
    }
    day = daily_activity("acme", item)
    assert day.day == date(2024, 5, 1)
    assert (day.events, day.active_people, day.session_seconds) == (4, 2, 12.5)
    assert day.modules == {"reports": 3}
    assert day.seats == 12
    assert day.logins == 0


def test_only_product_usage_counts_as_events_and_active_people(
    event: Callable[..., CanonicalEvent],
) -> None:
    support = event(kind="support", support=Support(ticket_id="7", opened=True))
    billing = event(kind="billing", billing=Billing(payment_succeeded=True))
    identify = event(kind="identify", traits={"name": "Ana"})
    delta = DayDelta()
    for other in (support, billing, identify):
        delta.add(event_delta(other, "p1"))
    assert delta.counters["events"] == 0 and delta.people == set()
    assert (delta.counters["tickets_opened"], delta.counters["payments"]) == (1, 1)
    assert event_delta(identify, "p1").empty
    delta.add(event_delta(event(kind="page"), "p2"))
    assert delta.counters["events"] == 1 and delta.people == {"p2"}
