"""Cooldowns, suppressions and action records in the profiles table.

Keys (see docs/playbooks.md):

- cooldown: ``PK=ACCOUNT#{account_id}``, ``SK=COOLDOWN#{playbook}``; ``until_epoch`` is when
  it ends, ``expires_at`` (TTL) a day later.
- action record: ``PK=ACCOUNT#{account_id}``, ``SK=ACTION#{decided_at}#{action_id}``, with
  ``GSI1PK=ACTIONS`` and ``GSI1SK={decided_at}#{action_id}`` for the newest-first list.
- suppression: ``PK=SUPPRESSION#{account_id}``, ``SK={kind}`` (``escalation``, ``manual``,
  ``unsubscribed``...), with ``GSI1PK=SUPPRESSIONS`` for the suppression audience.

A cooldown is claimed with a conditional write, so of two scorers deciding the same playbook
for the same account only one fires; a retry of the same decision (same `decision_id`) may
claim again until the decision is marked published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from intercept.errors import DependencyFailure
from intercept.playbooks.decide import DecisionState, utc
from intercept.records import Action
from intercept.settings import get_settings

ActionStatus = Literal[
    "published", "held_out", "sent", "retrying", "rejected", "not_configured", "skipped"
]
ACTIONS_INDEX_KEY = "ACTIONS"
SUPPRESSIONS_INDEX_KEY = "SUPPRESSIONS"
ACTION_RECORD_DAYS = 400
COOLDOWN_GRACE = timedelta(days=1)


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with seconds and a trailing Z, as used in sort keys."""
    return utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def epoch(moment: datetime) -> int:
    return int(utc(moment).timestamp())


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def action_sk(action: Action) -> str:
    return f"ACTION#{iso(action.decided_at)}#{action.action_id}"


def cooldown_sk(playbook: str) -> str:
    return f"COOLDOWN#{playbook}"


def suppression_pk(account_id: str) -> str:
    return f"SUPPRESSION#{account_id}"


class ActionRecord(BaseModel):
    """An action as stored: the message, what became of it and when."""

    action: Action
    status: ActionStatus
    updated_at: datetime
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    provider_id: str | None = Field(default=None, description="e.g. the SES message id")
    message: str | None = Field(default=None, description="what was sent, as JSON text")


class Suppression(BaseModel):
    account_id: str
    kind: str
    reason: str = ""
    created_at: datetime
    until: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        return self.until is None or utc(self.until) > utc(moment)


