"""Big inputs: a 10 GiB folder of 100,000 files, fingerprinted cold and re-checked warm.

Builds (in a temp dir, deleted at the end) ``--files`` files totalling ``--gib`` GiB, random
bytes, sizes from 0.1x to 1.9x the mean, in 1,000 subfolders, then every file is read once so
that every method reads from the page cache.

Timed, alternating, medians of ``--reps``:

- cold fingerprint: ``local_content_digest`` through a fresh, empty StatCache (what the
  reuse sensor does for a ``DataReference`` folder it never saw), against a plain read of
  the same files (``open`` + ``read(1 MiB)``, file by file): RESULT throughput ratio;
- warm re-check: the same call through a newly opened StatCache on the filled database (the
  sensor on every later run), against bare ``os.stat`` of the known paths; shown per 10,000
  files.

Peak memory: each of these runs again in its own process, which reports its peak RSS
(``ru_maxrss``) minus that of the same process after the imports only: the reuse sensor's
own memory for that input. ``--before PATH`` runs the same processes with ``PYTHONPATH=PATH``
(an export of an earlier commit), side by side. Checked: the cold and warm digests agree.

    .venv/bin/python benchmarks/big_data.py [--files 100000] [--gib 10] [--reps 2] [--before PATH] [--dir DIR]

Disk: ``--gib`` GiB free in ``--dir`` (default ``$TMPDIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 0.5

MEASURE = """
import json, os, resource, sys, time, tracemalloc
from pathlib import Path
from airflow_ml_provider.caching.content import local_content_digest
from airflow_ml_provider.caching.statcache import StatCache
what, root, database, trace = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "trace"
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
started = time.perf_counter()
cache = StatCache(database)
digest = local_content_digest(root, cache).digest
cache.close()
elapsed = time.perf_counter() - started
traced = tracemalloc.get_traced_memory()[1] if trace else 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"imported_kib": imported, "peak_kib": peak, "traced_peak": traced, "seconds": elapsed,
                  "digest": digest}))
