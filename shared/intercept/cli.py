"""The `intercept` command.

Each area registers its own subcommands from a module under `intercept.commands`; those
modules stay light and import heavy libraries inside the command functions.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from intercept.errors import InterceptError

COMMAND_MODULES = (
    "intercept.commands.runtime",
    "intercept.commands.ingest",
    "intercept.commands.profiles",
    "intercept.commands.model",
    "intercept.commands.views",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="intercept",
        description="Serverless customer intelligence: unify, score, explain and act.",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InterceptError as exc:
        print(f"intercept: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