def _is_conditional_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class ActionStore:
    """Data access for the playbook step and Dispatch over the profiles table."""

    def __init__(self, table: Any) -> None:
        self.table = table

    @classmethod
    def from_settings(cls) -> ActionStore:
        from intercept.aws import resource

        return cls(resource("dynamodb").Table(get_settings().require("profiles_table")))

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.table, operation)(**kwargs)
        except ClientError as exc:
            if _is_conditional_failure(exc):
                raise
            raise DependencyFailure(f"profiles table {operation} failed; retry later") from exc
        except BotoCoreError as exc:
            raise DependencyFailure(f"profiles table {operation} failed; retry later") from exc

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call("query", **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ------------------------------------------------------------------ decision state
    def load_state(self, account_id: str, at: datetime) -> DecisionState:
        """Active cooldowns and suppressions of an account at `at`.

        A claimed but unpublished cooldown is left out: its decision is in flight or failed
        half-way, and `claim` lets the same decision through again while refusing others.
        """
        from boto3.dynamodb.conditions import Key

        cooldowns = {
            item["playbook"]: datetime.fromtimestamp(int(item["until_epoch"]), tz=UTC)
            for item in self._query(
                KeyConditionExpression=Key("PK").eq(account_pk(account_id))
                & Key("SK").begins_with("COOLDOWN#")
            )
            if item.get("published") and int(item["until_epoch"]) > epoch(at)
        }
        kinds = frozenset(s.kind for s in self.suppressions(account_id) if s.active_at(at))
        return DecisionState(cooldowns=cooldowns, suppressions=kinds)

    def claim(
        self, account_id: str, playbook: str, decision: str, at: datetime, cooldown: timedelta
    ) -> bool:
        """Start the playbook's cooldown for this decision; False when another decision holds it."""
        # Limitation: a claim whose publication failed and is not retried within the same UTC
        # day keeps the cooldown without an action being delivered.
        until = utc(at) + cooldown
        item = {
            "PK": account_pk(account_id),
            "SK": cooldown_sk(playbook),
            "entity": "cooldown",
            "playbook": playbook,
            "decision_id": decision,
            "claimed_at": iso(at),
            "until_epoch": epoch(until),
            "published": False,
            "expires_at": epoch(until + COOLDOWN_GRACE),
        }
        try:
            self._call(
                "put_item",
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR until_epoch <= :now "
                "OR (decision_id = :decision AND published = :no)",
                ExpressionAttributeValues={":now": epoch(at), ":decision": decision, ":no": False},
            )
        except Exception as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def mark_published(self, account_id: str, playbook: str, decision: str) -> None:
        """Close the decision: later runs inside the cooldown no longer re-claim it."""
        try:
            self._call(
                "update_item",
                Key={"PK": account_pk(account_id), "SK": cooldown_sk(playbook)},
                UpdateExpression="SET published = :yes",
                ConditionExpression="decision_id = :decision",
                ExpressionAttributeValues={":yes": True, ":decision": decision},
            )
        except Exception as exc:
            if not _is_conditional_failure(exc):
                raise

    # ------------------------------------------------------------------ action records
    def record(self, action: Action, status: ActionStatus, at: datetime) -> bool:
        """Write the action record unless it exists (Dispatch may have written it first)."""
        # Limitation: every action record shares the GSI1 partition ACTIONS; fine for thousands
        # of actions a day, write sharding beyond that.
        decided = iso(action.decided_at)
        item = {
            "PK": account_pk(action.account_id),
            "SK": action_sk(action),
            "GSI1PK": ACTIONS_INDEX_KEY,
            "GSI1SK": f"{decided}#{action.action_id}",
            "entity": "action",
            "action_id": action.action_id,
            "account_id": action.account_id,
            "playbook": action.playbook,
            "channel": action.channel,
            "status": status,
            "action": action.model_dump_json(),
            "decided_at": decided,
            "updated_at": iso(at),
            "attempts": 0,
            "expires_at": epoch(action.decided_at + timedelta(days=ACTION_RECORD_DAYS)),
        }
        try:
            self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(PK)")
        except Exception as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def update_delivery(
        self,
        action: Action,
        status: ActionStatus,
        at: datetime,
        *,
        error: str | None = None,
        provider_id: str | None = None,
        message: str | None = None,
        attempted: bool = True,
    ) -> None:
        """Set an action's delivery outcome, creating the record if the decision left none.

        `attempted` counts a delivery attempt (a call to Slack, SES or the webhook).
        """
        decided = iso(action.decided_at)
        names = {"#status": "status", "#action": "action"}
        values: dict[str, Any] = {
            ":status": status,
            ":updated": iso(at),
            ":one": 1 if attempted else 0,
            ":action": action.model_dump_json(),
            ":gsi": ACTIONS_INDEX_KEY,
            ":gsisk": f"{decided}#{action.action_id}",
            ":id": action.action_id,
            ":account": action.account_id,
            ":playbook": action.playbook,
            ":channel": action.channel,
            ":decided": decided,
            ":expires": epoch(action.decided_at + timedelta(days=ACTION_RECORD_DAYS)),
            ":entity": "action",
        }
        sets = [
            "#status = :status",
            "updated_at = :updated",
            "#action = if_not_exists(#action, :action)",
            "GSI1PK = if_not_exists(GSI1PK, :gsi)",
            "GSI1SK = if_not_exists(GSI1SK, :gsisk)",
            "action_id = if_not_exists(action_id, :id)",
            "account_id = if_not_exists(account_id, :account)",
            "playbook = if_not_exists(playbook, :playbook)",
            "channel = if_not_exists(channel, :channel)",
            "decided_at = if_not_exists(decided_at, :decided)",
            "expires_at = if_not_exists(expires_at, :expires)",
            "entity = if_not_exists(entity, :entity)",
        ]
        optional = {"last_error": error, "provider_id": provider_id, "message": message}
        if status == "sent":
            optional["sent_at"] = iso(at)
        for name, value in optional.items():
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        self._call(
            "update_item",
            Key={"PK": account_pk(action.account_id), "SK": action_sk(action)},
            UpdateExpression="SET " + ", ".join(sets) + " ADD attempts :one",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get_record(self, action: Action) -> ActionRecord | None:
        item = self._call(
            "get_item", Key={"PK": account_pk(action.account_id), "SK": action_sk(action)}
        ).get("Item")
        return _to_record(item) if item else None

    def recent_actions(
        self, limit: int = 50, *, account_id: str | None = None, status: str | None = None
    ) -> list[ActionRecord]:
        """Newest actions first, across accounts or for one account, optionally by status."""
        from boto3.dynamodb.conditions import Key

        if account_id:
            query: dict[str, Any] = {
                "KeyConditionExpression": Key("PK").eq(account_pk(account_id))
                & Key("SK").begins_with("ACTION#")
            }
        else:
            query = {
                "IndexName": "GSI1",
                "KeyConditionExpression": Key("GSI1PK").eq(ACTIONS_INDEX_KEY),
            }
        query.update(ScanIndexForward=False, Limit=max(limit, 25))
        records: list[ActionRecord] = []
        for item in self._query(**query):
            if status and item.get("status") != status:
                continue
            records.append(_to_record(item))
            if len(records) >= limit:
                break
        return records

    # ------------------------------------------------------------------ suppressions
    def add_suppression(
        self,
        account_id: str,
        kind: str,
        at: datetime,
        *,
        until: datetime | None = None,
        reason: str = "",
    ) -> None:
        """Suppress marketing to an account (until a time, or until removed)."""
        item: dict[str, Any] = {
            "PK": suppression_pk(account_id),
            "SK": kind,
            "GSI1PK": SUPPRESSIONS_INDEX_KEY,
            "GSI1SK": f"{account_id}#{kind}",
            "entity": "suppression",
            "account_id": account_id,
            "kind": kind,
            "reason": reason,
            "created_at": iso(at),
        }
        if until is not None:
            item["until"] = iso(until)
            item["expires_at"] = epoch(until)
        self._call("put_item", Item=item)

    def remove_suppression(self, account_id: str, kind: str) -> None:
        self._call("delete_item", Key={"PK": suppression_pk(account_id), "SK": kind})

    def suppressions(self, account_id: str) -> list[Suppression]:
        """Every suppression item of an account, expired ones included (TTL lags)."""
        from boto3.dynamodb.conditions import Key

        items = self._query(KeyConditionExpression=Key("PK").eq(suppression_pk(account_id)))
        return [Suppression.model_validate(item) for item in items]


def _to_record(item: dict[str, Any]) -> ActionRecord:
    return ActionRecord(
        action=Action.model_validate(json.loads(item["action"])),
        status=item["status"],
        updated_at=item["updated_at"],
        sent_at=item.get("sent_at"),
        attempts=_plain(item.get("attempts", 0)),
        last_error=item.get("last_error"),
        provider_id=item.get("provider_id"),
        message=item.get("message"),
    )
