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


def list_files(root: Path, spec: pathspec.PathSpec | None = None) -> list[Path]:
    """Regular files under ``root``, sorted, minus what ``spec`` ignores."""
    found = []
    for folder, subfolders, names in os.walk(root):
        relative_folder = os.path.relpath(folder, root)
        if spec is not None:
            subfolders[:] = [
                d for d in subfolders if not spec.match_file(os.path.join(relative_folder, d) + "/")
            ]
        for name in names:
            relative = os.path.normpath(os.path.join(relative_folder, name))
            if spec is None or not spec.match_file(relative):
                path = Path(folder) / name
                if path.is_file():
                    found.append(path)
    return sorted(found)


def code_digests(source_directory: Path, cache: StatCache) -> dict[str, str]:
    """Relative path -> digest of every file of a step's code."""
    files = list_files(source_directory, ignore_spec(source_directory))
    digests = cache.digests(files, under=source_directory)
    return {file.relative_to(source_directory).as_posix(): digests[file][1] for file in files}


def local_content_digest(path: Path, cache: StatCache) -> ContentDigest:
    """The same digest the runtime records for outputs, with unchanged files not re-read."""
    if path.is_file():
        size, digest = cache.digests([path])[path]
        return ContentDigest(f"{ALGORITHM}:{digest}", size, 1)
    if not path.is_dir():
        raise FileNotFoundError(str(path))
    files = list_files(path)
    digests = cache.digests(files, under=path)
    entries = [(f.relative_to(path).as_posix(), digests[f][0], digests[f][1]) for f in files]
    return ContentDigest(f"{ALGORITHM}:{manifest_digest(entries)}", sum(e[1] for e in entries), len(entries))
