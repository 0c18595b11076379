"""Warm re-check of a 10,000-file folder through the stat cache, against bare os.stat.

Builds a folder of small files (0.2-4 KiB, random bytes, 100 subfolders) in a temp dir.
Each repetition then:

1. opens a fresh, empty StatCache and fingerprints the folder (cold: every file hashed,
   the cache filled) -- ``caching.content.local_content_digest``;
2. in alternating order, times:
   - warm ``local_content_digest`` with the same StatCache (no file should be re-read);
   - warm ``code_digests`` (the step-code path: ignore rules + stat cache) on the same folder;
   - warm ``local_content_digest`` through a new StatCache connection on the same database,
     opened and closed inside the timing (what the reuse sensor does on every poke);
   - bare ``os.stat`` of the 10,000 known paths (the floor: the re-check has to stat them);
   - ``os.walk`` + ``os.stat`` of every file (listing and stat, no cache at all).

The table shows medians; RESULT is the slower of the two warm calls (target < 0.2 s each),
and warm/stat is that time over the bare os.stat time. No timing is asserted.

    .venv/bin/python benchmarks/warm_recheck.py [--files 10000] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from airflow_ml_provider.caching.content import code_digests, local_content_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.walk import walk_files

TARGET_S = 0.2
COLD = "cold: local_content_digest, fresh StatCache"
WARM = "warm: local_content_digest, same StatCache"
WARM_CODE = "warm: code_digests, same StatCache"
WARM_REOPEN = "warm: StatCache() + local_content_digest + close"
STAT = "baseline: os.stat of the known paths"
WALK = "baseline: os.walk + os.stat"


def build_folder(root: Path, count: int) -> int:
    rng = random.Random(10_000)
    total = 0
    for index in range(count):
        folder = root / f"d{index % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(200, 4096)
        (folder / f"f{index:05d}.dat").write_bytes(os.urandom(size))
        total += size
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--dir", default=None, help="parent folder of the temp dir (default: $TMPDIR)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aml-bench-warm-", dir=args.dir))
    try:
        root = work / "data"
        total = build_folder(root, args.files)
        os.sync()
        files = [Path(entry.path) for entry in walk_files(root)]
        names = [str(f) for f in files]
        assert len(files) == args.files
        print(f"folder: {len(files)} files in 100 subfolders, {total / 1e6:.1f} MB; load {os.getloadavg()}")
        for name in names:  # page cache and dentry cache warm before anything is timed
            with open(name, "rb") as handle:
                handle.read()

        timings: dict[str, list[float]] = {
            name: [] for name in (COLD, WARM, WARM_CODE, WARM_REOPEN, STAT, WALK)
        }
        results: dict[str, set[object]] = {WARM: set(), WARM_CODE: set(), COLD: set(), WARM_REOPEN: set()}

        def timed(name: str, function: Callable[[], object]) -> None:
            start = time.perf_counter()
            value = function()
            timings[name].append(time.perf_counter() - start)
            if name in results:
                results[name].add(value if isinstance(value, str) else repr(sorted(value.items())))

        def walk_stat() -> int:
            n = 0
            for folder, _, filenames in os.walk(root):
                for filename in filenames:
                    os.stat(os.path.join(folder, filename))
                    n += 1
            return n

        for rep in range(args.reps):
            db = work / f"stat-cache-{rep}.db"
            cache = StatCache(db)
            try:
                timed(COLD, lambda c=cache: local_content_digest(root, c).digest)

                def reopen(db: Path = db) -> str:
                    again = StatCache(db)
                    try:
                        return local_content_digest(root, again).digest
                    finally:
                        again.close()

                steps: list[tuple[str, Callable[[], object]]] = [
                    (WARM, lambda c=cache: local_content_digest(root, c).digest),
                    (WARM_CODE, lambda c=cache: code_digests(root, c)),
                    (WARM_REOPEN, reopen),
                    (STAT, lambda: [os.stat(n) for n in names]),
                    (WALK, walk_stat),
                ]
                for name, function in steps if rep % 2 == 0 else reversed(steps):
                    timed(name, function)
            finally:
                cache.close()

        # Warm and cold agree (same digest), so the warm path really used the cache's values.
        assert results[WARM] == results[COLD] == results[WARM_REOPEN] and len(results[COLD]) == 1
        assert len(results[WARM_CODE]) == 1

        median = {name: statistics.median(values) for name, values in timings.items()}
        stat = median[STAT]
        print()
        print(f"{'measurement':<52} {'median s':>9} {'min s':>7} {'max s':>7} {'files/s':>10} {'x stat':>7}")
        for name, values in timings.items():
            print(
                f"{name:<52} {median[name]:>9.4f} {min(values):>7.4f} {max(values):>7.4f} "
                f"{len(files) / median[name]:>10,.0f} {median[name] / stat:>7.1f}"
            )
        worst = max(median[WARM], median[WARM_CODE])
        print()
        print(f"warm local_content_digest / os.stat: {median[WARM] / stat:.1f}")
        print(f"warm code_digests / os.stat:         {median[WARM_CODE] / stat:.1f}")
        print(f"cold first pass / warm re-check:     {median[COLD] / median[WARM]:.1f}")
        print(f"load average at the end: {os.getloadavg()}")
        print(
            f"RESULT warm_recheck: {worst:.3f} s, {len(files) / worst:,.0f} files/s, "
            f"warm/stat {worst / stat:.1f} (target < {TARGET_S} s)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
