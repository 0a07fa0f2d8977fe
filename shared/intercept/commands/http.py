"""The read API's HTTP client for the shell commands.

Commands reach a running read API (`intercept serve` locally, or the deployed ReadApiUrl)
with urllib: ``--api-url`` (default INTERCEPT_API_URL, else http://127.0.0.1:3000) and a
bearer token from INTERCEPT_API_KEY (the first key when several are listed). Each command
decides how a failed call reads to its user, so the client raises its own two errors.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

DEFAULT_API_URL = "http://127.0.0.1:3000"
TIMEOUT_SECONDS = 15


class ApiAnswered(Exception):
    """The read API answered with an HTTP error status; `detail` is its explanation."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class ApiUnreachable(Exception):
    """No answer from the read API at `api_url`; `cause` is the network error."""

    def __init__(self, api_url: str, cause: OSError) -> None:
        super().__init__(f"cannot reach {api_url}: {cause}")
        self.api_url = api_url
        self.cause = cause


def add_api_options(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    """Add ``--api-url`` and, when `json_flag`, ``--json`` to a command's parser."""
    parser.add_argument(
        "--api-url",
        default=os.environ.get("INTERCEPT_API_URL") or DEFAULT_API_URL,
        help="read API base URL (INTERCEPT_API_URL, else http://127.0.0.1:3000)",
    )
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print the API's JSON answer")


def request_json(api_url: str, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """Call the read API and return its JSON answer (None for an empty body).

    Parameters whose value is None or "" are left out of the query string. Raises
    `ApiAnswered` for an HTTP error status and `ApiUnreachable` when no answer came.
    """
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    url = api_url.rstrip("/") + path + (f"?{query}" if query else "")
    request = urllib.request.Request(url, headers=_headers(), method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise ApiAnswered(exc.code, _error_detail(exc)) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ApiUnreachable(api_url, exc) from exc


def _headers() -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "intercept-cli/1"}
    token = (os.environ.get("INTERCEPT_API_KEY") or "").split(",")[0].strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    return str(body.get("detail") or body.get("error") or exc.reason or "no detail")
