"""Every key of ``[ml_pipelines]`` is declared in the provider info, so Airflow knows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from airflow_ml_provider import settings
from airflow_ml_provider.get_provider_info import get_provider_info

PACKAGE = Path(settings.__file__).parent


def test_every_key_the_provider_reads_is_declared_with_its_default() -> None:
    read = set()
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r'\b_(?:get|option)\("(\w+)"', text))
        read |= set(re.findall(r"\[ml_pipelines\] (\w+)", text))
    declared = get_provider_info()["config"]["ml_pipelines"]["options"]
    assert read, "found no key: the pattern no longer matches the settings module"
    assert read <= set(declared), sorted(read - set(declared))
    assert set(declared) == set(settings.OPTIONS)
    for key, option in settings.OPTIONS.items():
        assert declared[key]["default"] == option.default
        assert declared[key]["description"]


def test_airflow_reports_the_declared_defaults(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__ML_PIPELINES__")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "config", "get-value", "ml_pipelines", "lease_seconds"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "300"
