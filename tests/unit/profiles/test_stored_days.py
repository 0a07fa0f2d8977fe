"""Reading stored day items in DynamoDB's typed form, as the scoring function does."""

from __future__ import annotations

from datetime import date

from intercept.profiles.activity import COUNTERS, StoredDays, daily_activity
from intercept.profiles.codec import decode

ITEM = {
    "PK": {"S": "ACCOUNT#acme"},
    "SK": {"S": "DAY#2026-06-01"},
    "logins": {"N": "3"},
    "session_seconds": {"N": "125.5"},
    "mod#Reporting": {"N": "4"},
    "feat#export": {"N": "1"},
    "people": {"SS": ["usr_1", "usr_2"]},
    "onboarding_steps": {"SS": ["Workspace Created"]},
    "seats#2026-06-01T09:00:00Z#evt-1": {"N": "12"},
    "seats#2026-06-01T17:30:00Z#evt-2": {"N": "9"},
    "seats#2026-06-01T11:00:00Z#evt-3": {"N": "15"},
    "marks": {"SS": ["evt-1", "evt-2"]},
    "expires_at": {"N": "1900000000"},
}


def test_typed_items_read_like_day_records() -> None:
    stored = StoredDays()
    stored.add_account("acme", [ITEM])
    stored.add_account("quiet", [])
    record = daily_activity("acme", decode(ITEM))

    assert stored.account_ids == ["acme", "quiet"]
    assert stored.record_account == [0] and stored.record_day == [date(2026, 6, 1).toordinal()]
    assert stored.values == [float(getattr(record, name)) for name in COUNTERS]
    assert stored.values[COUNTERS.index("logins")] == 3.0
    assert stored.values[COUNTERS.index("tickets_opened")] == 0.0  # absent counters are 0
    # the latest observation of the day wins, whatever the attribute order
    assert stored.seats == [9.0] == [record.seats]
    assert list(zip(stored.module_name, stored.module_count, strict=True)) == [("Reporting", 4.0)]
    assert sorted(stored.person_id) == sorted(record.people) and stored.person_record == [0, 0]
    assert stored.step_id == ["Workspace Created"] and stored.step_record == [0]


def test_a_day_without_seat_observations_has_no_seats() -> None:
    stored = StoredDays()
    stored.add_account("acme", [{"SK": {"S": "DAY#2026-06-02"}, "events": {"N": "2"}}])
    assert stored.seats == [None]
    assert stored.values[COUNTERS.index("events")] == 2.0
