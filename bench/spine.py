"""Spine figures: fresh clone to finished demo, `make test` wall time, handler cold imports.

`demo_seconds` clones the committed HEAD into a temporary folder and runs `make demo` there,
so the venv is created and installed from scratch (the package manager's download cache is
the machine's, as on any developer laptop after the first install). `test_seconds` then runs
`make test` in the same clone. `cold_import_seconds_<function>` is the median over five fresh
interpreters of importing the handler module and running its init (the score handler loads
its model at init), after one warm-up run that writes the bytecode cache.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("ingest", "merge", "score", "planner", "dispatch", "api")
IMPORT_PROBE = """
import sys, time
started = time.perf_counter()
sys.path[:0] = [{code!r}, {shared!r}, {model!r}]
import app
print(time.perf_counter() - started)
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "intercept",
            "POWERTOOLS_METRICS_NAMESPACE": "Intercept",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def cold_import_seconds(function: str, runs: int = 5) -> float:
    code = IMPORT_PROBE.format(
        code=str(ROOT / "functions" / function),
        shared=str(ROOT / "shared"),
        model=str(ROOT / "model"),
    )
    python = str(ROOT / ".venv" / "bin" / "python")
    env = _clean_env()
    timings = []
    for attempt in range(runs + 1):
        output = subprocess.run(
            [python, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        if attempt:
            timings.append(float(output.strip().splitlines()[-1]))
    return round(statistics.median(timings), 3)


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=_clean_env(), check=True, stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - started, 1)


def run() -> dict[str, float]:
    figures = {f"cold_import_seconds_{name}": cold_import_seconds(name) for name in FUNCTIONS}
    if os.environ.get("BENCH_SKIP_CLONE"):
        return figures
    with tempfile.TemporaryDirectory(prefix="intercept-clone-") as folder:
        clone = Path(folder) / "intercept"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        figures["demo_seconds"] = _timed(["make", "demo"], clone)
        figures["test_seconds"] = _timed(["make", "test"], clone)
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key} = {value}")
    sys.exit(0)
