"""Looking into a step output through its datastore: a folder's files, a preview of small text,
CSV or JSON files, and a file's bytes for download. Read-only, and never outside the output."""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PREVIEW_BYTES = 64 * 1024
LISTED_FILES = 200
PREVIEW_ROWS = 20
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".json", ".jsonl", ".md", ".log", ".yaml", ".yml", ".html", ".xml")


class OutputPathError(ValueError):
    """A file asked for that is not inside the output."""


@dataclass(frozen=True)
class OutputLocation:
    uri: str
    storage_options: dict[str, Any]

    def filesystem(self) -> tuple[Any, str]:
        from fsspec.core import url_to_fs

        return url_to_fs(self.uri, **self.storage_options)


def inside(root: str, relative: str | None) -> str:
    """``relative`` under ``root``, refusing anything that leaves it."""
    if not relative:
        return root
    parts = relative.replace("\\", "/").split("/")
    if relative.startswith("/") or any(part in ("..", "") for part in parts):
        raise OutputPathError(f"{relative!r} is not a path inside the output")
    return posixpath.join(root.rstrip("/"), *parts)


def preview(location: OutputLocation, file: str | None = None) -> dict[str, Any]:
    """A folder's files (and a preview of its only file), or a preview of one file."""
    fs, root = location.filesystem()
    if fs.isdir(root) and not file:
        listing = _listing(fs, root)
        shown = {"kind": "folder", "files": listing, "truncated": len(listing) >= LISTED_FILES}
        if len(listing) == 1:
            shown["preview"] = _file_preview(fs, inside(root, listing[0]["path"]), listing[0]["path"])
        return shown
    path = inside(root, file) if fs.isdir(root) else root
    if file and not fs.isfile(path):
        raise OutputPathError(f"{file!r} is not a file of the output")
    return _file_preview(fs, path, file or posixpath.basename(root))


def _listing(fs: Any, root: str) -> list[dict[str, Any]]:
    found = []
    for path, info in sorted(fs.find(root, detail=True).items()):
        found.append({"path": posixpath.relpath(path, root.rstrip("/")), "size": info.get("size")})
        if len(found) >= LISTED_FILES:
            break
    return found


def _file_preview(fs: Any, path: str, name: str) -> dict[str, Any]:
    size = fs.size(path)
    with fs.open(path, "rb") as handle:
        head = handle.read(PREVIEW_BYTES)
    complete = len(head) >= (size or 0)
    shown: dict[str, Any] = {"kind": "binary", "name": name, "size": size, "truncated": not complete}
    if not name.lower().endswith(TEXT_SUFFIXES) and b"\0" in head[:1024]:
        return shown
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if complete:
            return shown
        text = head[:-4].decode("utf-8", errors="ignore")
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")):
        rows = list(csv.reader(io.StringIO(text), delimiter="\t" if lower.endswith(".tsv") else ","))
        return shown | {
            "kind": "table",
            "rows": rows[: PREVIEW_ROWS + 1],
            "more_rows": len(rows) > PREVIEW_ROWS + 1,
        }
    if lower.endswith(".json") and complete:
        try:
            return shown | {"kind": "json", "text": json.dumps(json.loads(text), indent=2)[:PREVIEW_BYTES]}
        except ValueError:
            pass
    return shown | {"kind": "text", "text": text}


def read_chunks(
    location: OutputLocation, file: str | None, chunk: int = 1 << 20
) -> tuple[str, Iterator[bytes]]:
    """The name and the bytes (in chunks) of a file output, or of one file inside a folder output."""
    fs, root = location.filesystem()
    path = inside(root, file) if fs.isdir(root) else root
    if not fs.isfile(path):
        raise OutputPathError(f"{file!r} is not a file of the output")

    def chunks() -> Iterator[bytes]:
        with fs.open(path, "rb") as handle:
            while block := handle.read(chunk):
                yield block

    return posixpath.basename(path), chunks()