"""


def build(root: Path, files: int, total_bytes: int) -> None:
    rng = random.Random(100_000)
    mean = total_bytes // files
    sizes = [rng.randint(mean // 10, mean * 19 // 10) for _ in range(files)]
    scale = total_bytes / sum(sizes)
    block = os.urandom(8 << 20)
    for index, size in enumerate(sizes):
        folder = root / f"d{index % 1000:03d}"
        if index < 1000:
            folder.mkdir(parents=True)
        size = int(size * scale)
        offset = rng.randrange(0, len(block) - min(size, len(block)) + 1)
        with open(folder / f"f{index:06d}.bin", "wb") as handle:
            while size > 0:  # random bytes, different in every file
                chunk = block[offset : offset + size]
                handle.write(chunk)
                size -= len(chunk)
                offset = 0
            handle.write(index.to_bytes(4, "little"))
    os.sync()


def every_file(root: Path) -> list[str]:
    return sorted(os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names)


def plain_read(paths: list[str]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                total += len(chunk)
    return total


def measure(
    what: str, root: Path, database: Path, pythonpath: str | None, *, trace: bool = False
) -> dict[str, float | str | None]:
    environment = dict(os.environ)
    if pythonpath:
        environment["PYTHONPATH"] = pythonpath
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, what, str(root), str(database), "trace" if trace else "time"],
        env=environment,
        cwd=root.parent,  # not the checkout: `-c` puts the working folder first on sys.path
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"measuring {what} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def timed_in_process(
    what: str, root: Path, database: Path, digests: set[object], pythonpath: str | None = None
) -> float:
    """Seconds of the digest call itself, in its own process (as a sensor runs it)."""
    sample = measure(what, root, database, pythonpath)
    digests.add(sample["digest"])
    return float(sample["seconds"] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--gib", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--before", default=None, help="PYTHONPATH of an earlier checkout, measured beside")
    parser.add_argument("--dir", default=None, help="parent folder of the temp dir (default: $TMPDIR)")
    args = parser.parse_args()

    total_bytes = int(args.gib * (1 << 30))
    work = Path(tempfile.mkdtemp(prefix="aml-bench-big-", dir=args.dir))
    free = shutil.disk_usage(work).free
    if free < total_bytes * 1.1:
        shutil.rmtree(work)
        sys.exit(f"{free / 2**30:.1f} GiB free in {work.parent}, {args.gib * 1.1:.1f} GiB needed")
    try:
        root = work / "data"
        started = time.perf_counter()
        build(root, args.files, total_bytes)
        paths = every_file(root)
        built = time.perf_counter() - started
        print(f"built {len(paths)} files, {total_bytes / 2**30:.1f} GiB in {built:.0f} s")
        plain_read(paths)  # into the page cache
        print(f"load average: {os.getloadavg()}")

        timings: dict[str, list[float]] = {"cold": [], "plain": [], "warm": [], "stat": []}
        digests = set()
        for rep in range(args.reps):
            database = work / f"stat-{rep}.db"
            order = ("cold", "plain") if rep % 2 == 0 else ("plain", "cold")
            for which in order:
                if which == "cold":
                    timings[which].append(timed_in_process("cold", root, database, digests))
                else:
                    started = time.perf_counter()
                    plain_read(paths)
                    timings[which].append(time.perf_counter() - started)
            for which in ("warm", "stat") if rep % 2 == 0 else ("stat", "warm"):
                if which == "warm":
                    timings[which].append(timed_in_process("warm", root, database, digests))
                else:
                    started = time.perf_counter()
                    for path in paths:
                        os.stat(path)
                    timings[which].append(time.perf_counter() - started)
        if len(digests) != 1:
            sys.exit(f"the cold and warm digests differ: {digests}")
        cold, plain = statistics.median(timings["cold"]), statistics.median(timings["plain"])
        warm, stat = statistics.median(timings["warm"]), statistics.median(timings["stat"])
        gib = total_bytes / 2**30
        per_10k = 10_000 / len(paths)
        print(f"\n{'median of ' + str(args.reps) + ', alternating':<48} {'s':>8} {'GiB/s':>7}")
        print(f"{'cold fingerprint, fresh StatCache':<48} {cold:>8.2f} {gib / cold:>7.2f}")
        print(f"{'plain read':<48} {plain:>8.2f} {gib / plain:>7.2f}")
        print(f"{'warm re-check, newly opened StatCache':<48} {warm:>8.2f}")
        print(f"{'bare os.stat of the known paths':<48} {stat:>8.2f}")
        print(
            f"warm re-check per 10,000 files: {warm * per_10k * 1000:.0f} ms "
            f"(os.stat floor {stat * per_10k * 1000:.0f} ms, {warm / stat:.1f}x)"
        )

        if args.before:
            before = [
                timed_in_process("warm", root, work / "stat-0.db", digests, args.before) for _ in range(2)
            ]
            if len(digests) != 1:
                sys.exit(f"--before computes another digest: {digests}")
            before_ms = statistics.median(before) * per_10k * 1000
            print(
                f"warm re-check with --before: {before_ms:.0f} ms per 10,000 files; "
                f"this checkout / before: {warm / statistics.median(before):.2f}"
            )
        columns = ("cold: Python peak", "RSS growth", "warm: Python peak", "RSS growth")
        header = " ".join(f"{column:>18}" if "peak" in column else f"{column:>11}" for column in columns)
        print(f"\n{'memory of the call (MiB)':<32} {header}")
        checkouts: list[tuple[str, str | None]] = [("this checkout", None)]
        if args.before:
            checkouts.append(("--before", args.before))
        for label, pythonpath in checkouts:
            fresh = work / f"stat-memory-{len(checkouts)}-{label[:6]}.db"
            cells = []
            for what in ("cold", "warm"):
                sample = measure(what, root, fresh, pythonpath, trace=True)
                grown = (float(sample["peak_kib"] or 0) - float(sample["imported_kib"] or 0)) / 1024
                cells += [f"{float(sample['traced_peak'] or 0) / 2**20:>18.1f}", f"{grown:>11.1f}"]
            print(f"{label:<32} {' '.join(cells)}")
        print(f"cold fingerprint / plain read throughput: {plain / cold:.2f}")
        print(f"load average at the end: {os.getloadavg()}")
        print(
            f"RESULT big_data: {plain / cold:.2f} of plain-read throughput (target >= {TARGET_RATIO}); "
            f"warm re-check {warm * per_10k * 1000:.0f} ms per 10,000 files"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
