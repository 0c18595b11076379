"""The local loop: `airflow-ml run` of a 4-step pipeline, cold and unchanged, against a plain Airflow DAG.

Data (in a temp dir): a folder of ``--small-files`` files of 1 KiB (default 10,000, in 100
subfolders) and one file of ``--big-mib`` MiB (default 1024). Pipeline ``bench_loop``:

- ``count_docs`` reads the folder, ``size_big`` reads the big file (both ``DataReference``s
  on a datastore over the temp dir), ``combine`` reads both results, ``report`` reads that.

Each scenario is one ``airflow-ml run bench_loop`` as a user types it, either in a process
of its own (``--no-server``) or handed to the warm run server of the benchmark's
AIRFLOW_HOME (the default; the server is started by the first such command and stopped at
the end):

1. cold: every step runs (own process);
2. unchanged: nothing changed (every step must be reused): own process and warm server;
3. touched: every input file's modification time changed, the bytes not (every step reused);
4. one changed: one 1 KiB file rewritten (``count_docs`` and its consumers run again).

The unchanged run is timed ``--reps`` times each way, alternating with the baseline: the
same four scripts as a plain Airflow DAG (``PythonOperator``s running them, no reuse), run
by ``airflow dags test``. Wall time and CPU time are printed: the command's child processes,
and for a served command the server's child too (the server's reaped children's CPU,
from /proc); compare ratios, the machine is shared. With ``--dvc`` (a ``dvc`` executable)
the same pipeline as a ``dvc.yaml`` is timed the same way (``dvc repro``, ``dvc status``).
``airflow-ml status`` is timed against ``dvc status`` too, both ways.

RESULT: median unchanged ``airflow-ml run`` through the warm server (target: at most 3 s,
on a quiet machine), its ratio to the same run in its own process, and the own-process run's
ratio to the plain DAG in ``airflow dags test``. No time is asserted; the script fails only
if a step that should be reused was not, or the other way round.

    .venv/bin/python benchmarks/local_loop.py [--small-files 10000] [--big-mib 1024] [--reps 3] [--dvc PATH]
        [--profile]   # and where the time of an unchanged run goes, both ways (run_profile.py)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0
DAG_ID = "bench_loop"
PLAIN_DAG_ID = "bench_loop_plain"
STEPS = ("count_docs", "size_big", "combine", "report")
BIN = Path(sys.executable).parent

COUNT = """
import argparse, os, zlib
p = argparse.ArgumentParser(); p.add_argument("--input"); p.add_argument("--output"); a = p.parse_args()
total = 0  # a sum of the bytes' CRCs: any changed byte changes the output
if os.path.isdir(a.input):
    for root, _, names in sorted(os.walk(a.input)):
        for name in sorted(names):
            with open(os.path.join(root, name), "rb") as handle:
                total += zlib.crc32(handle.read())
else:
    with open(a.input, "rb") as handle:
        while chunk := handle.read(1 << 20):
            total += zlib.crc32(chunk)
os.makedirs(a.output, exist_ok=True)
with open(os.path.join(a.output, "n.txt"), "w") as handle:
    handle.write(str(total))
"""

COMBINE = """
import argparse, os
p = argparse.ArgumentParser(); p.add_argument("--a"); p.add_argument("--b"); p.add_argument("--output")
a = p.parse_args()
values = [int(open(os.path.join(folder, "n.txt")).read()) for folder in (a.a, a.b)]
os.makedirs(a.output, exist_ok=True)
with open(os.path.join(a.output, "n.txt"), "w") as handle:
    handle.write(str(sum(values)))
"""

PIPELINE = f"""
from airflow.sdk import DAG

from airflow_ml_provider import DataReference, PipelineData, PythonScriptStep

docs = DataReference(datastore="bench_loop_data", path_on_datastore="docs", name="docs")
big = DataReference(datastore="bench_loop_data", path_on_datastore="big.bin", name="big")
doc_stats, big_stats = PipelineData("doc_stats"), PipelineData("big_stats")
features, report = PipelineData("features"), PipelineData("report")

