"""`intercept demo`, `intercept serve` and `intercept invoke`: the template, run locally."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def register(subcommands: Any) -> None:
    demo = subcommands.add_parser(
        "demo", help="generate a company, run the whole loop locally, print the results"
    )
    demo.add_argument("--accounts", type=int, default=30, help="accounts to generate (30)")
    demo.add_argument("--days", type=int, default=90, help="days of history (90)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (7)")
    demo.add_argument("--root", type=Path, default=None, help="folder holding template.yaml")
    demo.set_defaults(func=_demo)

    serve = subcommands.add_parser("serve", help="serve the template's HTTP routes locally")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=3000, help="port (3000)")
    serve.add_argument("--moto-port", type=int, default=0, help="moto server port (free port)")
    serve.add_argument("--root", type=Path, default=None, help="folder holding template.yaml")
    serve.set_defaults(func=_serve)

    invoke = subcommands.add_parser(
        "invoke", help="invoke one function with an event file and print its response"
    )
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("event_file", type=Path, help="a JSON event, e.g. from events/")
    invoke.add_argument("--root", type=Path, default=None, help="folder holding template.yaml")
    invoke.set_defaults(func=_invoke)


def find_root(start: Path | None) -> Path:
    """The folder holding template.yaml: the given one, or the nearest above the cwd."""
    if start is not None:
        return start
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "template.yaml").is_file():
            return folder
    raise SystemExit("intercept: no template.yaml here or above; pass --root")


def _invoke(args: argparse.Namespace) -> int:
    from intercept.local.runtime import LocalRuntime
    from intercept.local.session import handler_output_to, local_aws

    try:
        event = json.loads(args.event_file.read_text())
    except (OSError, ValueError) as exc:
        print(f"intercept: cannot read event {args.event_file}: {exc}", file=sys.stderr)
        return 2
    with (
        handler_output_to(sys.stderr),
        local_aws("inprocess"),
        LocalRuntime.start(find_root(args.root)) as runtime,
    ):
        result = runtime.invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from intercept.local.runtime import LocalRuntime
    from intercept.local.server import Pump, make_server
    from intercept.local.session import local_aws

    with local_aws("server", port=args.moto_port) as endpoint:
        runtime = LocalRuntime.start(find_root(args.root))
        server = make_server(runtime, args.host, args.port)
        pump = Pump(runtime)
        pump.start()
        host, port = server.server_address[:2]
        print(f"intercept: serving http://{host!s}:{port} (moto at {endpoint})", flush=True)
        for route in runtime.routes:
            print(f"  {route.method:6} {route.path} -> {route.function}")
        _print_local_secrets()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            pump.stop()
            server.server_close()
            runtime.close()
    return 0


def _print_local_secrets() -> None:
    configured = [
        name
        for name in os.environ
        if name.startswith("INTERCEPT_WEBHOOK_SECRET_")
        or name in ("INTERCEPT_WRITE_KEYS", "INTERCEPT_API_KEY")
    ]
    if not configured:
        print(
            "  no INTERCEPT_WRITE_KEYS / INTERCEPT_WEBHOOK_SECRET_* / INTERCEPT_API_KEY set: "
            "every request will be refused with 401 (see README)"
        )


def _demo(args: argparse.Namespace) -> int:
    from intercept.local.demo import run_demo

    return run_demo(
        root=find_root(args.root), accounts=args.accounts, days=args.days, seed=args.seed
    )
