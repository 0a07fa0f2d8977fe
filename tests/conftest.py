"""Fixtures shared by every test layer.

AWS credentials are fake and the region fixed before any boto3 client exists; moto is
started per test by the `aws` fixture, and the local runtime by `runtime`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
REFERENCE = ROOT.parent / "shared" / "reference"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "InterceptTest",
        "POWERTOOLS_SERVICE_NAME": "intercept",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_PROFILE", None)

# Property tests are seeded (derandomize) and keep no example database, so every run, on any
# machine, tries the same cases; no deadline, since a loaded 2-core CI box is slow at times.
settings.register_profile(
    "intercept",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("intercept")


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process for one test; clients cached by the package are dropped around it."""
    from moto import mock_aws

    from intercept.aws import reset_clients
    from intercept.settings import reset_settings

    reset_clients()
    reset_settings()
    with mock_aws():
        yield
    reset_clients()
    reset_settings()


@pytest.fixture
def sample_event() -> Any:
    """Load a sample event from `events/` by file name."""

    def load(name: str) -> Any:
        return json.loads((EVENTS / name).read_text())

    return load


@pytest.fixture
def reference_payloads() -> Path:
    """The vendors' published payloads beside the checkout; skipped when they are absent."""
    folder = REFERENCE / "payloads"
    if not folder.is_dir():
        pytest.skip(f"reference payloads not found at {folder} (read-only material beside repo)")
    return folder


@pytest.fixture
def reference_datasets() -> Path:
    folder = REFERENCE / "datasets"
    if not folder.is_dir():
        pytest.skip(f"reference datasets not found at {folder} (read-only material beside repo)")
    return folder


LOCAL_SECRETS = {
    "INTERCEPT_WRITE_KEYS": "wk_test_web=web,wk_test_mobile=mobile",
    "INTERCEPT_WEBHOOK_SECRET_STRIPE": "whsec_test_current,whsec_test_previous",
    "INTERCEPT_WEBHOOK_SECRET_ZENDESK": "zendesk-test-secret",
    "INTERCEPT_WEBHOOK_SECRET_HUBSPOT": "hubspot-test-secret",
    "INTERCEPT_WEBHOOK_SECRET_INTERCOM": "intercom-test-secret",
    "INTERCEPT_WEBHOOK_SECRET_GENERIC_GITHUB": "generic-test-secret",
    "INTERCEPT_API_KEY": "test-api-key",
}


@pytest.fixture
def local_secrets() -> dict[str, str]:
    """The INTERCEPT_* variables the `runtime` fixture starts with."""
    return dict(LOCAL_SECRETS)


@pytest.fixture
def runtime(aws: None, local_secrets: dict[str, str]) -> Iterator[Any]:
    """The project's own template, provisioned in moto and wired to its handlers."""
    from intercept.local.runtime import LocalRuntime

    started = LocalRuntime.start(ROOT, env=local_secrets)
    yield started
    started.close()