with DAG("{DAG_ID}", schedule=None, catchup=False):
    PythonScriptStep(name="count_docs", script_name="count.py", source_directory="bench_loop",
                     arguments=["--input", docs, "--output", doc_stats], inputs=[docs], outputs=[doc_stats])
    PythonScriptStep(name="size_big", script_name="count.py", source_directory="bench_loop",
                     arguments=["--input", big, "--output", big_stats], inputs=[big], outputs=[big_stats])
    PythonScriptStep(name="combine", script_name="combine.py", source_directory="bench_loop",
                     arguments=["--a", doc_stats, "--b", big_stats, "--output", features],
                     inputs=[doc_stats, big_stats], outputs=[features])
    PythonScriptStep(name="report", script_name="combine.py", source_directory="bench_loop",
                     arguments=["--a", features, "--b", features, "--output", report],
                     inputs=[features], outputs=[report])
"""

PLAIN = f"""
import subprocess, sys
from pathlib import Path

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

HERE = Path(__file__).parent / "bench_loop"
DATA, OUT = Path({{data!r}}), Path({{out!r}})


def script(name, *arguments):
    subprocess.run([sys.executable, str(HERE / name), *map(str, arguments)], check=True)


with DAG("{PLAIN_DAG_ID}", schedule=None, catchup=False):
    docs = PythonOperator(task_id="count_docs", python_callable=script,
                          op_args=["count.py", "--input", DATA / "docs", "--output", OUT / "doc_stats"])
    big = PythonOperator(task_id="size_big", python_callable=script,
                         op_args=["count.py", "--input", DATA / "big.bin", "--output", OUT / "big_stats"])
    combine = PythonOperator(task_id="combine", python_callable=script,
                             op_args=["combine.py", "--a", OUT / "doc_stats", "--b", OUT / "big_stats",
                                      "--output", OUT / "features"])
    report = PythonOperator(task_id="report", python_callable=script,
                            op_args=["combine.py", "--a", OUT / "features", "--b", OUT / "features",
                                     "--output", OUT / "report"])
    [docs, big] >> combine >> report
"""

DVC_YAML = """
stages:
  count_docs:
    cmd: {python} code/count.py --input data/docs --output out/doc_stats
    deps: [code/count.py, data/docs]
    outs: [out/doc_stats]
  size_big:
    cmd: {python} code/count.py --input data/big.bin --output out/big_stats
    deps: [code/count.py, data/big.bin]
    outs: [out/big_stats]
  combine:
    cmd: {python} code/combine.py --a out/doc_stats --b out/big_stats --output out/features
    deps: [code/combine.py, out/doc_stats, out/big_stats]
    outs: [out/features]
  report:
    cmd: {python} code/combine.py --a out/features --b out/features --output out/report
    deps: [code/combine.py, out/features]
    outs: [out/report]
"""


def build_data(data: Path, small_files: int, big_mib: int) -> None:
    for index in range(small_files):
        folder = data / "docs" / f"{index % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index:05d}.txt").write_bytes(os.urandom(1024))
    with open(data / "big.bin", "wb") as handle:
        for _ in range(big_mib):
            handle.write(os.urandom(1 << 20))
    os.sync()


def set_up(work: Path, small_files: int, big_mib: int) -> dict[str, str]:
    home, data = work / "home", work / "data"
    dags = home / "dags"
    (dags / "bench_loop").mkdir(parents=True)
    (dags / "bench_loop" / "count.py").write_text(COUNT.lstrip())
    (dags / "bench_loop" / "combine.py").write_text(COMBINE.lstrip())
    (dags / f"{DAG_ID}.py").write_text(PIPELINE.lstrip())
    (dags / f"{PLAIN_DAG_ID}.py").write_text(
        PLAIN.format(data=str(data), out=str(work / "plain-out")).lstrip()
    )
    build_data(data, small_files, big_mib)
    environment = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        "AIRFLOW__ML_PIPELINES__RUN_SERVER_IDLE_SECONDS": "600",
        "AIRFLOW_CONN_BENCH_LOOP_DATA": json.dumps(
            {"conn_type": "ml_datastore", "extra": {"base_uri": data.as_uri()}}
        ),
    }
    started = time.perf_counter()
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=environment, capture_output=True, text=True
    )
    if migrate.returncode != 0:
        sys.exit(f"airflow db migrate failed:\n{migrate.stderr[-3000:]}")
    print(f"db migrate {time.perf_counter() - started:.1f} s")
    return environment


def server_children_cpu(environment: dict[str, str]) -> float:
    """CPU seconds of the run server's reaped children (0 when none runs): a served command's own."""
    if "AIRFLOW_HOME" not in environment:  # a DVC command: no run server
        return 0.0
    log = Path(environment["AIRFLOW_HOME"]) / "ml" / "run-server" / "server.log"
    ready = re.findall(r"run server (\d+): ready", log.read_text()) if log.exists() else []
    if not ready:
        return 0.0
    try:
        fields = Path(f"/proc/{ready[-1]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime


def timed(
    command: list[str], environment: dict[str, str], cwd: Path | None = None
) -> tuple[float, float, str]:
    """(wall s, CPU s of the command and its children and of a run server's child, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served_before = server_children_cpu(environment)
    started = time.perf_counter()
    result = subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu += max(0.0, server_children_cpu(environment) - served_before)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return wall, cpu, result.stdout


def step_statuses(output: str) -> dict[str, str]:
    """The status column of `airflow-ml run`'s table."""
    found = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│|┃]", line)]
        if len(cells) > 3 and cells[1] in STEPS:
            found[cells[1]] = cells[2]
    return found


