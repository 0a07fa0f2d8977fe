"""E-mail: text and HTML renderings of an action, sent with SES send_email.

Internal recipients (owner CSM, account executive, escalation address) get the numbers and
reasons. A customer contact gets only the playbook's own `message` (subject and text):
churn probabilities and reasons are never sent outside the company.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template
from typing import Any

from intercept.dispatch import text
from intercept.dispatch.errors import ChannelNotConfigured, DeliveryRejected, RetryableDelivery
from intercept.records import Action

CUSTOMER_ROLES = {"customer_contact"}
REJECTED_CODES = {
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExistException",
    "InvalidParameterValue",
    "ValidationError",
}


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


def _paragraphs_html(body: str) -> str:
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    return "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in paragraphs)


def render_customer_email(
    action: Action, subject: str, body: str, sender: str = ""
) -> EmailContent:
    """A playbook's customer message with ``$account_name`` and ``$sender`` filled in."""
    values = {"account_name": action.account_name or "there", "sender": sender}
    filled_subject = Template(subject).safe_substitute(values)
    filled_text = Template(body).safe_substitute(values).strip() + "\n"
    page = f"<html><body>{_paragraphs_html(filled_text)}</body></html>"
    return EmailContent(filled_subject, filled_text, page)


def render_internal_email(action: Action, category: str | None = None) -> EmailContent:
    """The alert for a colleague: account, ARR, churn risk, health, reasons, next step."""
    urgent = "[Urgent] " if action.priority == "urgent" else ""
    subject = (
        f"{urgent}{text.title(action, category)} ({text.percent(action.churn_30)} in 30 days, "
        f"{text.money(action.arr)} ARR)"
    )
    facts = [
        ("Account", f"{text.account_label(action)} ({action.account_id})"),
        ("ARR", text.money(action.arr)),
        ("Churn risk (30 days)", text.percent(action.churn_30)),
        ("Health", f"{action.health}/100, {text.TIER_LABELS.get(action.tier, action.tier)}"),
        ("Priority", action.priority),
    ]
    reasons = [(reason.sentence, text.reason_numbers(reason)) for reason in action.reasons]
    footer = (
        f"Playbook {action.playbook} · model {action.model_version or 'n/a'} · "
        f"action {action.action_id[:12]} · decided {action.decided_at:%Y-%m-%d %H:%M} UTC"
    )

    plain = [subject, ""]
    plain += [f"{label}: {value}" for label, value in facts]
    plain += ["", "Why:"] + [f"- {sentence} ({numbers})" for sentence, numbers in reasons]
    plain += ["", f"Recommended action: {action.recommended_action}", "", footer]

    rows = "".join(
        f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    items = "".join(
        f"<li>{html.escape(sentence)} <em>({html.escape(numbers)})</em></li>"
        for sentence, numbers in reasons
    )
    page = (
        f"<html><body><h2>{html.escape(text.title(action, category))}</h2>"
        f"<table>{rows}</table><h3>Why</h3><ul>{items}</ul>"
        f"<h3>Recommended action</h3><p>{html.escape(action.recommended_action)}</p>"
        f"<p style='color:#666;font-size:12px'>{html.escape(footer)}</p></body></html>"
    )
    return EmailContent(subject[:200], "\n".join(plain) + "\n", page)


def send_email(content: EmailContent, recipient: str, sender: str, ses: Any) -> str:
    """Send with SES; returns the SES MessageId.

    Raises
    ------
    ChannelNotConfigured without a sender; DeliveryRejected when SES refuses the message for
    good (unverified identity, bad address); RetryableDelivery on throttling or outages.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if not sender:
        raise ChannelNotConfigured("no sender e-mail is configured (set SENDER_EMAIL)")
    if "@" not in recipient:
        raise DeliveryRejected("the action has no e-mail address for its recipient")
    try:
        response = ses.send_email(
            Source=sender,
            Destination={"ToAddresses": [recipient]},
            Message={
                "Subject": {"Data": content.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": content.text, "Charset": "UTF-8"},
                    "Html": {"Data": content.html, "Charset": "UTF-8"},
                },
            },
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in REJECTED_CODES:
            raise DeliveryRejected(f"SES refused the message ({code})") from exc
        raise RetryableDelivery(f"SES failed ({code or 'unknown error'})") from exc
    except BotoCoreError as exc:
        raise RetryableDelivery("SES could not be reached") from exc
    return str(response["MessageId"])
