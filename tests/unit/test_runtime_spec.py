"""A step image whose provider reads another spec form refuses the spec, saying what to do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_ml_provider.runtime.spec import SPEC_VERSION, SpecVersionError, StepSpec


def spec(tmp_path: Path) -> StepSpec:
    return StepSpec("train", "train.py", str(tmp_path), [], [], [], str(tmp_path), sys.executable)


def test_a_spec_round_trips_with_its_version(tmp_path: Path) -> None:
    assert StepSpec.from_json(spec(tmp_path).to_json()) == spec(tmp_path)


def test_a_spec_of_another_version_is_refused(tmp_path: Path) -> None:
    raw = {**json.loads(spec(tmp_path).to_json()), "version": SPEC_VERSION + 1}
    with pytest.raises(SpecVersionError, match="same airflow-ml-provider version in the step's image"):
        StepSpec.from_json(json.dumps(raw))


def test_the_container_entrypoint_says_so_and_fails(tmp_path: Path) -> None:
    raw = {**json.loads(spec(tmp_path).to_json()), "version": SPEC_VERSION + 1}
    (tmp_path / "spec.json").write_text(json.dumps(raw))
    done = subprocess.run(
        [sys.executable, "-m", "airflow_ml_provider.runtime", "spec.json", "result.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"this runtime reads version {SPEC_VERSION}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "result.json").exists()