def run_pipeline(
    environment: dict[str, str], expected: dict[str, str], label: str, *, served: bool = True
) -> tuple[float, float]:
    own = [] if served else ["--no-server"]
    wall, cpu, output = timed([str(BIN / "airflow-ml"), "run", DAG_ID, *own], environment)
    statuses = step_statuses(output)
    if statuses != expected:
        sys.exit(f"{label}: expected {expected}, got {statuses}\n{output[-3000:]}")
    return wall, cpu


def touch_inputs(data: Path, *, change_one: bool) -> None:
    if change_one:
        (data / "docs" / "000" / "00000.txt").write_bytes(os.urandom(1024))
        return
    now = time.time() + 5
    for root, _, names in os.walk(data):
        for name in names:
            os.utime(os.path.join(root, name), (now, now))


def dvc_scenarios(work: Path, dvc: str, reps: int) -> dict[str, list[tuple[float, float]]]:
    """The same pipeline as a dvc.yaml: cold, unchanged (x reps), status (x reps), touched, one changed."""
    project = work / "dvc"
    (project / "code").mkdir(parents=True)
    shutil.copytree(work / "data", project / "data")
    for name in ("count.py", "combine.py"):
        shutil.copy(work / "home" / "dags" / "bench_loop" / name, project / "code" / name)
    (project / "dvc.yaml").write_text(DVC_YAML.format(python=sys.executable).lstrip())
    environment = dict(os.environ)
    timed([dvc, "init", "--no-scm", "-q"], environment, cwd=project)
    results: dict[str, list[tuple[float, float]]] = {}
    wall, cpu, _ = timed([dvc, "repro", "-q"], environment, cwd=project)
    results["cold"] = [(wall, cpu)]
    results["unchanged"] = []
    results["status"] = []
    for _ in range(reps):
        wall, cpu, _ = timed([dvc, "repro", "-q"], environment, cwd=project)
        results["unchanged"].append((wall, cpu))
        wall, cpu, _ = timed([dvc, "status", "-q"], environment, cwd=project)
        results["status"].append((wall, cpu))
    touch_inputs(project / "data", change_one=False)
    results["touched"] = [timed([dvc, "repro", "-q"], environment, cwd=project)[:2]]
    touch_inputs(project / "data", change_one=True)
    results["one changed"] = [timed([dvc, "repro", "-q"], environment, cwd=project)[:2]]
    return results


