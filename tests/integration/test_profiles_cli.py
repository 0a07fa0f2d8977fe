"""`intercept profile / account / export-person / delete-person / unmerge` against a server.

The read commands talk HTTP to the local runtime's server (what `intercept serve` runs) with
the bearer token from INTERCEPT_API_KEY; `unmerge` writes to the profiles table directly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from intercept.aws import client
from intercept.cli import main
from intercept.local.server import make_server
from intercept.profiles.consumer import sqs_records
from intercept.profiles.verify import fast_moto_transactions, free_port, make_event, scan
from intercept.settings import reset_settings


@pytest.fixture
def served(
    runtime: Any, sample_event: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    with fast_moto_transactions():
        anonymous = make_event(0, person={"anonymous_id": "3f6c1e0a-72b4-4a2d-bb8e-51f0a9d2c7e4"})
        known = make_event(1, person={"user_id": "u_1042"}, traits={"team": "analytics"})
        early = sqs_records([{"events": [e.model_dump(mode="json") for e in (anonymous, known)]}])
        assert runtime.invoke("MergeFunction", {"Records": early}) == {"batchItemFailures": []}
        merged = runtime.invoke("MergeFunction", sample_event("merge_sqs.json"))
        assert merged == {"batchItemFailures": []}
        server = make_server(runtime, "127.0.0.1", free_port())
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        host, port = server.server_address[:2]
        monkeypatch.setenv("INTERCEPT_API_URL", f"http://{host}:{port}")
        monkeypatch.setenv("INTERCEPT_API_KEY", "test-api-key")
        monkeypatch.setenv("PROFILES_TABLE", runtime.physical("ProfilesTable"))
        reset_settings()
        try:
            yield runtime
        finally:
            server.shutdown()


def test_read_commands_show_people_and_accounts(
    served: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["profile", "email:Ana.Lima@acme.io"]) == 0
    shown = capsys.readouterr().out
    assert "user_id:u_1042" in shown and 'team = "analytics"' in shown and "acme" in shown
    assert main(["profile", "user_id:u_1042", "--json"]) == 0
    person = json.loads(capsys.readouterr().out)
    assert person["traits"]["name"] == "Ana Lima" and person["accounts"] == ["acme"]

    assert main(["account", "acme"]) == 0
    shown = capsys.readouterr().out
    assert "Acme Inc" in shown and "past_due" in shown and "stripe_customer:cus_Q4aZ81mTz0" in shown
    assert main(["account", "hubspot_company:18446532", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["account"]["mrr"] == 1250.0

    assert main(["profile", "email:nobody@acme.io"]) == 2
    assert "no person has that email identifier" in capsys.readouterr().err
    monkeypatch.setenv("INTERCEPT_API_KEY", "wrong")
    assert main(["profile", "user_id:u_1042"]) == 2
    assert "401" in capsys.readouterr().err


def test_unmerge_export_and_delete(served: Any, capsys: pytest.CaptureFixture[str]) -> None:
    (log,) = [
        i for i in scan(client("dynamodb"), served.physical("ProfilesTable")) if i["SK"] == "LOG"
    ]
    assert main(["unmerge", str(log["merge_id"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["identifiers_restored"] >= 1

    assert main(["export-person", "user_id:u_1042"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert "user_id:u_1042" in exported["identifiers"]

    assert main(["delete-person", "user_id:u_1042", "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["identifiers_deleted"] >= 1
    assert main(["profile", "user_id:u_1042"]) == 2


def test_unreachable_api_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["profile", "user_id:u_1", "--api-url", url]) == 2
    assert "cannot reach the read API" in capsys.readouterr().err
