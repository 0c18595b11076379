"""Copying a file or folder between any two datastores, in chunks, with its digest.

No Airflow here (the benchmark and the transfer operator share it). Bytes flow in chunks
of ``CHUNK`` (8 MiB); at most ``IN_FLIGHT`` chunks wait for an upload at a time, so the
memory a copy holds is bounded whatever the file sizes. Files of a folder are copied by a
few threads at once; a large file to S3 is one multipart upload whose parts are sent
several at a time. The blake3 digest (the same as the runtime's ``path_digest`` of a local
copy) is computed from the bytes as they pass.

Publication: on a local destination everything is written into a staging folder beside
it, renamed into place once complete. On an object store (no rename), objects are written
under their final keys and, if anything fails, every object written so far is deleted
before the error is raised. Either way the caller publishes the reference only after
this returns.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from airflow_ml_provider.runtime.digest import ContentDigest, hasher, manifest_of
from airflow_ml_provider.runtime.process import Stopper
from airflow_ml_provider.runtime.publish import free_remote_path, publish_local, renamed_uri
from airflow_ml_provider.runtime.stores import StoreError, check_exists, with_retries
from airflow_ml_provider.runtime.walk import walk_files

CHUNK = 8 << 20
IN_FLIGHT = 4
FILE_WORKERS = 8
MAX_PARTS = 9_000
PROGRESS_SECONDS = 5.0

Log = Callable[[str], None]


@dataclass(frozen=True)
class Endpoint:
    """One side of a transfer: a URI, its fsspec options, and the datastore's name."""

    uri: str
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)
    datastore: str = ""


@dataclass(frozen=True)
class TransferResult:
    uri: str
    digest: str
    size: int
    files: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.size / self.seconds if self.seconds > 0 else 0.0


def _local(uri: str) -> Path | None:
    if "://" not in uri:
        return Path(uri)
    protocol, _, rest = uri.partition("://")
    return Path(rest) if protocol in ("file", "local") else None


def _is_s3(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return "s3" in protocols


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} GiB"


class Progress:
    """Bytes and files done, logged every ``every`` seconds (and once at the end)."""

    def __init__(self, total_bytes: int, total_files: int, log: Log, every: float = PROGRESS_SECONDS) -> None:
        self.total_bytes, self.total_files, self.log, self.every = total_bytes, total_files, log, every
        self.bytes = 0
        self.files = 0
        self.started = time.monotonic()
        self._last = self.started
        self._lock = threading.Lock()

    def add(self, size: int = 0, files: int = 0) -> None:
        with self._lock:
            self.bytes += size
            self.files += files
            now = time.monotonic()
            if now - self._last >= self.every:
                self._last = now
                self.log(self.line())

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (
            f"transferred {_human(self.bytes)} of {_human(self.total_bytes)}, "
            f"{self.files} of {self.total_files} files, {_human(self.bytes / elapsed)}/s"
        )


