"""Data access for score records in the profiles table.

Keys (see docs/data-model.md):

- latest score: ``PK=ACCOUNT#{id}``, ``SK=SCORE#LATEST``; ranked by expected ARR loss
  (``GSI1PK=RISK``, ``GSI1SK`` = zero-padded churn_30 x ARR) and by owner
  (``GSI2PK=OWNER#{owner}``, same sort key);
- history: ``PK=ACCOUNT#{id}``, ``SK=SCORE#{as_of ISO}`` with a TTL.

The latest score only moves forward in time: a write with an older ``as_of`` than the stored
one is refused by a condition, so out-of-order deliveries cannot roll a score back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from intercept.aws import client, resource
from intercept.records import Account, Score
from intercept.settings import get_settings

HISTORY_DAYS = 400
# Limitation: every latest score shares one GSI1 partition key; beyond a few thousand score
# writes per second the ranking index would need write sharding.
RISK_PARTITION = "RISK"


def risk_sort_key(score: Score) -> str:
    """Expected ARR lost in 30 days, zero-padded so that strings sort like numbers."""
    exposure = max(0.0, score.churn_30 * (score.arr or 0.0))
    return f"{exposure:016.2f}#{score.churn_30:.6f}#{score.account_id}"


def _table() -> Any:
    return resource("dynamodb").Table(get_settings().require("profiles_table"))


def _latest_item(score: Score, account: Account | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"ACCOUNT#{score.account_id}",
        "SK": "SCORE#LATEST",
        "GSI1PK": RISK_PARTITION,
        "GSI1SK": risk_sort_key(score),
        "as_of": score.as_of.isoformat(),
        "tier": score.tier,
        "churn_30": Decimal(str(round(score.churn_30, 6))),
        "health": score.health,
        "score": score.model_dump_json(),
    }
    if account is not None:
        if account.owner:
            item["GSI2PK"] = f"OWNER#{account.owner}"
            item["GSI2SK"] = item["GSI1SK"]
            item["owner"] = account.owner
        if account.name:
            item["account_name"] = account.name
    return item


def put_scores(scores: Sequence[Score], accounts: dict[str, Account]) -> list[str]:
    """Write latest and history items; returns the ids whose latest score was stale."""
    table = _table()
    stale: list[str] = []
    with table.batch_writer() as batch:
        for score in scores:
            history = {
                "PK": f"ACCOUNT#{score.account_id}",
                "SK": f"SCORE#{score.as_of.isoformat()}",
                "score": score.model_dump_json(),
                "expires_at": int((score.as_of + timedelta(days=HISTORY_DAYS)).timestamp()),
            }
            batch.put_item(Item=history)
    for score in scores:
        try:
            table.put_item(
                Item=_latest_item(score, accounts.get(score.account_id)),
                ConditionExpression="attribute_not_exists(as_of) OR as_of <= :as_of",
                ExpressionAttributeValues={":as_of": score.as_of.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            stale.append(score.account_id)
    return stale


def get_latest_scores(account_ids: Iterable[str]) -> dict[str, Score]:
    """The latest stored score of each account that has one."""
    ids = list(dict.fromkeys(account_ids))
    found: dict[str, Score] = {}
    table_name = get_settings().require("profiles_table")
    for start in range(0, len(ids), 100):
        keys = [
            {"PK": {"S": f"ACCOUNT#{i}"}, "SK": {"S": "SCORE#LATEST"}}
            for i in ids[start : start + 100]
        ]
        request: dict[str, Any] = {table_name: {"Keys": keys, "ProjectionExpression": "score"}}
        while request:
            answer = client("dynamodb").batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table_name, []):
                score = Score.model_validate_json(item["score"]["S"])
                found[score.account_id] = score
            request = answer.get("UnprocessedKeys") or {}
    return found


def latest_score_items(
    owner: str | None = None, page_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """Latest-score items as stored, highest expected ARR loss first.

    With `owner`, only that owner's accounts (the GSI2 ranking), else every account (GSI1).
    Pages are read lazily, `page_size` items per query (DynamoDB's own page size when None),
    so a caller that stops early reads no further pages.
    """
    table = _table()
    if owner:
        query: dict[str, Any] = {
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :pk",
            "ExpressionAttributeValues": {":pk": f"OWNER#{owner}"},
        }
    else:
        query = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": RISK_PARTITION},
        }
    if page_size is not None:
        query["Limit"] = page_size
    while True:
        page = table.query(ScanIndexForward=False, **query)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def ranked_scores(limit: int = 50, owner: str | None = None) -> list[Score]:
    """Latest scores by expected ARR loss, highest first; optionally one owner's accounts."""
    items = islice(latest_score_items(owner, page_size=min(limit, 500)), max(limit, 0))
    return [Score.model_validate_json(item["score"]) for item in items]


def score_history(account_id: str, limit: int = 90) -> list[Score]:
    """An account's past scores, newest first."""
    page = _table().query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": f"ACCOUNT#{account_id}", ":prefix": "SCORE#2"},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [Score.model_validate_json(item["score"]) for item in page["Items"]]
