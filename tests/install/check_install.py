"""Install the built provider into an existing Airflow, as a user would, and run the example there.

1. build the wheel from this checkout;
2. make a fresh virtualenv holding only Airflow (the oldest supported version, with its
   dependencies as they were on its release day, as Airflow's own constraints pin them);
3. ``pip install`` the wheel into it and check that nothing installed was changed but added to
   (Airflow's version above all) or downgraded; report the size the provider added;
4. add the example's own libraries, then run the wine example twice with ``airflow-ml run``: the
   first run runs every step, the second reuses every step (both through the warm run server the
   first one starts, which is stopped at the end).

    .venv/bin/python tests/install/check_install.py [--airflow 3.1.0] [--work DIR] [--keep]

Prints its figures and exits non-zero on the first check that fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OLDEST_AIRFLOW = "3.1.0"
# Airflow 3.1.0 was released on 2025-09-25: resolve its dependencies as of then. Today's newest
# releases of some of them (structlog 26) break it, which Airflow's constraints files prevent.
RELEASED = {"3.1.0": "2025-09-27T00:00:00Z"}
STEPS = ("fetch", "ingest", "featurize", "train", "evaluate", "score")
MIB = 1024 * 1024


def run(*command: str | Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, command))}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def installed(python: Path) -> dict[str, str]:
    listing = json.loads(run(python, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"))
    return {item["name"].lower().replace("_", "-"): item["version"] for item in listing}


def site_packages_size(venv: Path) -> int:
    return sum(f.stat().st_size for f in (venv / "lib").rglob("*") if f.is_file() and not f.is_symlink())


def compare(before: dict[str, str], after: dict[str, str]) -> tuple[list[str], list[str]]:
    """(changed Airflow distributions or downgrades, upgrades) between two listings."""
    from packaging.version import Version

    bad, upgraded = [], []
    for name, old in sorted(before.items()):
        new = after.get(name)
        if new == old:
            continue
        line = f"{name} {old} -> {new}"
        if new is None or name.startswith("apache-airflow") or Version(new) < Version(old):
            bad.append(line)
        else:
            upgraded.append(line)
    return bad, upgraded


def step_statuses(output: str) -> dict[str, str]:
    """The step table that ``airflow-ml run`` prints: step -> status."""
    statuses = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) > 3 and cells[1] in STEPS:
            statuses[cells[1]] = cells[2]
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow", default=OLDEST_AIRFLOW)
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="aml-install-"))
    work.mkdir(parents=True, exist_ok=True)
    uv = Path(sys.executable).with_name("uv")
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = time.perf_counter() - started
        started = time.perf_counter()

    try:
        run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", REPO)
        (wheel,) = (work / "dist").glob("airflow_ml_provider-*.whl")
        lap("build the wheel")

        venv = work / "venv"
        python = venv / "bin" / "python"
        run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv)
        pins = ["--exclude-newer", RELEASED[args.airflow]] if args.airflow in RELEASED else []
        run(uv, "pip", "install", "--quiet", "--python", python, *pins, f"apache-airflow=={args.airflow}")
        before = installed(python)
        size_before = site_packages_size(venv)
        lap(f"virtualenv with Airflow {args.airflow}")

        run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
        after = installed(python)
        size_after = site_packages_size(venv)
        lap("pip install the wheel")
        bad, upgraded = compare(before, after)
        added = sorted(set(after) - set(before))
        print(f"Airflow before: {before['apache-airflow']}, after: {after.get('apache-airflow')}")
        print(
            f"added by the provider: {(size_after - size_before) / MIB:.0f} MiB in {len(added)} distributions"
        )
        print(f"  {', '.join(added)}")
        print(f"upgraded: {', '.join(upgraded) or 'nothing'}")
        if bad:
            sys.exit(f"installing the provider changed Airflow or downgraded: {', '.join(bad)}")
        if "mlflow" in after:
            sys.exit("the full mlflow package was installed; workers need only the client")

        run(
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            python,
            f"airflow-ml-provider[examples] @ {wheel.as_uri()}",
        )
        bad, _ = compare(before, installed(python))
        if bad:
            sys.exit(f"installing the example's libraries changed Airflow or downgraded: {', '.join(bad)}")
        lap("the example's libraries")

        home = work / "airflow"
        shutil.copytree(REPO / "dags", home / "dags", dirs_exist_ok=True)
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")},
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW_CONN_SAMPLES": json.dumps(
                {"conn_type": "mldatastore", "host": (home / "dags" / "wine" / "data").as_uri()}
            ),
            "AIRFLOW_CONN_GPU": json.dumps({"conn_type": "mlcomputelocal"}),
        }
        env.pop("VIRTUAL_ENV", None)
        run(venv / "bin" / "airflow", "db", "migrate", env=env)
        lap("airflow db migrate")
        for attempt, expected in (("first", "ran"), ("second", "reused")):
            output = run(venv / "bin" / "airflow-ml", "run", "wine_classifier", env=env)
            statuses = step_statuses(output)
            lap(f"{attempt} run")
            print(f"{attempt} run: {' '.join(f'{step}={status}' for step, status in statuses.items())}")
            if statuses != dict.fromkeys(STEPS, expected):
                sys.exit(f"the {attempt} run should have {expected} every step:\n{output[-4000:]}")
        server_log = home / "ml" / "run-server" / "server.log"
        served = server_log.read_text().count(": child ") // 2 if server_log.exists() else 0
        print(f"run server: {served} of 2 runs served")
        print("timings: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))
        added_mib = (size_after - size_before) / MIB
        print(f"RESULT install: Airflow {args.airflow} unchanged, {added_mib:.0f} MiB added")
    finally:
        # The run server the first run started (the example's runs go through it) ends with the check.
        airflow_ml, home = work / "venv" / "bin" / "airflow-ml", work / "airflow"
        if airflow_ml.exists() and home.exists():
            subprocess.run(
                [airflow_ml, "server", "stop"],
                env={**os.environ, "AIRFLOW_HOME": str(home)},
                capture_output=True,
                check=False,
            )
        if args.keep or args.work:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
