"""Publishing actions to the ActionsTopic, one SNS message per action.

The body is the Action as JSON; the message attributes carry `channel` (the subscriptions'
filter policies route on it), `playbook`, `priority` and `account_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intercept.errors import ConfigurationError, DependencyFailure
from intercept.records import Action
from intercept.settings import get_settings

SNS_BATCH = 10


def message_attributes(action: Action) -> dict[str, dict[str, str]]:
    """SNS message attributes of an action (all strings, none empty)."""
    values = {
        "channel": action.channel,
        "playbook": action.playbook,
        "priority": action.priority,
        "account_id": action.account_id,
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


class SnsPublisher:
    """Publishes actions to one topic in batches of ten."""

    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._sns = sns

    @classmethod
    def from_settings(cls) -> SnsPublisher:
        """The configured topic; a missing ACTIONS_TOPIC_ARN fails only when publishing."""
        return cls(get_settings().actions_topic_arn)

    @property
    def sns(self) -> Any:
        if self._sns is None:
            from intercept.aws import client

            self._sns = client("sns")
        return self._sns

    def publish(self, actions: Sequence[Action]) -> list[str]:
        """Publish every action; returns the SNS message ids, raises if any was refused."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not actions:
            return []
        if not self.topic_arn:
            raise ConfigurationError("environment variable ACTIONS_TOPIC_ARN is not set")
        message_ids: list[str] = []
        for start in range(0, len(actions), SNS_BATCH):
            chunk = actions[start : start + SNS_BATCH]
            entries = [
                {
                    "Id": action.action_id,
                    "Message": action.model_dump_json(),
                    "MessageAttributes": message_attributes(action),
                }
                for action in chunk
            ]
            try:
                response = self.sns.publish_batch(
                    TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
                )
            except (BotoCoreError, ClientError) as exc:
                raise DependencyFailure("publishing actions to the topic failed; retry") from exc
            if response.get("Failed"):
                codes = sorted({failure.get("Code", "unknown") for failure in response["Failed"]})
                raise DependencyFailure(
                    f"{len(response['Failed'])} of {len(entries)} actions were not published "
                    f"({', '.join(codes)}); retry"
                )
            message_ids.extend(entry["MessageId"] for entry in response.get("Successful", []))
        return message_ids
