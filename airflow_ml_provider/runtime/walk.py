"""The one file walker: every file under a local folder or an fsspec path, in full-path order.

Both kinds of folder are listed in the order of their files' full relative paths (what
``sorted`` of those paths gives), so a manifest can be fed as the files come.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, overload

Detail = TypeVar("Detail")


class FileEntry(NamedTuple, Generic[Detail]):
    """One file: its posix path inside the walked folder, its full path, its size, and its
    ``os.stat_result`` (local folder) or fsspec info dict (filesystem)."""

    relative: str
    path: str
    size: int
    detail: Detail


class Ignore(Protocol):
    """What leaves files and folders out (a ``pathspec.PathSpec``): folders are asked with a "/"."""

    def match_file(self, file: str) -> bool: ...


class FolderLinkError(Exception):
    """A symlinked folder that may not be followed: it leads outside ``within``, or into a loop."""

    def __init__(self, relative: str, target: Path, *, loop: bool) -> None:
        super().__init__(f"the folder link {relative} leads to {target}" + (" (a loop)" if loop else ""))
        self.relative, self.target, self.loop = relative, target, loop


@overload
def walk_files(
    root: str | os.PathLike[str],
    fs: None = None,
    *,
    ignore: Ignore | None = None,
    follow_links: bool = False,
    within: tuple[Path, ...] = (),
) -> Iterator[FileEntry[os.stat_result]]: ...


@overload
def walk_files(
    root: str | os.PathLike[str],
    fs: Any,
    *,
    ignore: Ignore | None = None,
    follow_links: bool = False,
    within: tuple[Path, ...] = (),
) -> Iterator[FileEntry[dict[str, Any]]]: ...


def walk_files(
    root: str | os.PathLike[str],
    fs: Any = None,
    *,
    ignore: Ignore | None = None,
    follow_links: bool = False,
    within: tuple[Path, ...] = (),
) -> Iterator[FileEntry[Any]]:
    """Every regular file under the folder ``root`` (on ``fs``, or local when it is None).

    ``ignore`` drops ignored files and folders. Locally, one ``stat`` per file
    (``os.scandir``) and one folder's entries in memory at a time; symlinked folders are
    followed only with ``follow_links`` (then only into ``within`` when it is given, and
    never into a folder they are already inside: :class:`FolderLinkError`).
    """
    if fs is not None:
        return _fs_files(fs, str(root), ignore)
    start = os.stat(root) if follow_links else None
    above = frozenset({(start.st_dev, start.st_ino)}) if start is not None else frozenset()
    return _local_files(str(root), "", ignore, follow_links, within, above)


def _fs_files(fs: Any, path: str, ignore: Ignore | None) -> Iterator[FileEntry[dict[str, Any]]]:
    root = path.rstrip("/") + "/"
    for key, info in sorted(fs.find(path, detail=True).items()):
        if info.get("type") == "directory":
            continue
        relative = key[len(root) :]
        if ignore is None or not ignore.match_file(relative):
            yield FileEntry(relative, key, int(info.get("size") or 0), info)


def _local_files(
    folder: str,
    relative_folder: str,
    ignore: Ignore | None,
    follow_links: bool,
    within: tuple[Path, ...],
    above: frozenset[tuple[int, int]],
) -> Iterator[FileEntry[os.stat_result]]:
    """``above``: (device, inode) of the followed folders this one is inside (for loops).

    A folder sorts as its name plus "/", so the order is that of the full relative paths.
    """
    found: list[tuple[str, str, os.stat_result | None, frozenset[tuple[int, int]]]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            relative = relative_folder + entry.name
            if entry.is_dir(follow_symlinks=False):
                if ignore is None or not ignore.match_file(relative + "/"):
                    found.append((relative + "/", entry.path, None, above))
            elif follow_links and entry.is_symlink() and entry.is_dir():
                if ignore is None or not ignore.match_file(relative + "/"):
                    found.append(
                        (relative + "/", entry.path, None, _followed(relative, entry, above, within))
                    )
            elif entry.is_file() and (ignore is None or not ignore.match_file(relative)):
                found.append((relative, entry.path, entry.stat(), above))
    found.sort(key=lambda item: item[0])
    for relative, path, stat, inside in found:
        if stat is None:
            yield from _local_files(path, relative, ignore, follow_links, within, inside)
        else:
            yield FileEntry(relative, path, stat.st_size, stat)


def _followed(
    relative: str, entry: os.DirEntry[str], above: frozenset[tuple[int, int]], within: tuple[Path, ...]
) -> frozenset[tuple[int, int]]:
    target = Path(os.path.realpath(entry.path))
    if within and not any(target.is_relative_to(bound) for bound in within):
        raise FolderLinkError(relative, target, loop=False)
    stat = entry.stat()
    if (stat.st_dev, stat.st_ino) in above:
        raise FolderLinkError(relative, target, loop=True)
    return above | {(stat.st_dev, stat.st_ino)}
