"""Secrets: write keys, webhook signing secrets, the read-API key and delivery endpoints.

In AWS they live in one Secrets Manager secret (JSON, id in SECRET_ID) read through the
Powertools parameters utility with caching. Without SECRET_ID they come from environment
variables, which is how `intercept serve` is driven by real senders on a laptop:

- ``INTERCEPT_WRITE_KEYS``: ``key=source,key=source`` (Segment-compatible write keys)
- ``INTERCEPT_WEBHOOK_SECRET_<SOURCE>``: comma-separated, newest first, for rotation
  (``STRIPE``, ``ZENDESK``, ``HUBSPOT``, ``INTERCOM``, ``GENERIC_<NAME>``)
- ``INTERCEPT_API_KEY``: comma-separated bearer tokens for the read API
- ``INTERCEPT_SLACK_WEBHOOK_URL``, ``INTERCEPT_OUTBOUND_WEBHOOK_URL``,
  ``INTERCEPT_OUTBOUND_WEBHOOK_SECRET``: where Dispatch delivers.

The local runtime writes the same JSON into its (moto) Secrets Manager from these variables, so
the Secrets Manager path runs locally too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from intercept.errors import ConfigurationError
from intercept.settings import get_settings

WEBHOOK_PREFIX = "INTERCEPT_WEBHOOK_SECRET_"


class Secrets(BaseModel):
    write_keys: dict[str, str] = Field(default_factory=dict, description="write key -> source")
    webhook_secrets: dict[str, list[str]] = Field(default_factory=dict)
    api_keys: list[str] = Field(default_factory=list)
    slack_webhook_url: str = ""
    outbound_webhook_url: str = ""
    outbound_webhook_secret: str = ""

    def webhook_secrets_for(self, source: str) -> list[str]:
        """Active secrets for `source` (e.g. ``stripe`` or ``generic_github``), newest first."""
        return self.webhook_secrets.get(source.lower(), [])


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def secrets_from_env(environ: Mapping[str, str] | None = None) -> Secrets:
    """Build the secrets from ``INTERCEPT_*`` environment variables."""
    env = os.environ if environ is None else environ
    write_keys: dict[str, str] = {}
    for pair in _split(env.get("INTERCEPT_WRITE_KEYS", "")):
        key, sep, source = pair.partition("=")
        if not sep or not key or not source:
            raise ConfigurationError(
                "INTERCEPT_WRITE_KEYS must be 'key=source[,key=source...]'; one entry has no '='"
            )
        write_keys[key] = source
    webhook_secrets = {
        name[len(WEBHOOK_PREFIX) :].lower(): _split(value)
        for name, value in env.items()
        if name.startswith(WEBHOOK_PREFIX) and _split(value)
    }
    return Secrets(
        write_keys=write_keys,
        webhook_secrets=webhook_secrets,
        api_keys=_split(env.get("INTERCEPT_API_KEY", "")),
        slack_webhook_url=env.get("INTERCEPT_SLACK_WEBHOOK_URL", ""),
        outbound_webhook_url=env.get("INTERCEPT_OUTBOUND_WEBHOOK_URL", ""),
        outbound_webhook_secret=env.get("INTERCEPT_OUTBOUND_WEBHOOK_SECRET", ""),
    )


def load_secrets() -> Secrets:
    """The secrets in force: Secrets Manager when SECRET_ID is set, else the environment."""
    settings = get_settings()
    if not settings.secret_id:
        return secrets_from_env()

    from aws_lambda_powertools.utilities import parameters

    try:
        value: Any = _secrets_provider().get(
            settings.secret_id, transform="json", max_age=settings.secrets_max_age_seconds
        )
    except parameters.exceptions.GetParameterError as exc:
        raise ConfigurationError("could not read the secret named by SECRET_ID") from exc
    return Secrets.model_validate(value)


def _secrets_provider() -> Any:
    """One provider per Secrets Manager client, so its cache lives as long as the client."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from intercept.aws import client

    secretsmanager = client("secretsmanager")
    provider = _PROVIDERS.get(id(secretsmanager))
    if provider is None:
        _PROVIDERS.clear()
        provider = _PROVIDERS[id(secretsmanager)] = SecretsProvider(boto3_client=secretsmanager)
    return provider


_PROVIDERS: dict[int, Any] = {}