def median_pair(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--dvc", default=None, help="a dvc executable: time the same pipeline with DVC")
    parser.add_argument("--dir", default=None, help="parent folder of the temp dir (default: $TMPDIR)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one more unchanged run in its own process, through run_profile.py",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aml-bench-loop-", dir=args.dir))
    environment: dict[str, str] = {}
    try:
        environment = set_up(work, args.small_files, args.big_mib)
        print(
            f"data: {args.small_files} files of 1 KiB + one {args.big_mib} MiB file; load {os.getloadavg()}"
        )
        ran = dict.fromkeys(STEPS, "ran")
        reused = dict.fromkeys(STEPS, "reused")
        results: dict[str, list[tuple[float, float]]] = {
            "cold": [run_pipeline(environment, ran, "cold", served=False)]
        }
        # The first served command starts the server (imports, the execution API's routes).
        results["server start"] = [run_pipeline(environment, reused, "server start")]
        for name in ("unchanged", "served", "plain", "status", "served status"):
            results[name] = []
        plain = [str(BIN / "airflow"), "dags", "test", PLAIN_DAG_ID]
        timed(plain, environment)  # its first parse and serialisation, untimed
        status = [str(BIN / "airflow-ml"), "status", DAG_ID]
        for rep in range(args.reps):
            order = ["own", "served", "plain"]
            for which in order[rep % 3 :] + order[: rep % 3]:
                if which == "own":
                    results["unchanged"].append(run_pipeline(environment, reused, "unchanged", served=False))
                elif which == "served":
                    results["served"].append(run_pipeline(environment, reused, "unchanged, served"))
                else:
                    results["plain"].append(timed(plain, environment)[:2])
            results["status"].append(timed([*status, "--no-server"], environment)[:2])
            results["served status"].append(timed(status, environment)[:2])
        if args.profile:
            for mode, label in (([], "in its own process"), (["--served"], "as a run server's child")):
                profiled = subprocess.run(
                    [sys.executable, str(Path(__file__).with_name("run_profile.py")), *mode, DAG_ID],
                    env=environment,
                    capture_output=True,
                    text=True,
                )
                start = profiled.stderr.find("run server warm-up" if mode else "where the time")
                shown = profiled.stderr[start:] if start >= 0 else f"failed:\n{profiled.stderr[-3000:]}"
                print(f"\none unchanged run {label}:\n{shown}")
        touch_inputs(work / "data", change_one=False)
        results["touched"] = [run_pipeline(environment, reused, "touched")]
        touch_inputs(work / "data", change_one=True)
        changed = {"count_docs": "ran", "size_big": "reused", "combine": "ran", "report": "ran"}
        results["one changed"] = [run_pipeline(environment, changed, "one changed")]
        dvc = dvc_scenarios(work, args.dvc, args.reps) if args.dvc else {}

        print(f"\n{'scenario (medians)':<56} {'wall s':>8} {'cpu s':>8} {'dvc wall':>9} {'dvc cpu':>8}")
        rows = [
            ("cold, every step runs (own process)", "cold", "cold"),
            ("first served command (starts the run server)", "server start", None),
            (f"unchanged re-run, own process (x{args.reps})", "unchanged", "unchanged"),
            (f"unchanged re-run, warm run server (x{args.reps})", "served", "unchanged"),
            ("after touch of every input (served)", "touched", "touched"),
            ("one 1 KiB input changed (served)", "one changed", "one changed"),
            (f"airflow dags test, plain DAG (x{args.reps})", "plain", None),
            (f"airflow-ml status, own process (x{args.reps})", "status", "status"),
            (f"airflow-ml status, warm run server (x{args.reps})", "served status", "status"),
        ]
        for label, ours, theirs in rows:
            if not results.get(ours):
                continue
            wall, cpu = median_pair(results[ours])
            other = (
                f"{median_pair(dvc[theirs])[0]:>9.2f} {median_pair(dvc[theirs])[1]:>8.2f}"
                if theirs in dvc
                else ""
            )
            print(f"{label:<56} {wall:>8.2f} {cpu:>8.2f} {other}")
        own, plain_s = median_pair(results["unchanged"])[0], median_pair(results["plain"])[0]
        served = median_pair(results["served"])[0]
        print(f"unchanged run, warm server / own process: {served / own:.2f}")
        print(f"unchanged run, own process / plain DAG in airflow dags test: {own / plain_s:.2f}")
        status_ratio = median_pair(results["served status"])[0] / median_pair(results["status"])[0]
        print(f"airflow-ml status, warm server / own process: {status_ratio:.2f}")
        if dvc:
            dvc_repro, dvc_status = median_pair(dvc["unchanged"])[0], median_pair(dvc["status"])[0]
            print(
                f"unchanged airflow-ml run / dvc repro: own process {own / dvc_repro:.1f}, "
                f"served {served / dvc_repro:.1f}"
            )
            for label, name in (("own process", "status"), ("served", "served status")):
                ratio = median_pair(results[name])[0] / dvc_status
                print(f"airflow-ml status / dvc status, {label}: {ratio:.2f} (target <= 2)")
        print(f"load average at the end: {os.getloadavg()}")
        print(
            f"RESULT local_loop: unchanged run through the warm server {served:.2f} s "
            f"(target <= {TARGET_S} s), {served / own:.2f} of the same run in its own process "
            f"({own:.2f} s, {own / plain_s:.2f} of the plain DAG)"
        )
    finally:
        if environment:
            subprocess.run([str(BIN / "airflow-ml"), "server", "stop"], env=environment, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
