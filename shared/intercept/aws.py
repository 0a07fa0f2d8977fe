"""boto3 clients and resources, created once per container and reused across invocations.

The endpoint comes from botocore's own configuration (AWS_ENDPOINT_URL and friends), so the
same code talks to AWS, to moto in-process, or to moto's server mode.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10
)


@cache
def client(service: str) -> Any:
    """A cached low-level client for `service`."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def resource(service: str) -> Any:
    """A cached resource for `service` (DynamoDB tables read best through it)."""
    return boto3.resource(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Drop cached clients: needed when the endpoint or credentials change (tests, runtime)."""
    client.cache_clear()
    resource.cache_clear()
