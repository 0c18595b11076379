"""DataTransferStep's copy (local -> S3) against s3fs's own ``put`` of the same data.

Starts a moto S3 server on loopback (a subprocess, so its CPU is not this process's),
writes one large file and a folder of small files in a temp dir, then, in alternating
order, for each data set:

- ``copying.transfer`` (what ``<step>.run`` of a DataTransferStep runs: chunked
  streaming, blake3 digest of the bytes as they pass, bounded memory, cleanup on failure);
- ``S3FileSystem.put`` of the same local path (s3fs defaults: 50 MiB parts, 10 at once).

Prints medians and the ratio put_time / transfer_time (>= 1 means the transfer is as fast
as s3fs). Both read the same page-cached files and write to the same endpoint; moto is
the bottleneck on a small machine, so absolute MiB/s say little. No timing is asserted.

    .venv/bin/python benchmarks/transfer_throughput.py [--big-mib 512] [--small-files 500] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import s3fs

from airflow_ml_provider.copying import Endpoint, transfer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mib", type=int, default=512)
    parser.add_argument("--small-files", type=int, default=500)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    work = Path(tempfile.mkdtemp(prefix="aml-bench-transfer-"))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        options = {"key": "bench", "secret": "bench", "client_kwargs": {"endpoint_url": endpoint}}
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="b",
            aws_secret_access_key="b",
            region_name="us-east-1",
        ).create_bucket(Bucket="bench")
        big = work / "big.bin"
        with big.open("wb") as handle:
            for _ in range(args.big_mib // 8):
                handle.write(os.urandom(8 << 20))
        small = work / "small"
        for index in range(args.small_files):
            folder = small / f"d{index % 10}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"f{index}.bin").write_bytes(os.urandom(4096 + (index * 997) % 60000))
        small_bytes = sum(p.stat().st_size for p in small.rglob("*") if p.is_file())
        print(f"load average {os.getloadavg()[0]:.2f}; endpoint moto server {endpoint}")
        fs = s3fs.S3FileSystem(**options)
        results = {}
        for label, path, is_directory, size in (
            (f"one file, {args.big_mib} MiB", big, False, big.stat().st_size),
            (f"{args.small_files} files, {small_bytes / 2**20:.0f} MiB", small, True, small_bytes),
        ):
            ours, theirs = [], []
            for rep in range(args.reps):
                order = ["transfer", "put"] if rep % 2 == 0 else ["put", "transfer"]
                for which in order:
                    key = f"bench/{which}-{uuid.uuid4().hex[:8]}"
                    started = time.perf_counter()
                    if which == "transfer":
                        transfer(
                            Endpoint(path.as_uri()),
                            Endpoint(f"s3://{key}", options, "bench"),
                            source_is_directory=is_directory,
                            destination_is_directory=is_directory,
                            log=lambda _line: None,
                        )
                        ours.append(time.perf_counter() - started)
                    else:
                        fs.put(str(path), key, recursive=is_directory)
                        theirs.append(time.perf_counter() - started)
                    fs.rm(key, recursive=True)
            t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
            results[label] = t_theirs / t_ours
            print(
                f"{label:>24}: transfer {size / 2**20 / t_ours:7.1f} MiB/s ({t_ours:.2f} s), "
                f"s3fs put {size / 2**20 / t_theirs:7.1f} MiB/s ({t_theirs:.2f} s), "
                f"ratio {results[label]:.2f}"
            )
        ratio = min(results.values())
        print(f"RESULT transfer_throughput: {ratio:.2f} (target >= 0.9)")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
