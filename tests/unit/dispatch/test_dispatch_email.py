"""E-mail rendering: numbers for colleagues, only the playbook's words for customers."""

from __future__ import annotations

from collections.abc import Callable

from intercept.dispatch.email import render_customer_email, render_internal_email
from intercept.dispatch.http import verdict
from intercept.records import Action

ActionFactory = Callable[..., Action]


def test_internal_email_carries_numbers_reasons_and_next_step(sample_action: ActionFactory) -> None:
    action = sample_action("email")

    content = render_internal_email(action, "escalation")

    assert content.subject.startswith("[Urgent] Escalation: churn risk: Contoso Health")
    assert "58% in 30 days" in content.subject and "$312,000 ARR" in content.subject
    assert "Health: 29/100, critical" in content.text
    assert "logins_per_active_seat_7d 1.2 vs 4.8 usual" in content.text
    assert f"Recommended action: {action.recommended_action}" in content.text
    assert "<h2>Escalation: churn risk: Contoso Health</h2>" in content.html
    assert content.html.count("<li>") == len(action.reasons)


def test_internal_email_escapes_html_from_account_data(sample_action: ActionFactory) -> None:
    action = sample_action("email", account_name="<script>alert(1)</script>")

    content = render_internal_email(action, "alert")

    assert "<script>" not in content.html
    assert "&lt;script&gt;" in content.html


def test_customer_email_fills_template_and_leaks_no_scores(sample_action: ActionFactory) -> None:
    action = sample_action("email", recipient_role="customer_contact", recipient="a@c.example")

    content = render_customer_email(
        action, "News for $account_name", "Hello $account_name,\n\nSee you.\n$sender", "CS team"
    )

    assert content.subject == "News for Contoso Health"
    assert content.text == "Hello Contoso Health,\n\nSee you.\nCS team\n"
    assert "<p>Hello Contoso Health,</p>" in content.html
    for secret in ("58%", "0.58", "churn", "logins_per_active_seat", "312,000"):
        assert secret not in content.text and secret not in content.html


def test_http_verdicts_split_retryable_from_permanent() -> None:
    assert [verdict(s) for s in (200, 201, 204)] == ["ok"] * 3
    assert [verdict(s) for s in (408, 425, 429, 500, 502, 503, 504)] == ["retry"] * 7
    assert [verdict(s) for s in (301, 302, 400, 401, 403, 404, 410, 422)] == ["reject"] * 8
