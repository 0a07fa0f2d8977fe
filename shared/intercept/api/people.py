"""Read-API routes for people and accounts (included by the API app, which authenticates).

- ``GET /people/{identifier}``: a person by ``kind:value`` (``email:ana@acme.io``,
  ``user_id:u_1``, ``person_id:p_...``), with identifiers, traits and their sources.
- ``GET /people/{identifier}/export``: everything held about the person.
- ``DELETE /people/{identifier}``: delete the person (what remains is listed in the answer).
- ``GET /accounts/{account_id}``: an account by id or ``kind:value`` identifier.

Errors are `intercept.errors` exceptions; the app maps them to HTTP answers.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.api_gateway import Router
from botocore.exceptions import BotoCoreError, ClientError

from intercept.errors import DependencyFailure
from intercept.profiles.privacy import delete_person, export_person
from intercept.profiles.store import ProfileStore
from intercept.profiles.views import account_view, find_account, find_person, person_view

router = Router()
Handler = TypeVar("Handler", bound=Callable[..., Any])


def _table_errors(handler: Handler) -> Handler:
    """Turn AWS failures into `DependencyFailure` (a 503 the caller may retry)."""

    @wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyFailure(
                "the profiles table could not be reached; retry shortly"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _store() -> ProfileStore:
    return ProfileStore.from_settings()


@router.get("/people/<identifier>")
@_table_errors
def get_person(identifier: str) -> dict[str, Any]:
    return person_view(find_person(_store(), unquote(identifier)))


@router.get("/people/<identifier>/export")
@_table_errors
def export_person_route(identifier: str) -> dict[str, Any]:
    return export_person(_store(), unquote(identifier))


@router.delete("/people/<identifier>")
@_table_errors
def delete_person_route(identifier: str) -> dict[str, Any]:
    return delete_person(_store(), unquote(identifier))


@router.get("/accounts/<account_id>")
@_table_errors
def get_account(account_id: str) -> dict[str, Any]:
    store = _store()
    return account_view(store, find_account(store, unquote(account_id)))
