"""Delivering one action on its channel, once, and recording what happened.

Outcomes, as recorded on the action record (``status``):

- ``sent``: Slack said ``ok``, SES accepted the message, or the webhook answered 2xx.
- ``held_out``: the action belongs to a holdout group; nothing is delivered.
- ``rejected``: the receiver refused it for good (4xx other than 408/425/429, a redirect, SES
  MessageRejected); not retried.
- ``not_configured``: the channel has no endpoint; the rendered message is kept on the record.
- ``retrying``: a retryable failure; the exception goes up so the queue redelivers.

Delivery is idempotent on `action_id` through the Powertools idempotency utility: a
redelivered or republished action returns the first outcome without sending again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from intercept.dispatch.email import (
    CUSTOMER_ROLES,
    EmailContent,
    render_customer_email,
    render_internal_email,
    send_email,
)
from intercept.dispatch.errors import ChannelNotConfigured, DeliveryRejected, RetryableDelivery
from intercept.dispatch.http import Post, post
from intercept.dispatch.slack import render_slack, send_slack
from intercept.dispatch.text import fingerprint
from intercept.dispatch.webhook import render_webhook, send_webhook
from intercept.errors import BadRequest, DependencyFailure
from intercept.observability import MetricUnit, logger, metrics
from intercept.playbooks.store import ActionStatus, ActionStore
from intercept.records import Action
from intercept.secrets import Secrets, load_secrets
from intercept.settings import get_settings

IDEMPOTENCY_SECONDS = 14 * 86400
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one action: status, provider id (SES message id) and error summary."""

    action_id: str
    status: ActionStatus
    provider_id: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "action_id": self.action_id,
            "status": self.status,
            "provider_id": self.provider_id,
            "error": self.error,
        }


def parse_action(body: str) -> Action:
    """An Action from an SQS message body (raw SNS delivery: the body is the Action's JSON)."""
    try:
        return Action.model_validate_json(body)
    except ValidationError as exc:
        fields = sorted(
            {".".join(str(p) for p in error["loc"]) or "body" for error in exc.errors()}
        )
        raise BadRequest(
            f"message body is not an Action (problem with: {', '.join(fields)}); "
            "expected the JSON of intercept.records.Action"
        ) from exc


