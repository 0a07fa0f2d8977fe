"""Re-feed archived raw bodies through the ingest normalisers (``intercept replay``).

Bodies were verified when they arrived, so a replay does not check signatures again (their
timestamps have expired anyway). Each archived body is normalised exactly as live ingest did
(same source, route, received time and archive key), so its events keep their ids and
everything downstream, which dedupes by event id, is unchanged by a replay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from intercept.errors import BadRequest, InterceptError
from intercept.events import utcnow
from intercept.ingest.normalise import Context, Outcome, normalise
from intercept.ingest.service import payload_for
from intercept.ingest.sinks import Archive, ArchivedRequest, EventQueue
from intercept.ingest.timeparse import TimestampError, parse_iso
from intercept.observability import logger

_DURATION = re.compile(r"^(?P<amount>\d+)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class ReplayReport:
    """What one replay read and sent."""

    objects: int = 0
    events: int = 0
    rejected: int = 0
    skipped: int = 0
    messages: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def parse_moment(value: str, *, now: datetime | None = None) -> datetime:
    """An ISO-8601 date or time (UTC when no offset), or a duration back from now (``6h``)."""
    now = now or utcnow()
    match = _DURATION.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})
    try:
        moment, warning = parse_iso(value)
    except TimestampError:
        warning = "unreadable"
    if warning:
        raise BadRequest(
            f"{value!r} is neither an ISO-8601 time (e.g. 2026-01-31T08:00:00Z) "
            "nor a duration back from now (e.g. 30m, 6h, 2d, 1w)"
        )
    return moment


def _days(since: datetime, until: datetime) -> Iterator[date]:
    day = since.date()
    while day <= until.date():
        yield day
        day += timedelta(days=1)


def renormalise(archived: ArchivedRequest) -> tuple[str, Outcome]:
    """(source, outcome) of one archived body, as live ingest produced it."""
    metadata = archived.metadata
    headers = json.loads(metadata.get("headers") or "{}")
    received_at = parse_iso(metadata["received-at"])[0]
    route = metadata["route"]
    source = metadata["source"]
    context = Context(
        source=source,
        received_at=received_at,
        archive_key=archived.key,
        call=metadata.get("call", ""),
        headers=headers,
    )
    media = str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    payload = payload_for(route, archived.body, media)
    return source, normalise(route, payload, context)


def replay(
    source: str,
    since: datetime,
    until: datetime,
    *,
    archive: Archive,
    queue: EventQueue,
    dry_run: bool = False,
) -> ReplayReport:
    """Re-enqueue the events of every body archived for `source` in ``[since, until)``."""
    if until <= since:
        raise BadRequest("--until must be later than --since")
    report = ReplayReport()
    for day in _days(since, until):
        for key in archive.keys(f"raw/{source}/{day:%Y/%m/%d}/"):
            _replay_one(archive.get(key), since, until, queue, dry_run, report)
    logger.info("replayed archive", extra={"source": source, **report.as_dict()})
    return report


def _replay_one(
    archived: ArchivedRequest,
    since: datetime,
    until: datetime,
    queue: EventQueue,
    dry_run: bool,
    report: ReplayReport,
) -> None:
    try:
        received_at = parse_iso(archived.metadata.get("received-at", ""))[0]
    except TimestampError:
        report.skipped += 1
        return
    if not since <= received_at < until:
        report.skipped += 1
        return
    try:
        source, outcome = renormalise(archived)
    except (InterceptError, KeyError, ValueError) as exc:
        logger.warning(
            "skipped archived body", extra={"key": archived.key, "error": type(exc).__name__}
        )
        report.skipped += 1
        return
    report.objects += 1
    report.events += len(outcome.events)
    report.rejected += len(outcome.rejected)
    if outcome.events and not dry_run:
        report.messages += queue.send(outcome.events, source=source)
