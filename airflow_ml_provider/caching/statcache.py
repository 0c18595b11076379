"""Remembered file digests: (inode, size, mtime) -> digest, so unchanged files are not re-read.

Kept apart from hashing (``runtime.digest``); a local SQLite file per machine, since
inodes mean nothing elsewhere.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from airflow_ml_provider.runtime.digest import file_digest

_SCHEMA = """
create table if not exists files (
    path text primary key, inode integer, size integer, mtime_ns integer, digest text
)
"""


class StatCache:
    """Digest of files by path, trusted while the file's inode, size and mtime are unchanged."""

    def __init__(self, database: str | os.PathLike[str]) -> None:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(database), timeout=30)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def digests(self, files: Iterable[Path], *, under: Path | None = None) -> dict[Path, tuple[int, str]]:
        """(size, hex digest) of each file; reads only files whose stat changed.

        ``under`` lets the lookup load every remembered file of one folder in a single query.
        """
        files = list(files)
        known = self._known(under, files)
        result: dict[Path, tuple[int, str]] = {}
        fresh: list[tuple[str, int, int, int, str]] = []
        for file in files:
            stat = file.stat()
            key = str(file)
            row = known.get(key)
            if row is not None and row[:3] == (stat.st_ino, stat.st_size, stat.st_mtime_ns):
                result[file] = (stat.st_size, row[3])
                continue
            digest = file_digest(file)
            result[file] = (stat.st_size, digest)
            fresh.append((key, stat.st_ino, stat.st_size, stat.st_mtime_ns, digest))
        if fresh:
            try:
                with self._db:
                    self._db.executemany("insert or replace into files values (?, ?, ?, ?, ?)", fresh)
            except sqlite3.OperationalError:
                pass  # a busy cache only costs a re-read next time
        return result

    def _known(self, under: Path | None, files: list[Path]) -> dict[str, tuple[int, int, int, str]]:
        query = "select path, inode, size, mtime_ns, digest from files"
        if under is not None:
            prefix = str(under).rstrip(os.sep) + os.sep
            rows = list(
                self._db.execute(f"{query} where path >= ? and path < ?", (prefix, prefix + "\U0010ffff"))
            )
        else:
            rows = [
                row for file in files for row in self._db.execute(f"{query} where path = ?", (str(file),))
            ]
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}
