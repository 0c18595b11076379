"""Digests of local code and data folders, through the stat cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import ContentDigest, path_digest
from airflow_ml_provider.runtime.walk import FileEntry, FolderLinkError, walk_files

# Written by Python itself when a script imports a module next to it; never content.
ALWAYS_IGNORED = ["__pycache__/", "*.pyc", ".git/"]


def ignore_spec(source_directory: Path) -> pathspec.PathSpec:
    """``.amlignore`` if present, else ``.gitignore``, as Azure ML snapshots do."""
    lines = list(ALWAYS_IGNORED)
    for name in (".amlignore", ".gitignore"):
        candidate = source_directory / name
        if candidate.is_file():
            lines += candidate.read_text().splitlines()
            break
    return pathspec.PathSpec.from_lines("gitignore", lines)


class SnapshotError(Exception):
    """A ``source_directory`` that cannot be snapshotted as it is: too large, or a link leads out."""


@dataclass(frozen=True)
class SnapshotLimits:
    """What a code snapshot may read, and where symlinked folders may lead (empty: anywhere)."""

    max_files: int
    max_bytes: int
    roots: tuple[Path, ...] = ()


def _within(root: Path, limits: SnapshotLimits, files: int, size: int) -> None:
    if files > limits.max_files:
        raise SnapshotError(
            f"source_directory {root} holds more than {limits.max_files} files, the most a step's code "
            "snapshot reads. Leave data and generated files out with an .amlignore (gitignore syntax), "
            "or raise [ml_pipelines] max_snapshot_files."
        )
    if size > limits.max_bytes:
        raise SnapshotError(
            f"source_directory {root} holds more than {limits.max_bytes / 2**20:.0f} MiB, the most a "
            "step's code snapshot reads. Leave data and generated files out with an .amlignore "
            "(gitignore syntax), or raise [ml_pipelines] max_snapshot_bytes."
        )


def code_digests(
    source_directory: Path, cache: StatCache, limits: SnapshotLimits | None = None
) -> dict[str, str]:
    """Relative path -> digest of every file of a step's code.

    With ``limits``, symlinked folders are followed (within ``limits.roots``, loops refused)
    and a snapshot past the file or byte cap raises :class:`SnapshotError`, before any file
    is read.
    """
    files = walk_files(
        source_directory,
        ignore=ignore_spec(source_directory),
        follow_links=limits is not None,
        within=limits.roots if limits is not None else (),
    )
    scanned = list(files if limits is None else _bounded(source_directory, files, limits))
    return {relative: digest for relative, _, digest in cache.iter_digests_under(source_directory, scanned)}


def _bounded(
    root: Path, files: Iterator[FileEntry[os.stat_result]], limits: SnapshotLimits
) -> Iterator[FileEntry[os.stat_result]]:
    count = size = 0
    try:
        for entry in files:
            count, size = count + 1, size + entry.size
            _within(root, limits, count, size)
            yield entry
    except FolderLinkError as error:
        raise SnapshotError(_link_problem(root, error, limits)) from None


def _link_problem(root: Path, error: FolderLinkError, limits: SnapshotLimits) -> str:
    """A symlinked folder is part of the code: followed if it stays in bounds and makes no loop."""
    if error.loop:
        return (
            f"source_directory {root}: the folder link {error.relative} leads to {error.target}, a folder "
            "it is already inside (a loop). Remove the link, or leave it out with .amlignore."
        )
    return (
        f"source_directory {root}: the folder link {error.relative} leads to {error.target}, outside the "
        f"DAG folder ({', '.join(str(bound) for bound in limits.roots)}). Copy what it holds into the "
        "step's folder, or allow that folder in [ml_pipelines] allowed_source_roots."
    )


def local_content_digest(path: Path, cache: StatCache) -> ContentDigest:
    """The same digest the runtime records for outputs, with unchanged files not re-read.

    A folder is streamed: memory stays flat however many files it holds.
    """
    return path_digest(path, state=cache)
