"""Slack: a Block Kit message for an action, POSTed to an incoming webhook.

Slack answers an incoming webhook with 200 and the body ``ok`` when it posted the message.
Anything else is a failure: 429 and 5xx (and network errors) are retried through the queue;
other 4xx answers (``invalid_payload``, ``no_service``, ``channel_is_archived``...) will not
change on retry, so they are recorded as rejected and not retried.
"""

from __future__ import annotations

import json
from typing import Any

from intercept.dispatch import text
from intercept.dispatch.errors import RetryableDelivery
from intercept.dispatch.http import Post, check_url, post, raise_for_answer
from intercept.records import Action, Reason

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
PRIORITY_MARKS = {
    "urgent": "\U0001f6a8",
    "high": "\U0001f534",
    "normal": "\U0001f7e1",
    "low": "\u26aa",
}


def escape(value: str) -> str:
    """Escape Slack's control characters so account data cannot inject mentions or links."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _mrkdwn(value: str, limit: int = MAX_SECTION_TEXT) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(value, limit)}


def _reasons_block(action: Action) -> dict[str, Any]:
    if not action.reasons:
        return {"type": "section", "text": _mrkdwn("*Why*\nNo single signal stands out.")}
    lines = [f"• {escape(reason.sentence)}  ({_numbers(reason)})" for reason in action.reasons]
    return {"type": "section", "text": _mrkdwn("*Why*\n" + "\n".join(lines))}


def _numbers(reason: Reason) -> str:
    """The reason's numbers with the signal name in a code span (its underscores stay literal)."""
    numbers = text.reason_numbers(reason)
    return f"`{escape(reason.signal)}`{escape(numbers[len(reason.signal) :])}"


def _fields(action: Action) -> list[dict[str, str]]:
    # Limitation: an incoming webhook posts to one channel and cannot resolve an e-mail to a
    # Slack user, so the recipient is named in the message but not @-mentioned.
    recipient = escape(action.recipient) if action.recipient else "_unassigned_"
    tier = text.TIER_LABELS.get(action.tier, action.tier)
    pairs = [
        ("Account", f"{escape(text.account_label(action))}\n`{escape(action.account_id)}`"),
        ("ARR", text.money(action.arr)),
        ("Churn risk (30 days)", text.percent(action.churn_30)),
        ("Health", f"{action.health}/100 · {tier}"),
        (text.role_label(action.recipient_role), recipient),
        ("Priority", action.priority),
    ]
    return [_mrkdwn(f"*{label}*\n{value}", MAX_FIELD_TEXT) for label, value in pairs]


def render_slack(action: Action, category: str | None = None) -> dict[str, Any]:
    """The incoming-webhook body for an action: fallback `text` plus Block Kit `blocks`.

    Parameters
    ----------
    action : the action to announce.
    category : the playbook's category (alert, escalation, expansion, marketing); it picks
        the title. Unknown or None gives a neutral title.
    """
    mark = PRIORITY_MARKS.get(action.priority, "")
    header = _clip(f"{mark} {text.title(action, category)}".strip(), MAX_HEADER_TEXT)
    context = (
        f"Playbook `{escape(action.playbook)}` · model `{escape(action.model_version or 'n/a')}`"
        f" · decided {action.decided_at:%Y-%m-%d %H:%M} UTC · action `{action.action_id[:12]}`"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "fields": _fields(action)},
        _reasons_block(action),
        {
            "type": "section",
            "text": _mrkdwn(f"*Recommended action*\n{escape(action.recommended_action)}"),
        },
        {"type": "context", "elements": [_mrkdwn(context)]},
    ]
    fallback = _clip(escape(text.summary(action, category)), MAX_FALLBACK_TEXT)
    return {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}


def send_slack(body: dict[str, Any], url: str, http_post: Post = post) -> None:
    """POST a rendered message to the incoming webhook.

    Raises
    ------
    ChannelNotConfigured when no usable webhook URL is set; RetryableDelivery on 429, 5xx,
    a network failure or a 200 without ``ok``; DeliveryRejected on any other answer.
    """
    check_url(url, "Slack webhook URL")
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    answer = http_post(url, payload, {"Content-Type": "application/json; charset=utf-8"}, 5.0)
    raise_for_answer(answer, "Slack")
    if answer.body.strip() != "ok":
        raise RetryableDelivery(f"Slack answered {answer.status} without 'ok'")
