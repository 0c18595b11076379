"""Digests of local code and data folders, through the stat cache."""

from __future__ import annotations

import os
from pathlib import Path

import pathspec

from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.runtime.digest import ALGORITHM, ContentDigest, manifest_digest

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


def scan_files(root: Path, spec: pathspec.PathSpec | None = None) -> list[tuple[str, os.stat_result]]:
    """(relative posix path, stat) of every regular file under ``root``, sorted.

    One ``stat`` per file (``os.scandir``); symlinked folders are not followed, as in
    the runtime's own output digests. ``spec`` drops ignored files and folders.
    """
    found: list[tuple[str, os.stat_result]] = []
    pending = [("", str(root))]
    while pending:
        relative_folder, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = relative_folder + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if spec is None or not spec.match_file(relative + "/"):
                        pending.append((relative + "/", entry.path))
                elif entry.is_file() and (spec is None or not spec.match_file(relative)):
                    found.append((relative, entry.stat()))
    found.sort(key=lambda item: item[0])
    return found


def code_digests(source_directory: Path, cache: StatCache) -> dict[str, str]:
    """Relative path -> digest of every file of a step's code."""
    scanned = scan_files(source_directory, ignore_spec(source_directory))
    return {relative: digest for relative, _, digest in cache.digests_under(source_directory, scanned)}


def local_content_digest(path: Path, cache: StatCache) -> ContentDigest:
    """The same digest the runtime records for outputs, with unchanged files not re-read."""
    if path.is_file():
        size, digest = cache.digests([path])[path]
        return ContentDigest(f"{ALGORITHM}:{digest}", size, 1)
    if not path.is_dir():
        raise FileNotFoundError(str(path))
    entries = cache.digests_under(path, scan_files(path))
    return ContentDigest(
        f"{ALGORITHM}:{manifest_digest(entries)}", sum(size for _, size, _ in entries), len(entries)
    )
