"""Outbound HTTP POST with urllib, and what an answer means for retrying.

Redirects are never followed (a webhook that moved is a configuration problem, and following
a redirect could send the signed body somewhere unintended). Only https URLs are accepted,
plus http to the loopback interface for local receivers.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from intercept.dispatch.errors import ChannelNotConfigured, DeliveryRejected, RetryableDelivery

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RETRYABLE_STATUSES = {408, 425, 429}
MAX_ANSWER_BYTES = 2048
Verdict = Literal["ok", "retry", "reject"]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str


Post = Callable[[str, bytes, Mapping[str, str], float], HttpAnswer]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, what: str) -> str:
    """Accept https, or http to the loopback interface; else say what is accepted."""
    if not url:
        raise ChannelNotConfigured(f"no {what} is configured")
    parts = urlsplit(url)
    local = parts.scheme == "http" and (parts.hostname or "") in LOOPBACK
    if not (parts.scheme == "https" and parts.hostname) and not local:
        raise ChannelNotConfigured(
            f"the {what} must be an https URL (or http to 127.0.0.1 for local receivers)"
        )
    return url


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float = 5.0) -> HttpAnswer:
    """POST `body`; any answer comes back as HttpAnswer, a network failure raises.

    Raises
    ------
    RetryableDelivery when the receiver could not be reached or did not answer in time.
    """
    # Limitation: a timeout after the receiver accepted the POST looks like a failure, so the
    # retry can deliver twice; webhook receivers can drop repeats by X-Intercept-Delivery, Slack
    # cannot.
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            text = response.read(MAX_ANSWER_BYTES).decode("utf-8", "replace")
            return HttpAnswer(response.status, text)
    except urllib.error.HTTPError as exc:
        text = exc.read(MAX_ANSWER_BYTES).decode("utf-8", "replace") if exc.fp else ""
        return HttpAnswer(exc.code, text)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RetryableDelivery(f"could not reach the receiver ({type(reason).__name__})") from exc


def verdict(status: int) -> Verdict:
    """2xx is delivered; 408, 425, 429 and 5xx may succeed later; anything else never will."""
    if 200 <= status < 300:
        return "ok"
    if status in RETRYABLE_STATUSES or status >= 500:
        return "retry"
    return "reject"


def raise_for_answer(answer: HttpAnswer, receiver: str) -> None:
    """Raise the delivery error an unsuccessful answer calls for; return on success."""
    outcome = verdict(answer.status)
    if outcome == "ok":
        return
    summary = f"{receiver} answered {answer.status} {answer.body[:80].strip()!r}"
    if outcome == "retry":
        raise RetryableDelivery(summary)
    raise DeliveryRejected(summary)
