"""Digests of local code and data folders, through the stat cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import ALGORITHM, ContentDigest, Manifest

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


def scan_files(root: Path, spec: pathspec.PathSpec | None = None) -> list[tuple[str, os.stat_result]]:
    """(relative posix path, stat) of every regular file under ``root``, sorted."""
    return list(iter_files(root, spec))


def iter_files(root: Path, spec: pathspec.PathSpec | None = None) -> Iterator[tuple[str, os.stat_result]]:
    """(relative posix path, stat) of every regular file under ``root``, in path order.

    One ``stat`` per file (``os.scandir``) and one folder's entries in memory at a time;
    symlinked folders are not followed, as in the runtime's own output digests. ``spec``
    drops ignored files and folders. A folder sorts as its name plus "/", so the order is
    that of the full relative paths (what ``sorted`` and the stat cache's index give).
    """
    yield from _walk(root, str(root), "", spec, None, frozenset(), [0, 0])


def _walk(
    root: Path,
    folder: str,
    relative_folder: str,
    spec: pathspec.PathSpec | None,
    limits: SnapshotLimits | None,
    above: frozenset[tuple[int, int]],
    counts: list[int],
) -> Iterator[tuple[str, os.stat_result]]:
    """``above``: (device, inode) of the followed folders this one is inside (for loops)."""
    found: list[tuple[str, str, os.stat_result | None, frozenset[tuple[int, int]]]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            relative = relative_folder + entry.name
            if entry.is_dir(follow_symlinks=False):
                if spec is None or not spec.match_file(relative + "/"):
                    found.append((relative + "/", entry.path, None, above))
            elif limits is not None and entry.is_symlink() and entry.is_dir():
                if spec is None or not spec.match_file(relative + "/"):
                    followed = _followed(root, relative, entry, above, limits)
                    found.append((relative + "/", entry.path, None, followed))
            elif entry.is_file() and (spec is None or not spec.match_file(relative)):
                found.append((relative, entry.path, entry.stat(), above))
    found.sort(key=lambda item: item[0])
    for relative, path, stat, inside in found:
        if stat is None:
            yield from _walk(root, path, relative, spec, limits, inside, counts)
            continue
        if limits is not None:
            counts[0] += 1
            counts[1] += stat.st_size
            _within(root, limits, counts[0], counts[1])
        yield relative, stat


def _followed(
    root: Path,
    relative: str,
    entry: os.DirEntry[str],
    above: frozenset[tuple[int, int]],
    limits: SnapshotLimits,
) -> frozenset[tuple[int, int]]:
    """A symlinked folder is part of the code: followed if it stays in bounds and makes no loop."""
    target = Path(os.path.realpath(entry.path))
    if limits.roots and not any(target.is_relative_to(bound) for bound in limits.roots):
        raise SnapshotError(
            f"source_directory {root}: the folder link {relative} leads to {target}, outside the DAG "
            f"folder ({', '.join(str(bound) for bound in limits.roots)}). Copy what it holds into the "
            "step's folder, or allow that folder in [ml_pipelines] allowed_source_roots."
        )
    stat = entry.stat()
    if (stat.st_dev, stat.st_ino) in above:
        raise SnapshotError(
            f"source_directory {root}: the folder link {relative} leads to {target}, a folder it is "
            "already inside (a loop). Remove the link, or leave it out with .amlignore."
        )
    return above | {(stat.st_dev, stat.st_ino)}


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
    and a snapshot past the file or byte cap raises :class:`SnapshotError`.
    """
    start = source_directory.stat()
    scanned = list(
        _walk(
            source_directory,
            str(source_directory),
            "",
            ignore_spec(source_directory),
            limits,
            frozenset({(start.st_dev, start.st_ino)}),
            [0, 0],
        )
    )
    return {relative: digest for relative, _, digest in cache.digests_under(source_directory, scanned)}


def local_content_digest(path: Path, cache: StatCache) -> ContentDigest:
    """The same digest the runtime records for outputs, with unchanged files not re-read.

    A folder is streamed: memory stays flat however many files it holds.
    """
    if path.is_file():
        size, digest = cache.digests([path])[path]
        return ContentDigest(f"{ALGORITHM}:{digest}", size, 1)
    if not path.is_dir():
        raise FileNotFoundError(str(path))
    manifest = Manifest()
    for relative, size, digest in cache.iter_digests_under(path, iter_files(path)):
        manifest.add(relative, size, digest)
    return manifest.digest()
