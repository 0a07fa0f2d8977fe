from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from intercept.ingest.timeparse import (
    TimestampError,
    from_epoch,
    isoformat,
    parse_any,
    parse_date,
    parse_iso,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-12-02T00:30:08.276Z", datetime(2012, 12, 2, 0, 30, 8, 276000, tzinfo=UTC)),
        ("2012-12-02T01:30:08+01:00", datetime(2012, 12, 2, 0, 30, 8, tzinfo=UTC)),
        ("2012-12-02T00:30:08", datetime(2012, 12, 2, 0, 30, 8, tzinfo=UTC)),
        ("2025-01-08T10:12:07.672717030Z", datetime(2025, 1, 8, 10, 12, 7, 672717, tzinfo=UTC)),
    ],
)
def test_parse_iso_strict_forms_have_no_warning(text: str, expected: datetime) -> None:
    assert parse_iso(text) == (expected, None)


def test_parse_iso_unpadded_fields_are_read_with_warning() -> None:
    instant, warning = parse_iso("2015-2-02T00:30:08.276Z")
    assert instant == datetime(2015, 2, 2, 0, 30, 8, 276000, tzinfo=UTC)
    assert warning is not None
    assert "2015-02-02T00:30:08.276Z" in warning


@pytest.mark.parametrize(
    "text", ["yesterday", "02/03/2015", "2015-13-02T00:00:00Z", "", "2015-2-30"]
)
def test_parse_iso_unreadable_text_names_value_and_expected_form(text: str) -> None:
    with pytest.raises(TimestampError, match="expected e.g. 2015-02-02T00:30:08.276Z"):
        parse_iso(text)


@pytest.mark.parametrize("value", [None, 12, 1.5, [], {}])
def test_parse_iso_non_text_is_refused(value: object) -> None:
    with pytest.raises(TimestampError):
        parse_iso(value)


def test_from_epoch_reads_seconds_and_milliseconds() -> None:
    assert from_epoch(1462216307) == datetime(2016, 5, 2, 19, 11, 47, tzinfo=UTC)
    assert from_epoch(1462216307945, unit="ms") == datetime(
        2016, 5, 2, 19, 11, 47, 945000, tzinfo=UTC
    )
    assert from_epoch("1410335293") == datetime(2014, 9, 10, 7, 48, 13, tzinfo=UTC)


@pytest.mark.parametrize("value", [True, "abc", 10**20, float("nan"), None])
def test_from_epoch_refuses_non_numbers_and_out_of_range(value: object) -> None:
    with pytest.raises(TimestampError):
        from_epoch(value)


def test_parse_any_and_parse_date_accept_iso_and_epoch() -> None:
    assert parse_any("2026-01-01T00:00:00Z") == parse_any(1767225600)
    assert parse_date("2026-06-30") == date(2026, 6, 30)
    assert parse_date(1782777600000) == date(2026, 6, 30)
    assert isoformat(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_parse_iso_out_of_range_in_utc_is_refused(text: str) -> None:
    with pytest.raises(TimestampError, match="out of range"):
        parse_iso(text)
