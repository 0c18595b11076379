"""Cold fingerprint throughput of a >= 1 GiB folder, against plain reads and bare blake3.

Builds a folder (one large file plus many mid-sized ones, random bytes) in a temp dir,
then times, in this one process and with every file already in the page cache:

- plain read: ``open(path, "rb")`` + ``read(1 MiB)`` until EOF, file after file, in the
  order the fingerprint visits them (sorted paths) -- the baseline of the RESULT ratio;
- plain readinto: the same with ``buffering=0`` and ``readinto`` a reused 1 MiB buffer
  (no allocation per chunk; the fastest plain read Python offers, shown for reference);
- bare blake3, 1 thread: a blake3 hasher per file fed 1 MiB ``read`` chunks;
- bare blake3, as file_digest: the strategy of ``runtime.digest.file_digest``
  (``update_mmap`` on AUTO threads for files >= 16 MiB, 1 MiB chunks on one thread below);
- fingerprint: ``caching.content.local_content_digest(folder, StatCache(<fresh db>))``,
  i.e. listing, stat, hashing every file, writing the stat cache, and the manifest digest.

Each repetition runs every method once, the order alternating (forward, reversed, ...);
the table shows medians. No timing is asserted: the machine is shared and noisy.

    .venv/bin/python benchmarks/fingerprint_throughput.py [--big-mib 768] [--small-files 2000]
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

import blake3

from airflow_ml_provider.caching.content import local_content_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import file_digest, manifest_of
from airflow_ml_provider.runtime.walk import walk_files

MIB = 1 << 20
CHUNK = MIB
TARGET = 0.5
READ = "plain read: read(1 MiB)"
READINTO = "plain read: readinto(1 MiB), unbuffered"
B3_ONE = "bare blake3: 1 thread, read(1 MiB)"
B3_FD = "bare blake3: as file_digest (mmap+AUTO >= 16 MiB)"
FINGERPRINT = "fingerprint: local_content_digest, fresh StatCache"
SHORT = {
    READ: "read",
    READINTO: "readinto",
    B3_ONE: "blake3-1t",
    B3_FD: "blake3-file_digest",
    FINGERPRINT: "fingerprint",
}


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        left = size
        while left:
            n = min(left, 8 * MIB)
            handle.write(os.urandom(n))
            left -= n


def build_folder(root: Path, big_mib: int, small_files: int, small_mib: int) -> None:
    """One ``big_mib`` file and ``small_files`` files totalling ``small_mib``, in 20 subfolders."""
    root.mkdir(parents=True)
    write_random(root / "big.bin", big_mib * MIB)
    rng = random.Random(20240601)
    weights = [rng.uniform(0.1, 1.9) for _ in range(small_files)]
    total = small_mib * MIB
    sizes = [int(total * w / sum(weights)) for w in weights]
    sizes[-1] += total - sum(sizes)
    for index, size in enumerate(sizes):
        folder = root / "parts" / f"{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        write_random(folder / f"part-{index:05d}.bin", size)


def plain_read(files: list[Path]) -> int:
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                total += len(chunk)
    return total


def plain_readinto(files: list[Path]) -> int:
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    total = 0
    for path in files:
        with open(path, "rb", buffering=0) as handle:
            while n := handle.readinto(view):
                total += n
    return total


def blake3_one_thread(files: list[Path]) -> list[str]:
    digests = []
    for path in files:
        hasher = blake3.blake3()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
        digests.append(hasher.hexdigest())
    return digests


def blake3_as_file_digest(files: list[Path]) -> list[str]:
    return [file_digest(path) for path in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=768)
    parser.add_argument("--small-files", type=int, default=2000)
    parser.add_argument("--small-mib", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--dir", default=None, help="parent folder of the temp dir (default: $TMPDIR)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aml-bench-fp-", dir=args.dir))
    try:
        root = work / "data"
        started = time.perf_counter()
        build_folder(root, args.big_mib, args.small_files, args.small_mib)
        os.sync()  # no writeback of the fresh files competing with the timed runs
        files = [Path(entry.path) for entry in walk_files(root)]
        size = sum(f.stat().st_size for f in files)
        print(
            f"folder: {len(files)} files, {size / (1 << 30):.2f} GiB ({args.big_mib} MiB file + "
            f"{args.small_files} files totalling {args.small_mib} MiB), "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        # Page cache: read everything once, so every method below reads from memory.
        plain_read(files)
        print(
            "page cache warm: every file read once before timing; plain read = open(path, 'rb') + "
            "read(1 MiB) until EOF, file by file in sorted path order (the fingerprint's order)"
        )
        print(f"load average before: {os.getloadavg()}")

        cache_dbs = iter(work / f"stat-cache-{i}.db" for i in range(10_000))
        fingerprints: list[str] = []

        def fingerprint() -> None:
            cache = StatCache(next(cache_dbs))  # fresh, empty database: a cold fingerprint
            try:
                start = time.perf_counter()
                fingerprints.append(local_content_digest(root, cache).digest)
                timings[FINGERPRINT].append(time.perf_counter() - start)
            finally:
                cache.close()

        def timed(name: str, function: Callable[[list[Path]], object]) -> tuple[str, Callable[[], None]]:
            def run() -> None:
                start = time.perf_counter()
                function(files)
                timings[name].append(time.perf_counter() - start)

            return name, run

        methods: list[tuple[str, Callable[[], None]]] = [
            timed(READ, plain_read),
            timed(READINTO, plain_readinto),
            timed(B3_ONE, blake3_one_thread),
            timed(B3_FD, blake3_as_file_digest),
            (FINGERPRINT, fingerprint),
        ]
        timings: dict[str, list[float]] = {name: [] for name, _ in methods}
        for rep in range(args.reps):
            order = methods if rep % 2 == 0 else list(reversed(methods))
            print(f"repetition {rep + 1}: " + " -> ".join(SHORT[name] for name, _ in order))
            for _, run in order:
                run()

        # The fingerprint must be the digest of exactly these bytes.
        entries = [
            (f.relative_to(root).as_posix(), f.stat().st_size, d)
            for f, d in zip(files, blake3_as_file_digest(files), strict=True)
        ]
        expected = manifest_of(entries).digest
        assert set(fingerprints) == {expected}, (set(fingerprints), expected)

        median = {name: statistics.median(values) for name, values in timings.items()}
        base = median[READ]
        print()
        print(f"{'method':<52} {'median s':>9} {'min s':>7} {'max s':>7} {'GB/s':>6} {'vs read':>8}")
        for name, values in timings.items():
            print(
                f"{name:<52} {median[name]:>9.3f} {min(values):>7.3f} {max(values):>7.3f} "
                f"{size / median[name] / 1e9:>6.2f} {base / median[name]:>8.2f}"
            )
        fp = median[FINGERPRINT]
        print()
        print("ratios are throughput ratios (baseline time / fingerprint time); GB = 1e9 bytes")
        print(f"fingerprint / plain read(1 MiB):            {base / fp:.2f}")
        print(f"fingerprint / plain readinto(1 MiB):        {median[READINTO] / fp:.2f}")
        print(f"fingerprint / bare blake3, 1 thread:        {median[B3_ONE] / fp:.2f}")
        print(f"fingerprint / bare blake3, as file_digest:  {median[B3_FD] / fp:.2f}")
        print(f"cpu cores: {os.cpu_count()}; load average after: {os.getloadavg()}")
        print(f"RESULT fingerprint_throughput: {base / fp:.2f} (target >= {TARGET})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
