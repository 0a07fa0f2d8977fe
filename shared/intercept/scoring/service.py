"""The scoring stage: read profiles, score and explain them, store the verdict, act on it.

Score runs this for the accounts a DynamoDB stream batch touched and for the accounts the
scheduled planner enqueued; both paths end in the same function, so an account that went
quiet is scored exactly like one that just changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from intercept.observability import logger
from intercept.profiles.activity import StoredDays
from intercept.records import Account, Action, Score

# Days of history read per account: the longest signal window (`LOOKBACK_DAYS` of
# `intercept.model.signals`, checked by a test; not imported here to keep numpy off this path).
HISTORY_DAYS = 90
# Limitation: a stream change re-scores its account only when it is about one of the last
# few days; back-filled history waits for the scheduled run before it can raise an alert.
FRESH_DAYS = 3


class Scorer(Protocol):
    version: str

    def score_stored(
        self, accounts: Sequence[Account], stored: StoredDays, as_of: datetime
    ) -> list[Score]: ...


@dataclass
class ScoringOutcome:
    scores: list[Score] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def score_accounts(account_ids: Iterable[str], as_of: datetime, scorer: Scorer) -> ScoringOutcome:
    """Score the given accounts as of `as_of`, store the scores and publish any actions.

    Accounts that do not exist (yet) are reported in `missing`; canceled accounts are not
    scored, since there is nobody left to save.
    """
    from intercept.playbooks.engine import act_on_scores
    from intercept.profiles import store as profiles
    from intercept.scoring import store

    ids = list(dict.fromkeys(account_ids))
    accounts = profiles.get_accounts(ids)
    outcome = ScoringOutcome(missing=[i for i in ids if i not in accounts])
    live = [account for account in accounts.values() if account.status != "canceled"]
    if not live:
        return outcome

    start = (as_of - timedelta(days=HISTORY_DAYS - 1)).date()
    stored = profiles.get_stored_days([a.account_id for a in live], start, as_of.date())
    previous = store.get_latest_scores(account.account_id for account in live)
    outcome.scores = scorer.score_stored(live, stored, as_of)

    by_id = {account.account_id: account for account in live}
    outcome.stale = store.put_scores(outcome.scores, by_id)
    stale = set(outcome.stale)
    fresh = [score for score in outcome.scores if score.account_id not in stale]
    outcome.actions = act_on_scores(fresh, by_id, previous)
    logger.info(
        "scored accounts",
        extra={
            "accounts": len(outcome.scores),
            "actions": len(outcome.actions),
            "stale": len(outcome.stale),
            "model_version": scorer.version,
        },
    )
    return outcome


def accounts_in_stream_records(
    records: Iterable[dict[str, Any]], now: datetime
) -> dict[str, list[str]]:
    """Map account id -> sequence numbers of the stream records that call for a re-score.

    Only changes to recent days count (`FRESH_DAYS`): a late or back-filled event about an
    old day cannot change today's picture much, and scoring it with a partial history would
    raise false alarms; the scheduled run scores those accounts with everything in place.
    """
    oldest = (now - timedelta(days=FRESH_DAYS)).date().isoformat()
    touched: dict[str, list[str]] = {}
    for record in records:
        keys = record["dynamodb"]["Keys"]
        partition, sort = keys["PK"]["S"], keys["SK"]["S"]
        if not partition.startswith("ACCOUNT#") or not sort.startswith("DAY#"):
            continue
        if sort.removeprefix("DAY#") < oldest:
            continue
        account_id = partition.removeprefix("ACCOUNT#")
        touched.setdefault(account_id, []).append(record["dynamodb"]["SequenceNumber"])
    return touched


def handle_batch(
    records: Sequence[dict[str, Any]], scorer: Scorer, now: datetime
) -> dict[str, Any]:
    """Score every account a batch of SQS or DynamoDB stream records points at.

    SQS records carry ``{"account_ids": [...], "as_of": ISO}`` from the planner; stream records
    name the account in their key. One vectorised scoring call serves the whole batch. The
    answer lists failed items for ReportBatchItemFailures: an unreadable SQS message fails
    alone (it goes to the DLQ after its retries); a failed scoring call fails the batch.
    """
    failures: list[str] = []
    by_as_of: dict[datetime, dict[str, list[str]]] = {}
    for record in records:
        if record.get("eventSource") == "aws:sqs":
            parsed = _planned_accounts(record)
            if parsed is None:
                failures.append(record["messageId"])
                continue
            as_of, ids = parsed
            for account_id in ids:
                by_as_of.setdefault(as_of, {}).setdefault(account_id, []).append(
                    record["messageId"]
                )
        else:
            for account_id, sequences in accounts_in_stream_records([record], now).items():
                by_as_of.setdefault(now, {}).setdefault(account_id, []).extend(sequences)

    for as_of, touched in by_as_of.items():
        try:
            score_accounts(touched, as_of, scorer)
        except Exception:
            logger.exception("failed scoring", extra={"accounts": len(touched)})
            failures.extend(item for items in touched.values() for item in items)
    return {"batchItemFailures": [{"itemIdentifier": item} for item in dict.fromkeys(failures)]}


def _planned_accounts(record: dict[str, Any]) -> tuple[datetime, list[str]] | None:
    import json

    try:
        body = json.loads(record["body"])
        ids = [str(account_id) for account_id in body["account_ids"]]
        as_of = datetime.fromisoformat(body["as_of"])
    except (KeyError, TypeError, ValueError):
        logger.warning("rejected scoring request", extra={"message_id": record.get("messageId")})
        return None
    return as_of, ids
