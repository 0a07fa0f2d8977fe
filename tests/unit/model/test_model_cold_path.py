"""The CLI registers the model commands without importing numpy or scikit-learn."""

from __future__ import annotations

import subprocess
import sys


def test_model_commands_import_no_heavy_libraries() -> None:
    code = (
        "import sys, intercept.commands.model; "
        "heavy = [m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
