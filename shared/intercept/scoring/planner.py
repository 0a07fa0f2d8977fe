"""The scheduled scoring run: enqueue every account so quiet ones are scored too."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from intercept.aws import client
from intercept.observability import logger
from intercept.settings import get_settings

ACCOUNTS_PER_MESSAGE = 50


def plan_scoring_run(as_of: datetime) -> int:
    """Send every account id to the ScoringQueue in messages of 50; returns the count."""
    from intercept.profiles.store import iter_account_ids

    queue_url = get_settings().require("scoring_queue_url")
    run_id = uuid.uuid4().hex
    sqs = client("sqs")
    batch: list[str] = []
    entries: list[dict[str, str]] = []
    total = 0

    def flush_entries() -> None:
        if entries:
            answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=list(entries))
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} scoring messages were not sent")
            entries.clear()

    for account_id in iter_account_ids():
        batch.append(account_id)
        total += 1
        if len(batch) == ACCOUNTS_PER_MESSAGE:
            entries.append(_entry(len(entries), batch, as_of, run_id))
            batch = []
            if len(entries) == 10:
                flush_entries()
    if batch:
        entries.append(_entry(len(entries), batch, as_of, run_id))
    flush_entries()
    logger.info("planned scoring run", extra={"accounts": total, "run_id": run_id})
    return total


def _entry(index: int, account_ids: list[str], as_of: datetime, run_id: str) -> dict[str, str]:
    body = {"account_ids": account_ids, "as_of": as_of.isoformat(), "run_id": run_id}
    return {"Id": str(index), "MessageBody": json.dumps(body)}
