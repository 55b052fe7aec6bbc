"""Test-wide settings for every pytest run (unit, notebooks, browser).

Each run gets its own workbook file, so tests never touch a user's
``~/.cgtkit/workbook.json``, and pages raise instead of showing their friendly
error page, so a broken page fails nbval instead of passing quietly.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest hook
    run_dir = Path(tempfile.mkdtemp(prefix="cgtkit-test-"))
    os.environ["CGTKIT_WORKBOOK"] = str(run_dir / "workbook.json")
    os.environ["CGTKIT_STRICT"] = "1"
