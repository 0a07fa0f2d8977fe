"""Records that cross stage boundaries: accounts, daily activity, scores and actions.

Merge writes `Account` and `DailyActivity`; Score reads them and writes `Score`; the playbook
step turns a score into `Action` messages that Dispatch delivers. Keeping the shapes here lets
each stage change its internals without breaking the next one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["healthy", "watch", "at_risk", "critical"]
Channel = Literal["slack", "email", "webhook"]


class Account(BaseModel):
    """An account (a customer company) and its traits as resolved by Merge."""

    model_config = ConfigDict(extra="ignore")

    account_id: str
    name: str | None = None
    plan: str | None = None
    mrr: float | None = None
    arr: float | None = None
    seats: int | None = None
    usage_cap: float | None = Field(default=None, description="metered units allowed per day")
    owner: str | None = Field(default=None, description="owner CSM (e-mail or handle)")
    account_executive: str | None = None
    renewal_date: date | None = None
    lifecycle_stage: str | None = None
    status: str | None = None  # active, trialing, past_due, canceled
    domain: str | None = None
    first_seen: datetime | None = None
    canceled_at: datetime | None = None
    traits: dict[str, Any] = Field(default_factory=dict)


class DailyActivity(BaseModel):
    """One account's activity on one UTC day, bucketed by the event's `occurred_at`.

    Counters only grow; `people` and `modules` are what signals such as seat adoption and
    feature breadth are computed from.
    """

    model_config = ConfigDict(extra="ignore")

    account_id: str
    day: date
    events: int = 0
    people: set[str] = Field(default_factory=set, description="person ids active that day")
    logins: int = 0
    sessions: int = 0
    session_seconds: float = 0.0
    modules: dict[str, int] = Field(default_factory=dict, description="events per module")
    usage_units: float = 0.0
    onboarding_steps: set[str] = Field(default_factory=set)
    tickets_opened: int = 0
    tickets_opened_high: int = 0
    tickets_solved: int = 0
    escalations: int = 0
    satisfaction_good: int = 0
    satisfaction_bad: int = 0
    payment_failures: int = 0
    payments: int = 0
    seats: int | None = None

    @property
    def active_people(self) -> int:
        return len(self.people)


# The additive counters of `DailyActivity`, in the one order Merge writes and signals read.
DAILY_COUNTERS: tuple[str, ...] = (
    "events",
    "logins",
    "sessions",
    "session_seconds",
    "usage_units",
    "tickets_opened",
    "tickets_opened_high",
    "tickets_solved",
    "escalations",
    "satisfaction_good",
    "satisfaction_bad",
    "payment_failures",
    "payments",
)


class Reason(BaseModel):
    """One reason behind a score, in numbers and in a sentence a CSM can act on."""

    signal: str
    value: float | None
    baseline: float | None
    effect: float = Field(description="contribution to churn risk; positive raises risk")
    sentence: str


class NextBestAction(BaseModel):
    action: str
    evidence: list[str] = Field(default_factory=list)


class Score(BaseModel):
    """The scoring stage's verdict on one account as of one moment."""

    account_id: str
    as_of: datetime
    model_version: str
    churn_30: float = Field(ge=0, le=1)
    churn_60: float = Field(ge=0, le=1)
    churn_90: float = Field(ge=0, le=1)
    health: int = Field(ge=0, le=100)
    tier: Tier
    expansion: float = Field(ge=0, le=1)
    reasons: list[Reason] = Field(default_factory=list)
    next_best_action: NextBestAction | None = None
    arr: float | None = None
    signals: dict[str, float | None] = Field(default_factory=dict)


class Action(BaseModel):
    """A decision routed to a channel. `action_id` is the idempotency key end to end."""

    action_id: str
    account_id: str
    account_name: str | None = None
    playbook: str
    channel: Channel
    recipient_role: str
    recipient: str
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    churn_30: float
    health: int
    tier: Tier
    arr: float | None = None
    reasons: list[Reason] = Field(default_factory=list)
    recommended_action: str
    holdout: bool = False
    decided_at: datetime
    model_version: str | None = None
