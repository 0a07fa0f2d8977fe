"""The ingest function's import pulls in none of the heavy or local-only libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "numpy", "scipy", "moto", "requests", "rich", "matplotlib", "hypothesis")
PROBE = """
import json, runpy, sys
sys.path[:0] = ["shared", "functions/ingest"]
runpy.run_path("functions/ingest/app.py")
loaded = [name for name in {heavy!r} if name in sys.modules]
late = [name for name in ("intercept.ingest.openapi",) if name in sys.modules]
print(json.dumps({{"heavy": loaded, "late": late}}))
"""


def test_ingest_handler_import_is_light() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"heavy": [], "late": []}
