"""Timestamps as senders write them: ISO-8601 strings, epoch seconds and epoch milliseconds.

Every parser returns an aware UTC datetime or raises `TimestampError` with a message that
names the value and the accepted forms. Strings without an offset are read as UTC, which is
what Segment's libraries mean by them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

ISO_EXAMPLE = "2015-02-02T00:30:08.276Z"

# ISO-8601 order with one-digit month, day, hour, minute or second, as printed in some
# vendor docs ("2015-2-02T00:30:08.276Z"). The field order is fixed by the shape, so the
# instant is unambiguous: it is read and the caller is told how to write it.
_UNPADDED = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?P<f>\.\d+)?)?)?"
    r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)
_MAX_TEXT = 64


class TimestampError(ValueError):
    """A timestamp that cannot be read; the message says what is accepted."""


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "..."


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_iso(value: object) -> tuple[datetime, str | None]:
    """Read an ISO-8601 timestamp.

    Returns
    -------
    (instant, warning)
        The instant in UTC, and a sentence when the text was not strict ISO-8601 but could
        still be read without guessing (one-digit month or day); else ``None``.
    """
    if not isinstance(value, str) or not value.strip():
        raise TimestampError(
            f"timestamp {_shown(value)!r} is not an ISO-8601 string; expected e.g. {ISO_EXAMPLE}"
        )
    text = value.strip()
    try:
        return _utc(datetime.fromisoformat(text)), None
    except OverflowError:
        raise TimestampError(
            f"timestamp {_shown(text)!r} is out of range in UTC; expected e.g. {ISO_EXAMPLE}"
        ) from None
    except ValueError:
        pass
    repaired = _repair_unpadded(text)
    if repaired is None:
        raise TimestampError(
            f"timestamp {_shown(text)!r} is not ISO-8601; expected e.g. {ISO_EXAMPLE}"
        )
    instant, padded = repaired
    warning = (
        f"timestamp {_shown(text)!r} is not ISO-8601 (month, day and time fields need two "
        f"digits); read as {padded}"
    )
    return instant, warning


def _repair_unpadded(text: str) -> tuple[datetime, str] | None:
    match = _UNPADDED.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    padded = f"{parts['y']}-{int(parts['mo']):02d}-{int(parts['d']):02d}"
    if parts["h"] is not None:
        padded += f"T{int(parts['h']):02d}:{int(parts['mi']):02d}"
        if parts["s"] is not None:
            padded += f":{int(parts['s']):02d}{parts['f'] or ''}"
    padded += (parts["tz"] or "").upper()
    try:
        return _utc(datetime.fromisoformat(padded)), padded
    except (ValueError, OverflowError):
        return None


def from_epoch(value: object, *, unit: str = "s") -> datetime:
    """Read epoch seconds (``unit="s"``) or milliseconds (``unit="ms"``), number or digits."""
    if isinstance(value, bool):
        raise TimestampError(f"epoch timestamp {_shown(value)!r} is a boolean; expected a number")
    try:
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, int | float):
            raise TypeError
        seconds = number / 1000 if unit == "ms" else number
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise TimestampError(
            f"epoch timestamp {_shown(value)!r} is not a number of {unit}"
        ) from None


def parse_any(value: object, *, epoch_unit: str = "s") -> datetime:
    """ISO-8601 text, or an epoch number (also as digits) in `epoch_unit`; strict otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value, unit=epoch_unit)
    if isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return from_epoch(value.strip(), unit=epoch_unit)
    return parse_iso(value)[0]


def parse_date(value: object) -> date:
    """A calendar date from ``YYYY-MM-DD``, an ISO-8601 timestamp or epoch milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value, unit="ms").date()
    if isinstance(value, str) and value.strip().isdigit():
        return from_epoch(value.strip(), unit="ms").date()
    return parse_iso(value)[0].date()


def isoformat(value: datetime) -> str:
    """UTC ISO-8601 with a ``Z`` suffix."""
    return _utc(value).isoformat().replace("+00:00", "Z")
