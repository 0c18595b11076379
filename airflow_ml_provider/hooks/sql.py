"""The rows of a ``SqlDataReference`` as CSV, read through its connection's common-sql hook."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook

from airflow_ml_provider.runtime.digest import ALGORITHM, hasher, tagged

FETCH_ROWS = 10_000


class SqlSourceError(ValueError):
    """A SQL source that cannot be read, said with its connection and what to do."""


def _hook(conn_id: str) -> Any:
    from airflow.providers.common.sql.hooks.sql import DbApiHook

    try:
        hook = BaseHook.get_connection(conn_id).get_hook()
    except Exception as error:
        raise SqlSourceError(
            f'SQL connection "{conn_id}": {error}. Define it as a connection to the database '
            "(e.g. of type postgres), with its provider installed."
        ) from None
    if not isinstance(hook, DbApiHook):
        raise SqlSourceError(
            f'connection "{conn_id}" is not a SQL database connection (its hook is {type(hook).__name__}).'
        )
    return hook


def csv_chunks(conn_id: str, query: str) -> Iterator[bytes]:
    """The query's rows as CSV (a header line, then the rows), in chunks of ``FETCH_ROWS`` rows."""
    connection = _hook(conn_id).get_conn()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(query)
        except Exception as error:
            raise SqlSourceError(f'SQL connection "{conn_id}": the query failed: {error}'.strip()) from None
        yield _csv([[column[0] for column in cursor.description]])
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield _csv(rows)
        cursor.close()
    finally:
        connection.close()


def _csv(rows: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_csv(conn_id: str, query: str, target: Path) -> None:
    with target.open("wb") as handle:
        for chunk in csv_chunks(conn_id, query):
            handle.write(chunk)


def csv_digest(conn_id: str, query: str) -> str:
    """The content digest of the rows, as the step's fingerprint sees its source: the same
    rows give the same digest, so an unchanged table is not copied again."""
    hashing = hasher()
    for chunk in csv_chunks(conn_id, query):
        hashing.update(chunk)
    return tagged(hashing.hexdigest(), f"sql:{ALGORITHM}")
