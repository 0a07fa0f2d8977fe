"""`intercept invoke` and `intercept serve`, driven the way a developer drives them."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intercept.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_invoke_prints_the_handler_response(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "PlannerFunction", str(ROOT / "events" / "planner_schedule.json")])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed == {"accounts": 0, "as_of": "2026-12-03T06:00:00+00:00"}


def test_invoke_unknown_function_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "NoSuchFunction", str(ROOT / "events" / "planner_schedule.json")])

    assert code == 2
    assert "ScoreFunction" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _request(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def served(local_secrets: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, **local_secrets, "POWERTOOLS_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen(
        [sys.executable, "-m", "intercept.cli", "serve", "--port", str(port), "--root", str(ROOT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert "serving http://127.0.0.1" in first, first
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_takes_a_segment_call_through_to_a_profile(served: str) -> None:
    write_key = base64.b64encode(b"wk_test_web:").decode()
    track = {
        "userId": "u_cli_1",
        "event": "Signed In",
        "context": {"groupId": "acct_cli"},
        "messageId": "m-cli-1",
    }
    bearer = {"Authorization": "Bearer test-api-key"}

    status, body = _request(
        f"{served}/v1/track",
        track,
        {"Authorization": f"Basic {write_key}", "Content-Type": "application/json"},
    )
    assert (status, body["success"], body["accepted"]) == (200, True, 1)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, person = _request(f"{served}/people/user_id:u_cli_1", headers=bearer)
        if status == 200:
            break
        time.sleep(0.3)
    assert status == 200, person
    assert "acct_cli" in json.dumps(person)


def test_serve_refuses_the_read_api_without_a_key(served: str) -> None:
    status, body = _request(f"{served}/accounts")

    assert status == 401
    assert body["error"] == "unauthorized"
