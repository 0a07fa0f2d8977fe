"""Run every benchmark area and write the figures to bench/results.json.

`python -m bench` runs all areas; `python -m bench spine model` runs the named ones and merges
their figures into the existing results file. Each area module exposes `run() -> dict`.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AREAS = ("spine", "ingest", "profiles", "model", "playbooks")
RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str]) -> int:
    areas = argv or list(AREAS)
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        print(f"unknown benchmark areas {unknown}; choose from {list(AREAS)}", file=sys.stderr)
        return 2
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for area in areas:
        try:
            module = importlib.import_module(f"bench.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{area}":
                raise
            print(f"[{area}] no benchmark module yet", file=sys.stderr)
            continue
        started = time.perf_counter()
        figures = module.run()
        print(f"[{area}] {time.perf_counter() - started:.1f} s")
        for name, value in figures.items():
            print(f"  {name} = {value}")
        results.update(figures)
    results["_measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["_machine"] = f"{platform.machine()} {platform.python_version()}"
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