class Dispatcher:
    """Renders, sends and records actions.

    Parameters
    ----------
    store : where action records are updated.
    secrets : a loader for the Slack and webhook endpoints (called only when needed).
    sender_email : the SES identity e-mails come from.
    ses : an SES client; the package's cached client when None.
    http_post : the HTTP function (tests may pass one that records calls).
    idempotency_table : the Powertools idempotency table; without it every call delivers.
    clock : the current UTC time.
    """

    def __init__(
        self,
        store: ActionStore,
        *,
        secrets: Callable[[], Secrets] = load_secrets,
        sender_email: str = "",
        ses: Any | None = None,
        http_post: Post = post,
        idempotency_table: str = "",
        clock: Clock = _utcnow,
    ) -> None:
        self.store = store
        self._secrets_loader = secrets
        self._secrets: Secrets | None = None
        self.sender_email = sender_email
        self._ses = ses
        self.http_post = http_post
        self.clock = clock
        self._once: Callable[..., dict[str, Any]] | None = None
        self._idempotency_config: Any = None
        if idempotency_table:
            self._once = self._make_idempotent(idempotency_table)

    @classmethod
    def from_settings(cls) -> Dispatcher:
        settings = get_settings()
        return cls(
            ActionStore.from_settings(),
            sender_email=settings.sender_email,
            idempotency_table=settings.require("idempotency_table"),
        )

    # ------------------------------------------------------------------ idempotency
    def _make_idempotent(self, table: str) -> Callable[..., dict[str, Any]]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        from intercept.aws import client

        self._idempotency_config = IdempotencyConfig(
            event_key_jmespath="action_id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )
        persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))

        def deliver_action(action: Action) -> dict[str, Any]:
            return self.deliver(action).as_dict()

        wrapped: Callable[..., dict[str, Any]] = idempotent_function(
            deliver_action,
            data_keyword_argument="action",
            persistence_store=persistence,
            config=self._idempotency_config,
            key_prefix="intercept-dispatch",
        )
        return wrapped

    def register_context(self, context: Any) -> None:
        """Let in-progress idempotency records expire with the invocation (Lambda context)."""
        if self._idempotency_config is not None and hasattr(
            context, "get_remaining_time_in_millis"
        ):
            self._idempotency_config.register_lambda_context(context)

    def deliver_once(self, action: Action) -> Delivery:
        """`deliver`, unless this action id was delivered before: then its first outcome."""
        if self._once is None:
            return self.deliver(action)
        outcome = self._once(action=action)
        return Delivery(**outcome)

    def handle(self, body: str) -> Delivery:
        """Deliver the Action in one SQS message body, once; failures are logged and raised."""
        try:
            action = parse_action(body)
        except BadRequest:
            logger.warning("rejected action message", extra={"reason": "not an Action"})
            raise
        try:
            return self.deliver_once(action)
        except RetryableDelivery:
            raise
        except Exception:
            logger.exception(
                "failed action delivery",
                extra={"action_id": action.action_id, "channel": action.channel},
            )
            raise

    # ------------------------------------------------------------------ delivery
    @property
    def secrets(self) -> Secrets:
        if self._secrets is None:
            self._secrets = self._secrets_loader()
        return self._secrets

    @property
    def ses(self) -> Any:
        if self._ses is None:
            from intercept.aws import client

            self._ses = client("ses")
        return self._ses

    def deliver(self, action: Action) -> Delivery:
        """Render, send and record one action (no idempotency check: see `deliver_once`).

        Raises
        ------
        RetryableDelivery when the receiver may accept it later; the caller lets the queue
        redeliver. Every other outcome is recorded and returned.
        """
        if action.holdout:
            return self._finish(action, "held_out", attempted=False)

        category = _category(action.playbook)
        message: str | None = None
        try:
            message, send = self._prepare(action, category)
            provider_id = send()
        except ChannelNotConfigured as exc:
            return self._finish(
                action, "not_configured", error=exc.detail, message=message, attempted=False
            )
        except DeliveryRejected as exc:
            # Limitation: refused actions stay on their record, not in the DLQ; re-sending one
            # after fixing the endpoint means publishing it again.
            return self._finish(action, "rejected", error=exc.detail, message=message)
        except RetryableDelivery as exc:
            self._finish(action, "retrying", error=exc.detail, message=message)
            raise
        return self._finish(action, "sent", provider_id=provider_id, message=message)

    def _prepare(
        self, action: Action, category: str | None
    ) -> tuple[str, Callable[[], str | None]]:
        """The message to record and a function that sends it."""
        if action.channel == "slack":
            body = render_slack(action, category)

            def to_slack() -> None:
                send_slack(body, self.secrets.slack_webhook_url, self.http_post)

            return json.dumps(body, ensure_ascii=False), to_slack
        if action.channel == "email":
            content = _render_email(action, category, self.sender_email)

            def to_ses() -> str:
                return send_email(content, action.recipient, self.sender_email, self.ses)

            record = {"subject": content.subject, "text": content.text}
            return json.dumps(record, ensure_ascii=False), to_ses

        def to_webhook() -> None:
            secrets = self.secrets
            send_webhook(
                action,
                secrets.outbound_webhook_url,
                secrets.outbound_webhook_secret,
                self.http_post,
            )

        return render_webhook(action).decode("utf-8"), to_webhook

    def _finish(
        self,
        action: Action,
        status: ActionStatus,
        *,
        provider_id: str | None = None,
        error: str | None = None,
        message: str | None = None,
        attempted: bool = True,
    ) -> Delivery:
        try:
            self.store.update_delivery(
                action,
                status,
                self.clock(),
                error=error,
                provider_id=provider_id,
                message=message,
                attempted=attempted,
            )
        except DependencyFailure:
            # The outcome stands even when the record cannot be written: re-sending would
            # duplicate a message the recipient already has.
            logger.warning("could not record delivery", extra={"action_id": action.action_id})
        _log(action, status)
        return Delivery(action.action_id, status, provider_id, error)


def _category(playbook: str) -> str | None:
    from intercept.playbooks.config import load_playbooks

    found = load_playbooks().get(playbook)
    return found.category if found is not None else None


def _render_email(action: Action, category: str | None, sender: str) -> EmailContent:
    if action.recipient_role not in CUSTOMER_ROLES:
        return render_internal_email(action, category)
    from intercept.playbooks.config import load_playbooks

    playbook = load_playbooks().get(action.playbook)
    if playbook is None or playbook.message is None:
        raise DeliveryRejected(
            f"playbook {action.playbook!r} has no customer message; customer e-mails are sent "
            "only from a playbook's `message`"
        )
    return render_customer_email(action, playbook.message.subject, playbook.message.text, sender)


_METRICS = {
    "sent": "ActionsSent",
    "rejected": "ActionsRejected",
    "retrying": "ActionsFailed",
    "not_configured": "ActionsNotConfigured",
    "held_out": "ActionsHeldOut",
}


def _log(action: Action, status: ActionStatus) -> None:
    fields = {
        "action_id": action.action_id,
        "account_id": action.account_id,
        "playbook": action.playbook,
        "channel": action.channel,
        "recipient_role": action.recipient_role,
        "recipient_hash": fingerprint(action.recipient),
        "status": status,
    }
    if status in ("sent", "held_out"):
        logger.info("dispatched action", extra=fields)
    else:
        logger.warning("could not dispatch action", extra=fields)
    if status in _METRICS:
        metrics.add_metric(name=_METRICS[status], unit=MetricUnit.Count, value=1)
