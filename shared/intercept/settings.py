"""Runtime settings: one validated model, read from the environment once per container."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field

from intercept.errors import ConfigurationError


class Settings(BaseModel):
    """Everything a handler needs to know about its deployment.

    Each field maps to one environment variable (upper-cased name). The template sets them;
    the local runtime resolves the same template, so the two never drift apart.
    """

    stage: str = "dev"
    profiles_table: str = ""
    idempotency_table: str = ""
    archive_bucket: str = ""
    ingest_queue_url: str = ""
    scoring_queue_url: str = ""
    actions_topic_arn: str = ""
    secret_id: str = Field(default="", description="Secrets Manager id of the webhook secrets")
    sender_email: str = ""
    playbooks_path: str = ""
    dedupe_days: int = Field(default=7, ge=1, le=365)
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    ingest_public_url: str = Field(
        default="", description="public base URL(s) of the ingest API behind a proxy or domain"
    )
    profile_rules: str = Field(
        default="", description="JSON overrides of identity and trait rules (profiles.rules)"
    )

    def require(self, name: str) -> str:
        """Return a setting that must be present, or fail naming the variable to set."""
        value = getattr(self, name)
        if not value:
            raise ConfigurationError(f"environment variable {name.upper()} is not set")
        return str(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment (cached; call `reset_settings` in tests)."""
    values = {
        name: os.environ[name.upper()]
        for name in Settings.model_fields
        if os.environ.get(name.upper()) not in (None, "")
    }
    return Settings.model_validate(values)


def reset_settings() -> None:
    """Forget the cached settings, e.g. after the local runtime changed the environment."""
    get_settings.cache_clear()
