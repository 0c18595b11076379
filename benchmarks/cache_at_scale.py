"""The step cache with 1,000,000 entries in a real PostgreSQL: lookups, inserts, pages, a TTL sweep.

Starts the PostgreSQL of ``scripts/postgres.sh`` (or takes ``--url``), creates a fresh
database, lets ``StepCacheStore`` create its tables and indexes, then loads ``--entries``
entries (100 DAGs x 20 steps, ages spread over 60 days) and as many decisions with COPY, oldest
first, as a store receives them.

Timed, each through ``StepCacheStore`` as the sensors and the run tasks call it:

- lookup: ``candidates(base)`` (half hits, half misses) and ``latest(dag, step)`` (what a miss
  adds to explain itself), against the floor: a bare primary-key select on the same engine;
- insert: ``put(entry)`` + ``record(decision)`` (a run task's commit and a sensor's record);
- ``list_entries(limit=50)``: the first and the last page (``cache list`` pages);
- the TTL sweep of the oldest 10 days (~1/6 of the entries), while another thread keeps
  looking up and inserting: their worst latency during the sweep shows whether it blocks them.

p50 / p99 / max are printed, with the ratio to the bare select. Targets: lookup p99 < 10 ms,
insert p99 < 20 ms. Nothing is asserted; the database is dropped at the end. ``--before PATH``
first runs the same measurements with ``PYTHONPATH=PATH`` (an earlier checkout) on a database
of its own, then prints both results.

    .venv/bin/python benchmarks/cache_at_scale.py [--entries 1000000] [--samples 2000] [--url URL] \
        [--before PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAY = 86400.0


def server_url() -> str:
    started = subprocess.run(
        ["bash", str(REPO / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True, check=True
    )
    return started.stdout.strip().splitlines()[-1]


def key(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def load(engine: object, entries: int, rng: random.Random, now: float) -> list[tuple[str, str, str]]:
    """COPY ``entries`` entries and decisions; returns (base key, dag, step) of a sample of them."""
    sample: list[tuple[str, str, str]] = []
    raw = engine.raw_connection()  # type: ignore[attr-defined]
    try:
        cursor = raw.cursor()
        chunk = 50_000
        for start in range(0, entries, chunk):
            rows, decided = io.StringIO(), io.StringIO()
            for index in range(start, min(entries, start + chunk)):
                base, fingerprint = key(rng), key(rng)
                dag, step = f"dag_{index % 100:03d}", f"step_{index // 100 % 20:02d}"
                created = now - (entries - index - rng.random()) / entries * 60 * DAY
                pre_image = json.dumps({"version": 1, "step": {"name": step}, "code": {"a.py": base[:64]}})
                outputs = json.dumps(
                    {
                        "out": {
                            "uri": f"file:///data/{fingerprint}",
                            "digest": "blake3:" + base,
                            "size": 1,
                            "files": 1,
                        }
                    }
                )
                produced = json.dumps({"run_id": f"run_{index}", "task_id": f"{step}.run", "try": 1})
                rows.write(
                    f"{fingerprint}\t{base}\t{dag}\t{step}\t{pre_image}\t{{}}\t{outputs}\t{produced}\t{created}\n"
                )
                decided.write(
                    f"{dag}\trun_{index}\t{step}\treused\treused from run_{index}\t{base}\t\\N\t{created}\n"
                )
                if rng.random() < 2000 / entries:
                    sample.append((base, dag, step))
            rows.seek(0)
            decided.seek(0)
            cursor.copy_expert("copy ml_step_cache_entry from stdin", rows)
            cursor.copy_expert(
                "copy ml_step_cache_decision "
                "(dag_id, run_id, step, decision, message, base_key, pre_image, at) from stdin",
                decided,
            )
            raw.commit()
        cursor.execute("analyze")
        raw.commit()
    finally:
        raw.close()
    return sample


def timings(function: Callable[[int], object], count: int) -> list[float]:
    found = []
    for index in range(count):
        started = time.perf_counter()
        function(index)
        found.append(time.perf_counter() - started)
    return found


def summary(label: str, seconds: list[float], floor: float | None = None) -> str:
    ordered = sorted(seconds)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    ratio = f"{p99 / floor:>7.1f}" if floor else f"{'':>7}"
    return f"{label:<46} {p50:>8.2f} {p99:>8.2f} {ordered[-1] * 1000:>8.1f} {ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--url", default=None, help="a PostgreSQL server URL (default: scripts/postgres.sh)")
    parser.add_argument("--before", default=None, help="PYTHONPATH of an earlier checkout, measured first")
    args = parser.parse_args()
    before_result = ""
    if args.before:
        command = [sys.executable, __file__, "--entries", str(args.entries), "--samples", str(args.samples)]
        before = subprocess.run(
            [*command, *(["--url", args.url] if args.url else [])],
            env={**os.environ, "PYTHONPATH": args.before},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        print(f"== before ({args.before}) ==\n{before}\n== this checkout ==", flush=True)
        before_result = next(line for line in before.splitlines() if line.startswith("RESULT"))

    import sqlalchemy

    import airflow_ml_provider
    from airflow_ml_provider.caching.store import CacheEntry, Decision, StepCacheStore, entries

    print(f"code: {Path(airflow_ml_provider.__file__).parent}")

    server = args.url or server_url()
    database = f"aml_bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"create database {database}"))
    url = server.rsplit("/", 1)[0] + "/" + database
    rng = random.Random(16)
    now = time.time()
    store: StepCacheStore | None = None
    try:
        store = StepCacheStore(url)
        started = time.perf_counter()
        sample = load(store.engine, args.entries, rng, now)
        print(f"loaded {args.entries:,} entries and decisions in {time.perf_counter() - started:.0f} s")
        print(f"load average: {os.getloadavg()}")
        misses = [(key(rng), dag, step) for _, dag, step in sample]
        probes = [pair for both in zip(sample, misses, strict=False) for pair in both]
        count = min(args.samples, len(probes))

        def bare(index: int) -> object:
            with store.engine.connect() as connection:
                return connection.execute(
                    sqlalchemy.select(entries.c.fingerprint).where(entries.c.fingerprint == probes[index][0])
                ).first()

        timings(bare, 50)  # warm the pool and the caches
        floor_s = timings(bare, count)
        floor = sorted(floor_s)[int(len(floor_s) * 0.99)] * 1000
        lookup = timings(lambda index: store.candidates(probes[index][0]), count)
        latest = timings(lambda index: store.latest(probes[index][1], probes[index][2]), count)

        def insert(index: int) -> None:
            base = key(rng)
            dag, step = f"dag_{index % 100:03d}", f"step_{index % 20:02d}"
            store.put(
                CacheEntry(
                    key(rng),
                    base,
                    dag,
                    step,
                    {"version": 1},
                    {},
                    {"out": {"uri": "file:///x"}},
                    {"run_id": "r"},
                    time.time(),
                )
            )
            store.record(
                Decision(
                    dag, f"bench_{index}", step, "run", "run: benchmark", base, {"version": 1}, time.time()
                )
            )

        inserts = timings(insert, min(count, 1000))
        first_page = timings(lambda index: store.list_entries(limit=50), 20)
        with store.engine.connect() as connection:
            tail = connection.execute(
                sqlalchemy.select(entries.c.fingerprint)
                .order_by(
                    entries.c.dag_id.desc(),
                    entries.c.step.desc(),
                    entries.c.created_at.desc(),
                    entries.c.fingerprint.desc(),
                )
                .offset(60)
                .limit(1)
            ).scalar()
        last_page = timings(lambda index: store.list_entries(limit=50, after=tail), 20)

        during: list[float] = []
        sweeping = threading.Event()
        sweeping.set()

        def meanwhile() -> None:
            index = 0
            while sweeping.is_set():
                started = time.perf_counter()
                store.candidates(probes[index % len(probes)][0])
                insert(10_000 + index)
                during.append(time.perf_counter() - started)
                index += 1

        def decided() -> int:
            with store.engine.connect() as connection:
                counted = connection.execute(sqlalchemy.text("select count(*) from ml_step_cache_decision"))
                return int(counted.scalar() or 0)

        decisions_before = decided()
        worker = threading.Thread(target=meanwhile)
        worker.start()
        started = time.perf_counter()
        swept = store.sweep_expired(50 * DAY, now=now)
        sweep_s = time.perf_counter() - started
        sweeping.clear()
        worker.join()

        print(f"\n{'ms (' + str(count) + ' each)':<46} {'p50':>8} {'p99':>8} {'max':>8} {'p99/floor':>7}")
        print(summary("floor: primary-key select", floor_s))
        print(summary("lookup: candidates(base), half hits", lookup, floor))
        print(summary("latest(dag, step) (a miss's explanation)", latest, floor))
        print(summary("insert: put(entry) + record(decision)", inserts, floor))
        print(summary("cache list: first page of 50", first_page, floor))
        print(summary("cache list: a page at the end (--after)", last_page, floor))
        print(summary(f"lookup + insert during the sweep (x{len(during)})", during, floor))
        print(
            f"TTL sweep: {swept:,} entries in {sweep_s:.1f} s, 1,000 per transaction; decisions: "
            f"{decisions_before:,} before it, {decided():,} after it (inserts meanwhile included)"
        )
        lookup_p99 = sorted(lookup)[int(len(lookup) * 0.99)] * 1000
        insert_p99 = sorted(inserts)[int(len(inserts) * 0.99)] * 1000
        print(f"load average at the end: {os.getloadavg()}")
        print(
            f"RESULT cache_at_scale: lookup p99 {lookup_p99:.1f} ms (target < 10), "
            f"insert p99 {insert_p99:.1f} ms (target < 20), with {args.entries:,} entries"
        )
        if before_result:
            print(before_result.replace("RESULT", "RESULT before:", 1))
    finally:
        if store is not None:
            store.engine.dispose()
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"drop database if exists {database} with (force)"))


if __name__ == "__main__":
    sys.exit(main())
