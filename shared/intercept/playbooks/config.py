"""Playbook configuration: the YAML model, its validation and where it is loaded from.

The package ships `default_playbooks.yaml`; a deployment replaces it by pointing
PLAYBOOKS_PATH (settings.playbooks_path) at its own file. docs/playbooks.md is the reference.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from intercept.errors import ConfigurationError
from intercept.records import Channel, Tier
from intercept.settings import get_settings

DEFAULT_PLAYBOOKS = "default_playbooks.yaml"
Priority = Literal["low", "normal", "high", "urgent"]
Category = Literal["alert", "escalation", "marketing", "expansion"]

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """Parse ``"7d"``, ``"12h"``, ``"30m"``, ``"2w"``, ``"45s"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(
            f"duration {value!r} is not understood; expected a number and a unit, "
            "e.g. 45s, 30m, 12h, 7d or 2w"
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class Band(BaseModel):
    """A numeric band: `min` inclusive, `max` exclusive; either may be left open.

    An unknown value (an account without ARR, say) is outside every band unless
    `include_unknown` is true.
    """

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    include_unknown: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"band min {self.min} must be below max {self.max}")
        return self

    def contains(self, value: float | None) -> bool:
        if value is None:
            return self.include_unknown
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value >= self.max)


class When(BaseModel):
    """Conditions over the new score, the previous score and the account; all must hold."""

    model_config = ConfigDict(extra="forbid")

    churn_30: Band | None = None
    churn_60: Band | None = None
    churn_90: Band | None = None
    health: Band | None = None
    expansion: Band | None = None
    arr: Band | None = None
    tier_in: list[Tier] | None = None
    tier_entered: list[Tier] | None = Field(
        default=None,
        description="the new tier is listed and differs from the previous one (or none)",
    )
    tier_exited: list[Tier] | None = Field(
        default=None, description="the previous tier is listed and the new one differs"
    )
    plan_in: list[str] | None = None


class Recipient(BaseModel):
    """Who receives the action.

    Roles resolve from the account: ``owner`` (owner CSM), ``account_executive`` and
    ``customer_contact`` (the account's ``contact_email`` / ``billing_email`` / ``email``
    trait). Any other role, e.g. ``executive``, needs a fixed `address`. `fallback_roles` are
    tried in order when the role has no address on this account.
    """

    model_config = ConfigDict(extra="forbid")

    role: str
    address: str | None = None
    fallback_roles: list[str] = Field(default_factory=list)


class Message(BaseModel):
    """Customer-facing e-mail text; ``$account_name`` and ``$sender`` are substituted."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)


class Playbook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    description: str = ""
    enabled: bool = True
    category: Category = "alert"
    when: When
    channels: list[Channel] = Field(min_length=1)
    recipient: Recipient
    priority: Priority = "normal"
    cooldown: timedelta = timedelta(days=7)
    holdout: float = Field(default=0.0, ge=0.0, lt=1.0)
    suppressible: bool | None = Field(
        default=None,
        description="skip accounts with an open escalation or suppression; "
        "defaults to true for marketing playbooks",
    )
    action: str | None = Field(
        default=None,
        description="recommended action; when absent the score's next-best-action is used",
    )
    message: Message | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_channel(cls, data: Any) -> Any:
        if isinstance(data, dict) and "channel" in data:
            data = dict(data)
            channel = data.pop("channel")
            data.setdefault("channels", [channel] if isinstance(channel, str) else channel)
        return data

    @field_validator("cooldown", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError(
                f"channels {value} repeat a channel; list each of slack/email/webhook once"
            )
        return value

    @model_validator(mode="after")
    def _customer_mail_has_text(self) -> Playbook:
        if (
            self.recipient.role == "customer_contact"
            and "email" in self.channels
            and not self.message
        ):
            raise ValueError(
                f"playbook {self.name!r} e-mails the customer contact but has no `message`; "
                "customer e-mails need a subject and text (internal numbers are never sent out)"
            )
        return self

    @property
    def respects_suppressions(self) -> bool:
        return self.category == "marketing" if self.suppressible is None else self.suppressible


class PlaybookSet(BaseModel):
    """Every playbook of a deployment, evaluated in file order."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    suppression_signals: list[str] = Field(
        default_factory=lambda: ["open_escalation"],
        description="score signals that, when above zero, mean an escalation is open",
    )
    playbooks: list[Playbook]

    @field_validator("playbooks")
    @classmethod
    def _unique_names(cls, value: list[Playbook]) -> list[Playbook]:
        names = [playbook.name for playbook in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"playbook names must be unique; repeated: {', '.join(repeated)}")
        return value

    def get(self, name: str) -> Playbook | None:
        return next((playbook for playbook in self.playbooks if playbook.name == name), None)

    @property
    def enabled(self) -> list[Playbook]:
        return [playbook for playbook in self.playbooks if playbook.enabled]


def parse_playbooks(text: str, origin: str = "playbooks") -> PlaybookSet:
    """Validate playbook YAML; errors name the origin and the offending field."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{origin} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{origin} must be a mapping with a `playbooks` list")
    try:
        return PlaybookSet.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"{origin} has invalid playbooks: {problems}") from exc


@lru_cache(maxsize=4)
def _load(path: str) -> PlaybookSet:
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigurationError(
                f"PLAYBOOKS_PATH points at {path}, which is not a file; "
                "set it to a playbooks YAML file or unset it for the defaults"
            )
        return parse_playbooks(file.read_text(encoding="utf-8"), origin=path)
    text = resources.files("intercept.playbooks").joinpath(DEFAULT_PLAYBOOKS).read_text("utf-8")
    return parse_playbooks(text, origin=DEFAULT_PLAYBOOKS)


def load_playbooks(path: str | None = None) -> PlaybookSet:
    """The playbooks in force: `path`, else settings.playbooks_path, else the packaged defaults.

    Parsed once per container and path.
    """
    return _load(get_settings().playbooks_path if path is None else path)


def reset_playbooks() -> None:
    """Forget parsed playbooks (tests, or after PLAYBOOKS_PATH changed)."""
    _load.cache_clear()
