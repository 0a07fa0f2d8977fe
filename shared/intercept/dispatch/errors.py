"""How a delivery can fail, and what each failure means for redelivery."""

from __future__ import annotations

from intercept.errors import ConfigurationError, DependencyFailure, InterceptError


class RetryableDelivery(DependencyFailure):
    """The receiver may accept the action later (timeout, 5xx, 408, 425, 429, throttling).

    Raised out of the record handler: the message returns to its queue, is retried after the
    visibility timeout and lands in the channel's DLQ after maxReceiveCount attempts.
    """

    code = "delivery_retryable"


class DeliveryRejected(InterceptError):
    """The receiver refused the action and will refuse it again (a 4xx, a redirect, an SES
    MessageRejected). Recorded as ``rejected`` on the action record and not retried."""

    status = 502
    code = "delivery_rejected"


class ChannelNotConfigured(ConfigurationError):
    """The channel has no endpoint (no Slack or webhook URL, no sender e-mail). Recorded as
    ``not_configured`` with the rendered message; a retry would not help."""

    code = "channel_not_configured"
