"""The built wheel installs into a fresh virtualenv holding the oldest supported Airflow without
changing it, and the example pipeline runs there twice, the second run reusing every step
(tests/install/check_install.py does it and prints its figures)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_wheel_installs_into_the_oldest_supported_airflow_and_runs_the_example(report: Callable[[str], None]):
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("check_install.py"))],  # its own temp folder, removed
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "RESULT install: Airflow 3.1.0 unchanged" in output
    for line in output.splitlines():
        if line.startswith(("added by the provider", "upgraded", "timings", "run server", "RESULT")):
            report(f"install: {line}")
    report(f"install: the whole check took {time.monotonic() - started:.0f} s")
