"""`intercept profile`, `account`, `export-person`, `delete-person` and `unmerge`.

The first four call a running read API (`intercept serve` locally, or the deployed
ReadApiUrl) over HTTP: ``--api-url`` (default INTERCEPT_API_URL, else
http://127.0.0.1:3000) with the bearer token in INTERCEPT_API_KEY (the first key when
several are listed). `unmerge` has no API route: it writes to the profiles table named by
PROFILES_TABLE with the ambient AWS credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import quote

from intercept.commands.http import ApiAnswered, ApiUnreachable, add_api_options, request_json
from intercept.errors import BadRequest, DependencyFailure, InterceptError, NotFound


def register(subcommands: Any) -> None:
    profile = subcommands.add_parser(
        "profile", help="a person by identifier, e.g. email:ana@acme.io or user_id:u_1"
    )
    profile.add_argument("identifier", help="kind:value (user_id, email, anonymous_id, ...)")
    add_api_options(profile, json_flag=True)
    profile.set_defaults(func=_profile)

    account = subcommands.add_parser("account", help="an account by id or kind:value identifier")
    account.add_argument("account_id", help="account id, or e.g. stripe_customer:cus_9")
    add_api_options(account, json_flag=True)
    account.set_defaults(func=_account)

    export = subcommands.add_parser("export-person", help="print everything held about a person")
    export.add_argument("identifier", help="kind:value, e.g. email:ana@acme.io")
    add_api_options(export, json_flag=False)
    export.set_defaults(func=_export)

    delete = subcommands.add_parser("delete-person", help="delete a person's data")
    delete.add_argument("identifier", help="kind:value, e.g. email:ana@acme.io")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_api_options(delete, json_flag=False)
    delete.set_defaults(func=_delete)

    unmerge = subcommands.add_parser("unmerge", help="undo one merge from the merge log")
    unmerge.add_argument("merge_id", help="the merge id, e.g. m_3f2a... (see the merge log)")
    unmerge.set_defaults(func=_unmerge)


def call_api(api_url: str, method: str, path: str) -> Any:
    """Call the read API and return its JSON answer; errors become `InterceptError`s."""
    try:
        return request_json(api_url, method, path)
    except ApiAnswered as exc:
        raise _api_error(exc) from exc
    except ApiUnreachable as exc:
        raise DependencyFailure(
            f"cannot reach the read API at {api_url} ({type(exc.cause).__name__}); start "
            "`intercept serve` or pass --api-url"
        ) from exc


def _api_error(exc: ApiAnswered) -> InterceptError:
    if exc.status == 404:
        return NotFound(exc.detail)
    if 400 <= exc.status < 500:
        return BadRequest(f"the read API answered {exc.status}: {exc.detail}")
    return DependencyFailure(f"the read API answered {exc.status}: {exc.detail}")


def _segment(value: str) -> str:
    return quote(value, safe=":@")


def _profile(args: argparse.Namespace) -> int:
    person = call_api(args.api_url, "GET", f"/people/{_segment(args.identifier)}")
    if args.json:
        _print_json(person)
        return 0
    print(f"person      {person['person_id']}")
    print(f"first seen  {person.get('first_seen') or '-'}")
    print(f"last seen   {person.get('last_seen') or '-'}")
    print(f"accounts    {', '.join(person.get('accounts', [])) or '-'}")
    print("identifiers")
    for token in person.get("identifiers", []):
        print(f"  {token}")
    sources = person.get("trait_sources", {})
    if person.get("traits"):
        print("traits")
    for name, value in sorted(person.get("traits", {}).items()):
        source = sources.get(name, {}).get("source", "?")
        print(f"  {name} = {json.dumps(value)}  ({source})")
    return 0


def _account(args: argparse.Namespace) -> int:
    view = call_api(args.api_url, "GET", f"/accounts/{_segment(args.account_id)}")
    if args.json:
        _print_json(view)
        return 0
    account = view["account"]
    print(f"account     {account['account_id']}  {account.get('name') or ''}".rstrip())
    for name in ("plan", "status", "mrr", "arr", "seats", "owner", "renewal_date"):
        if account.get(name) is not None:
            print(f"{name:<11} {account[name]}")
    print(f"identifiers {', '.join(view.get('identifiers', []))}")
    print(f"people      {len(view.get('people', []))}")
    activity = view.get("activity", {})
    if activity:
        print(
            f"last {activity['days']} days: {activity['events']} events on "
            f"{activity['active_days']} days, {activity['logins']} logins, "
            f"{activity['active_people']} active people, "
            f"{activity['tickets_opened']} tickets opened"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    _print_json(call_api(args.api_url, "GET", f"/people/{_segment(args.identifier)}/export"))
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise BadRequest("refusing to delete without confirmation; pass --yes")
        answer = input(f"delete every profile record of {args.identifier}? type 'delete': ")
        if answer.strip() != "delete":
            print("nothing deleted")
            return 1
    report = call_api(args.api_url, "DELETE", f"/people/{_segment(args.identifier)}")
    _print_json(report)
    return 0


def _unmerge(args: argparse.Namespace) -> int:
    from intercept.profiles.merge import Merger
    from intercept.profiles.store import ProfileStore

    report = Merger(ProfileStore.from_settings()).unmerge(args.merge_id)
    _print_json(report.as_dict())
    return 0


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, default=str))