class _Copier:
    def __init__(self, source_fs: Any, destination_fs: Any, progress: Progress, chunk: int) -> None:
        self.source_fs, self.destination_fs = source_fs, destination_fs
        self.progress, self.chunk = progress, chunk
        self.buffers = threading.BoundedSemaphore(IN_FLIGHT)
        self.parts = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="transfer-part")
        self.cancelled = threading.Event()

    def close(self) -> None:
        self.parts.shutdown(wait=True, cancel_futures=True)

    def _chunk_for(self, size: int) -> int:
        return max(self.chunk, math.ceil(size / MAX_PARTS))

    def copy(self, source: str, destination: str, size: int) -> str:
        """Copy one file; return the hex digest of its bytes."""
        hashing = hasher()
        chunk = self._chunk_for(size)
        with self.source_fs.open(source, "rb", block_size=chunk) as reader:
            if _is_s3(self.destination_fs):
                self._to_s3(reader, destination, size, chunk, hashing)
            else:
                parent = destination.rsplit("/", 1)[0]
                if parent and parent != destination:
                    self.destination_fs.makedirs(parent, exist_ok=True)
                with self.destination_fs.open(destination, "wb") as writer:
                    while data := reader.read(chunk):
                        if self.cancelled.is_set():
                            raise InterruptedError("transfer cancelled")
                        hashing.update(data)
                        writer.write(data)
                        self.progress.add(len(data))
        return str(hashing.hexdigest())

    def _to_s3(self, reader: Any, destination: str, size: int, chunk: int, hashing: Any) -> None:
        fs = self.destination_fs
        bucket, key, _ = fs.split_path(destination)
        if size <= chunk:
            data = reader.read()
            hashing.update(data)
            fs.call_s3("put_object", Bucket=bucket, Key=key, Body=data)
            self.progress.add(len(data))
            return
        upload = fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)
        upload_id = upload["UploadId"]
        futures: list[Future[dict[str, Any]]] = []
        try:
            number = 0
            while True:
                self.buffers.acquire()
                try:
                    data = reader.read(chunk)
                except BaseException:
                    self.buffers.release()
                    raise
                if not data:
                    self.buffers.release()
                    break
                if self.cancelled.is_set() or any(f.done() and f.exception() for f in futures):
                    self.buffers.release()
                    break
                hashing.update(data)
                number += 1
                futures.append(self.parts.submit(self._part, bucket, key, upload_id, number, data))
            parts = [{"PartNumber": i + 1, "ETag": f.result()["ETag"]} for i, f in enumerate(futures)]
            if self.cancelled.is_set():
                raise InterruptedError("transfer cancelled")
            fs.call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            for future in futures:
                future.cancel()
            with contextlib.suppress(Exception):
                fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    def _part(self, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.destination_fs.call_s3(
                "upload_part", Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
            )
            self.progress.add(len(data))
            return result
        finally:
            self.buffers.release()


def transfer(
    source: Endpoint,
    destination: Endpoint,
    *,
    source_is_directory: bool | None,
    destination_is_directory: bool | None,
    overwrite: bool = False,
    keep_existing: bool = False,
    stopper: Stopper | None = None,
    log: Log = print,
    chunk: int = CHUNK,
    progress_seconds: float = PROGRESS_SECONDS,
) -> TransferResult:
    """Copy ``source`` to ``destination``; publish only a complete copy (see the module doc).

    A file source into a folder destination lands as ``<folder>/<file name>``. A destination
    that exists is replaced with ``overwrite``; with ``keep_existing`` (step outputs, which the
    cache may reference) it is kept and the copy lands beside it under a fresh name, which the
    result's ``uri`` says. Raises :class:`StoreError` naming the datastore, the path and the
    cause. ``None`` for ``source_is_directory``: whatever the source is; for
    ``destination_is_directory``: the same as the source.
    """
    started = time.monotonic()
    source_fs, source_path = with_retries(
        lambda: url_to_fs(source.uri, **source.storage_options),
        datastore=source.datastore,
        uri=source.uri,
        action="open",
    )
    files, source_is_folder = with_retries(
        lambda: _list_source(source_fs, source_path, source_is_directory, source),
        datastore=source.datastore,
        uri=source.uri,
        action="read",
        log=log,
    )
    if destination_is_directory is None:
        destination_is_directory = source_is_folder
    destination_fs, destination_path = url_to_fs(destination.uri, **destination.storage_options)
    final_local = _local(destination.uri)

    def exists() -> bool:
        if _is_s3(destination_fs):
            with contextlib.suppress(Exception):
                check_exists(destination_fs, destination_path)
                return True
            return False
        return bool(destination_fs.exists(destination_path))

    existed = with_retries(
        exists, datastore=destination.datastore, uri=destination.uri, action="check", log=log
    )
    published_uri = destination.uri
    if existed and keep_existing and final_local is None:
        destination_path = free_remote_path(destination_fs, destination_path, what="transfer", log=log)
        old_name = destination.uri.rstrip("/").rpartition("/")[2]
        published_uri = renamed_uri(destination.uri, old_name, destination_path.rpartition("/")[2])
    elif existed and not overwrite and not keep_existing:
        raise StoreError(
            destination.datastore,
            destination.uri,
            "write",
            "it already exists; pass overwrite=True to replace it",
        )
    if _is_s3(destination_fs):
        bucket = destination_path.split("/", 1)[0]
        with_retries(
            lambda: check_exists(destination_fs, bucket),
            datastore=destination.datastore,
            uri=destination.uri,
            action="write",
            log=log,
        )

    staging: Path | None = None
    if final_local is not None:
        final_local.parent.mkdir(parents=True, exist_ok=True)
        staging = final_local.parent / f".staging-{final_local.name}-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        root = (staging / final_local.name).as_posix()
    else:
        root = destination_path.rstrip("/")
    targets = [
        (path, f"{root}/{relative}" if destination_is_directory else root, relative, size)
        for path, relative, size in files
    ]
    total = sum(size for *_, size in files)
    progress = Progress(total, len(files), log, progress_seconds)
    log(
        f"transfer {source.uri} -> {destination.uri}: {len(files)} file(s), {_human(total)}"
        + (" (replacing what is there)" if existed and overwrite and not keep_existing else "")
    )
    copier = _Copier(source_fs, destination_fs, progress, chunk)
    if stopper is not None:
        stopper.on_stop(copier.cancelled.set)
    written: list[str] = []
    written_lock = threading.Lock()

    def copy_one(item: tuple[str, str, str, int]) -> tuple[str, int, str]:
        path, target, relative, size = item

        def attempt() -> str:
            return copier.copy(path, target, size)

        def remove_partial() -> None:
            with contextlib.suppress(FileNotFoundError):
                destination_fs.rm_file(target)

        with written_lock:
            written.append(target)
        digest = with_retries(
            attempt,
            datastore=f'{source.datastore}" -> "{destination.datastore}',
            uri=f"{source.uri} -> {destination.uri} ({relative})",
            action="copy",
            log=log,
            cleanup=remove_partial,
        )
        progress.add(files=1)
        return relative, size, digest

    try:
        with ThreadPoolExecutor(max_workers=FILE_WORKERS, thread_name_prefix="transfer-file") as pool:
            futures = [pool.submit(copy_one, item) for item in targets]
            try:
                entries = [future.result() for future in futures]
            except BaseException:
                copier.cancelled.set()
                for future in futures:
                    future.cancel()
                raise
    except BaseException:
        copier.close()
        _discard(destination_fs, staging, written, log)
        raise
    copier.close()
    if staging is not None and final_local is not None:
        if keep_existing:
            published = publish_local(staging / final_local.name, final_local, what="transfer", log=log)
            published_uri = renamed_uri(destination.uri, final_local.name, published.name)
        else:
            if final_local.exists():
                shutil.rmtree(final_local) if final_local.is_dir() else final_local.unlink()
            os.replace(staging / final_local.name, final_local)
        shutil.rmtree(staging, ignore_errors=True)
    content = (
        manifest_of(entries) if destination_is_directory else ContentDigest.of_file(entries[0][2], total)
    )
    seconds = time.monotonic() - started
    result = TransferResult(published_uri, content.digest, content.size, content.files, seconds)
    log(progress.line() + f"; done in {seconds:.1f} s")
    return result


def _list_source(
    fs: Any, path: str, is_directory: bool | None, source: Endpoint
) -> tuple[list[tuple[str, str, int]], bool]:
    """(path, relative path, size) of every file to copy, and whether the source is a folder."""
    check_exists(fs, path)
    if fs.isdir(path):
        if is_directory is False:
            raise StoreError(
                source.datastore,
                source.uri,
                "read",
                'it is a folder, but source_reference_type is "file"; use "directory"',
            )
        return [(entry.path, entry.relative, entry.size) for entry in walk_files(path, fs)], True
    if is_directory:
        raise StoreError(
            source.datastore,
            source.uri,
            "read",
            'it is a file, but source_reference_type is "directory"; use "file"',
        )
    info = fs.info(path)
    return [(path, path.rstrip("/").rsplit("/", 1)[-1], int(info.get("size") or 0))], False


def _discard(fs: Any, staging: Path | None, written: list[str], log: Log) -> None:
    """Remove everything a failed transfer wrote."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
        return
    for target in written:
        with contextlib.suppress(Exception):
            fs.rm_file(target)
    if written:
        log(f"transfer failed: removed the {len(written)} object(s) it had started writing")
