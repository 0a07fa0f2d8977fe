"""Start moto for the local runtime: in-process (fast, default) or as a server on loopback.

The server mode is for whatever must connect from outside the process: the AWS CLI, a second
process, or clients in several threads that should go through real HTTP.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TextIO

from intercept.aws import reset_clients
from intercept.local.runtime import LOCAL_DEFAULTS
from intercept.settings import reset_settings

Mode = Literal["inprocess", "server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_aws(mode: Mode = "inprocess", port: int = 0) -> Iterator[str | None]:
    """Run the body against moto; yields the server's endpoint URL in server mode."""
    saved = dict(os.environ)
    os.environ.update(LOCAL_DEFAULTS)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    reset_clients()
    reset_settings()
    try:
        if mode == "server":
            from moto.server import ThreadedMotoServer

            port = port or free_port()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            server.start()
            endpoint = f"http://127.0.0.1:{port}"
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            reset_clients()
            try:
                yield endpoint
            finally:
                server.stop()
        else:
            from moto import mock_aws

            with mock_aws():
                yield None
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()
        reset_settings()


@contextmanager
def handler_output_to(stream: TextIO) -> Iterator[None]:
    """Send what handlers log or print (logs, metric records) to `stream`.

    The local runtime runs every handler in this process; this keeps a command's own answer
    (an invoke's response, the demo's tables) apart from the functions' output.
    """
    with contextlib.redirect_stdout(stream):
        from intercept.observability import logger

        streams = [
            (handler, handler.stream)
            for handler in logging.getLogger(logger.name).handlers
            if isinstance(handler, logging.StreamHandler)
        ]
        for handler, _ in streams:
            handler.stream = stream  # assigned, not setStream(): no flush of a stale stream
        try:
            yield
        finally:
            for handler, previous in streams:
                handler.stream = previous
