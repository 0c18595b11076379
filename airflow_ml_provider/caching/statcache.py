"""Remembered file digests: (inode, size, mtime, ctime) -> digest, so unchanged files are not re-read.

Kept apart from hashing (``runtime.digest``); a local SQLite file per machine, since
inodes mean nothing elsewhere. The change time is part of the key because programs can
restore a modification time (``cp -p``, ``tar x``) but not a change time.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path

from airflow_ml_provider.private import private_file
from airflow_ml_provider.runtime.digest import file_digest
from airflow_ml_provider.runtime.walk import FileEntry

_SCHEMA = """
create table if not exists files_v2 (
    path text primary key, inode integer, size integer, mtime_ns integer, ctime_ns integer, digest text
)
"""
_COLUMNS = "path, inode, size, mtime_ns, ctime_ns, digest"

StatKey = tuple[int, int, int, int]
log = logging.getLogger(__name__)
# New digests are written this many at a time while a folder is streamed.
_WRITE_BATCH = 1000


def stat_key(stat: os.stat_result) -> StatKey:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class StatCache:
    """Digest of files by path, trusted while the file's stat is unchanged.

    It is only an optimisation: a damaged database file is set aside and rebuilt (files are
    then read again once), never an error.
    """

    def __init__(self, database: str | os.PathLike[str], warn: Callable[[str], None] | None = None) -> None:
        self._warn = warn or log.warning
        self._path = Path(database)
        self._writer: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as error:
            self._rebuild(error)

    def _open(self) -> sqlite3.Connection:
        private_file(self._path)
        db = sqlite3.connect(str(self._path), timeout=30)
        try:
            db.execute("pragma journal_mode=wal")
            db.execute("pragma synchronous=normal")
            db.execute(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _rebuild(self, error: sqlite3.DatabaseError) -> None:
        if getattr(self, "_db", None) is not None:
            self._db.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self._path}{suffix}").unlink(missing_ok=True)
        self._warn(f"the stat cache {self._path} was damaged ({error}); it was set aside and rebuilt")
        self._db = self._open()

    def _rows(self, query: str, parameters: tuple[str, ...]) -> list[tuple[str, int, int, int, int, str]]:
        try:
            return list(self._db.execute(query, parameters))
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return []  # a busy cache only costs a re-read
            self._rebuild(error)
        except sqlite3.DatabaseError as error:
            self._rebuild(error)
        return []

    def close(self) -> None:
        self._db.close()
        if self._writer is not None:
            self._writer.close()

    def digests(self, files: Iterable[Path]) -> dict[Path, tuple[int, str]]:
        """(size, hex digest) of each file; reads only files whose stat changed."""
        files = list(files)
        known: dict[str, tuple[StatKey, str]] = {}
        for file in files:
            for row in self._rows(f"select {_COLUMNS} from files_v2 where path = ?", (str(file),)):
                known[row[0]] = ((row[1], row[2], row[3], row[4]), row[5])
        found = self._resolve([(str(file), file.stat()) for file in files], known)
        return {file: found[str(file)] for file in files}

    def iter_digests_under(
        self, root: Path, scanned: Iterable[FileEntry[os.stat_result]]
    ) -> Iterator[tuple[str, int, str]]:
        """(relative path, size, hex digest) of each file scanned under ``root``, as it comes.

        ``scanned`` must be in path order: it is merged with the remembered rows, read in the
        same order from the index, so neither side is held in memory. New digests are
        written in batches through a second connection (the read goes on meanwhile, in WAL).
        """
        prefix = str(root).rstrip(os.sep) + os.sep
        rows = self._ordered_rows(prefix)
        row = next(rows, None)
        fresh: list[tuple[str, int, int, int, int, str]] = []
        try:
            for relative, _, size, stat in scanned:
                path = prefix + relative
                while row is not None and row[0] < path:
                    row = next(rows, None)
                key = stat_key(stat)
                if row is not None and row[0] == path and (row[1], row[2], row[3], row[4]) == key:
                    yield relative, size, row[5]
                    continue
                digest = file_digest(path)
                fresh.append((path, *key, digest))
                if len(fresh) >= _WRITE_BATCH:
                    self._remember(fresh)
                    fresh = []
                yield relative, size, digest
        finally:
            rows.close()
            self._remember(fresh)

    def _ordered_rows(self, prefix: str) -> Generator[tuple[str, int, int, int, int, str], None, None]:
        """The remembered rows under ``prefix`` in path order; a busy or damaged cache ends them early."""
        try:
            yield from self._db.execute(
                f"select {_COLUMNS} from files_v2 where path >= ? and path < ? order by path",
                (prefix, prefix + "\U0010ffff"),
            )
        except sqlite3.OperationalError as error:
            if not ("locked" in str(error) or "busy" in str(error)):
                self._rebuild(error)
        except sqlite3.DatabaseError as error:
            self._rebuild(error)

    def _resolve(
        self, files: list[tuple[str, os.stat_result]], known: dict[str, tuple[StatKey, str]]
    ) -> dict[str, tuple[int, str]]:
        result: dict[str, tuple[int, str]] = {}
        fresh: list[tuple[str, int, int, int, int, str]] = []
        for path, stat in files:
            key = stat_key(stat)
            remembered = known.get(path)
            if remembered is not None and remembered[0] == key:
                result[path] = (stat.st_size, remembered[1])
                continue
            digest = file_digest(path)
            result[path] = (stat.st_size, digest)
            fresh.append((path, *key, digest))
        self._remember(fresh)
        return result

    def _remember(self, fresh: list[tuple[str, int, int, int, int, str]]) -> None:
        if not fresh:
            return
        try:
            if self._writer is None:
                self._writer = sqlite3.connect(str(self._path), timeout=30)
                self._writer.execute("pragma synchronous=normal")
            with self._writer:
                self._writer.executemany("insert or replace into files_v2 values (?, ?, ?, ?, ?, ?)", fresh)
        except sqlite3.OperationalError as error:
            if not ("locked" in str(error) or "busy" in str(error)):
                self._rebuild(error)
            # a busy cache only costs a re-read next time
        except sqlite3.DatabaseError as error:
            self._rebuild(error)
