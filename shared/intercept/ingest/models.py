"""Request and response models of the Segment-compatible tracking API.

The same models validate every call and generate the OpenAPI document, so the two cannot
drift. Unknown fields are kept (Segment payloads carry many optional ones); ids sent as
numbers are read as strings, as Segment does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

SEGMENT_CALLS = ("identify", "track", "page", "screen", "group", "alias")

_ID = Field(default=None, max_length=1024)


class SegmentMessage(BaseModel):
    """Fields every Segment call shares (see Segment's common-fields spec)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    userId: str | None = Field(default=None, max_length=1024, description="your id of the user")
    anonymousId: str | None = _ID
    messageId: str | None = Field(
        default=None, max_length=1024, description="unique per message; assigned when absent"
    )
    timestamp: str | None = Field(
        default=None, description="ISO-8601 time the event happened, e.g. 2015-02-02T00:30:08Z"
    )
    originalTimestamp: str | None = None
    sentAt: str | None = None
    context: dict[str, Any] = Field(
        default_factory=dict, description="context.groupId links the call to an account"
    )
    integrations: dict[str, Any] = Field(default_factory=dict)
    writeKey: str | None = Field(default=None, description="alternative to Basic auth")

    @model_validator(mode="after")
    def _someone(self) -> SegmentMessage:
        if not (self.userId or self.anonymousId):
            raise ValueError("userId or anonymousId is required (a non-empty string)")
        return self


class IdentifyCall(SegmentMessage):
    type: Literal["identify"] = "identify"
    traits: dict[str, Any] = Field(default_factory=dict)


class TrackCall(SegmentMessage):
    type: Literal["track"] = "track"
    event: str = Field(min_length=1, max_length=256, description="the action, e.g. Signed In")
    properties: dict[str, Any] = Field(default_factory=dict)


class PageCall(SegmentMessage):
    type: Literal["page"] = "page"
    name: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=256)
    properties: dict[str, Any] = Field(default_factory=dict)


class ScreenCall(SegmentMessage):
    type: Literal["screen"] = "screen"
    name: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=256)
    properties: dict[str, Any] = Field(default_factory=dict)


class GroupCall(SegmentMessage):
    type: Literal["group"] = "group"
    groupId: str = Field(min_length=1, max_length=1024, description="the account's id")
    traits: dict[str, Any] = Field(
        default_factory=dict, description="account traits: name, plan, mrr, seats, owner ..."
    )


class AliasCall(SegmentMessage):
    type: Literal["alias"] = "alias"
    previousId: str = Field(min_length=1, max_length=1024)
    userId: str | None = Field(default=None, max_length=1024)

    @model_validator(mode="after")
    def _user(self) -> AliasCall:
        if not self.userId:
            raise ValueError("userId is required for alias calls (a non-empty string)")
        return self


SegmentCall = Annotated[
    IdentifyCall | TrackCall | PageCall | ScreenCall | GroupCall | AliasCall,
    Field(discriminator="type"),
]

CALL_MODELS: dict[str, type[SegmentMessage]] = {
    "identify": IdentifyCall,
    "track": TrackCall,
    "page": PageCall,
    "screen": ScreenCall,
    "group": GroupCall,
    "alias": AliasCall,
}

BATCH_ITEM: TypeAdapter[Any] = TypeAdapter(SegmentCall)


class BatchCall(BaseModel):
    """``POST /v1/batch``: up to 2,500 calls and 500 KB; `context` applies to every item."""

    model_config = ConfigDict(extra="allow")

    batch: list[SegmentCall] = Field(max_length=2500)
    context: dict[str, Any] = Field(default_factory=dict)
    integrations: dict[str, Any] = Field(default_factory=dict)
    sentAt: str | None = None
    writeKey: str | None = None


class ItemIssue(BaseModel):
    """Why one item of a request was refused, or what was changed while accepting it."""

    index: int | None = Field(default=None, description="position in `batch` (batch only)")
    messageId: str | None = None
    field: str
    reason: str


class IngestResponse(BaseModel):
    """The 200 answer. Segment libraries read only `success`; the rest is for people."""

    success: Literal[True] = True
    accepted: int = Field(description="events accepted, archived and enqueued")
    rejected: list[ItemIssue] = Field(default_factory=list)
    warnings: list[ItemIssue] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every 4xx / 5xx answer."""

    error: str = Field(description="machine-readable code, e.g. bad_request")
    detail: str = Field(description="what was wrong and what is accepted")
    accepted: Any | None = Field(default=None, description="accepted values, when useful")
    code: str | None = Field(default=None, description="Segment routes: same as error")
    message: str | None = Field(default=None, description="Segment routes: same as detail")
