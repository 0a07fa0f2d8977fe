"""Playbook YAML: the packaged defaults, overrides through PLAYBOOKS_PATH, and validation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from intercept.errors import ConfigurationError
from intercept.playbooks.config import (
    Band,
    load_playbooks,
    parse_duration,
    parse_playbooks,
    reset_playbooks,
)
from intercept.settings import reset_settings

MINIMAL = """
version: 1
playbooks:
  - name: only-slack
    when: {churn_30: {min: 0.5}}
    channel: slack
    recipient: {role: owner}
"""


@pytest.fixture(autouse=True)
def fresh_config() -> Iterator[None]:
    reset_playbooks()
    reset_settings()
    yield
    reset_playbooks()
    reset_settings()


def test_defaults_ship_the_four_documented_playbooks() -> None:
    config = load_playbooks("")

    by_name = {playbook.name: playbook for playbook in config.playbooks}

    assert set(by_name) == {
        "exec-escalation",
        "csm-risk-alert",
        "reengagement-email",
        "expansion-signal",
    }
    assert by_name["exec-escalation"].channels == ["slack", "email"]
    assert by_name["exec-escalation"].priority == "urgent"
    assert by_name["csm-risk-alert"].recipient.role == "owner"
    assert by_name["reengagement-email"].respects_suppressions
    assert not by_name["csm-risk-alert"].respects_suppressions
    assert by_name["expansion-signal"].recipient.fallback_roles == ["owner"]
    assert by_name["csm-risk-alert"].cooldown == timedelta(days=7)


def test_playbooks_path_setting_replaces_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "playbooks.yaml"
    file.write_text(MINIMAL)
    monkeypatch.setenv("PLAYBOOKS_PATH", str(file))

    config = load_playbooks()

    assert [playbook.name for playbook in config.playbooks] == ["only-slack"]
    assert config.playbooks[0].channels == ["slack"]


def test_playbooks_path_to_missing_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOKS_PATH", str(tmp_path / "absent.yaml"))

    with pytest.raises(ConfigurationError, match="PLAYBOOKS_PATH"):
        load_playbooks()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("45s", 45), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600), (90, 90)],
)
def test_parse_duration_accepts_units(text: object, expected: int) -> None:
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["7 days", "d7", "-1d", "", "1y"])
def test_parse_duration_rejects_unknown_forms(text: str) -> None:
    with pytest.raises(ValueError, match="e.g. 45s"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (MINIMAL.replace("channel: slack", "channel: pager"), "channels"),
        (MINIMAL.replace("{min: 0.5}", "{min: 0.5, max: 0.2}"), "below max"),
        (MINIMAL.replace("recipient:", "recipents:"), "recipents"),
        (MINIMAL + MINIMAL.split("playbooks:")[1], "repeated: only-slack"),
        (MINIMAL.replace("name: only-slack", "name: Only Slack"), "name"),
        ("playbooks: [", "not valid YAML"),
        ("- just a list", "mapping"),
    ],
)
def test_invalid_playbooks_are_refused_with_the_field(yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_playbooks(yaml_text, origin="custom.yaml")


def test_customer_email_without_message_is_refused() -> None:
    text = MINIMAL.replace("channel: slack", "channel: email").replace(
        "role: owner", "role: customer_contact"
    )

    with pytest.raises(ConfigurationError, match="customer e-mails need a subject"):
        parse_playbooks(text)


@pytest.mark.parametrize(
    ("band", "value", "inside"),
    [
        (Band(min=0.3), 0.3, True),
        (Band(min=0.3), 0.2999, False),
        (Band(max=200_000), 200_000, False),
        (Band(max=200_000), 199_999.99, True),
        (Band(min=0.15, max=0.3), 0.3, False),
        (Band(min=1), None, False),
        (Band(max=1, include_unknown=True), None, True),
    ],
)
def test_band_min_is_inclusive_and_max_exclusive(
    band: Band, value: float | None, inside: bool
) -> None:
    assert band.contains(value) is inside
