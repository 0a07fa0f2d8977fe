"""``intercept replay``: re-feed archived raw bodies through the ingest logic."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="re-feed archived raw bodies through ingest",
        description=(
            "Read the bodies archived for a source between two times, normalise them again "
            "and enqueue the events. Harmless to repeat: events keep their ids and everything "
            "downstream dedupes by id. Uses ARCHIVE_BUCKET and INGEST_QUEUE_URL."
        ),
    )
    parser.add_argument("--source", required=True, help="source name, e.g. stripe or web")
    parser.add_argument(
        "--since", required=True, help="ISO-8601 time (UTC if no offset) or a duration: 6h, 2d"
    )
    parser.add_argument("--until", help="ISO-8601 time or duration (default: now)")
    parser.add_argument("--dry-run", action="store_true", help="count, do not enqueue")
    parser.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from intercept.events import utcnow
    from intercept.ingest.aws import LazyS3Archive, LazySqsEventQueue
    from intercept.ingest.replay import parse_moment, replay

    now = utcnow()
    since = parse_moment(args.since, now=now)
    until = parse_moment(args.until, now=now) if args.until else now
    report = replay(
        args.source,
        since,
        until,
        archive=LazyS3Archive(),
        queue=LazySqsEventQueue(),
        dry_run=args.dry_run,
    )
    print(json.dumps({"source": args.source, "dry_run": args.dry_run, **report.as_dict()}))
    return 0
