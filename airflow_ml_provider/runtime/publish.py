"""Publishing a finished output at its place without ever replacing what is already there.

A published output may be referenced by the step cache and by other runs' XCom, so it is
never deleted or overwritten by a later publication: if its place is taken (a run id reused
after its run was deleted, an attempt started twice), the new output goes beside it under a
fresh name and its reference says so.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

Log = Callable[[str], None]


def fresh_name(name: str) -> str:
    return f"{name}~{uuid.uuid4().hex[:12]}"


def _move_without_replacing(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; FileExistsError if ``target`` exists (files and folders)."""
    if source.is_dir() and not source.is_symlink():
        os.mkdir(target)  # takes the name, atomically; the rename then replaces only this empty folder
        try:
            os.rename(source, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(target)
            raise
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this filesystem: check, then rename
        if os.path.lexists(target):
            raise FileExistsError(str(target)) from None
        os.rename(source, target)
        return
    os.unlink(source)


def publish_local(source: Path, final: Path, *, what: str, log: Log) -> Path:
    """Move ``source`` to ``final`` (or beside it under a fresh name if taken); return where."""
    final.parent.mkdir(parents=True, exist_ok=True)
    target = final
    while True:
        try:
            _move_without_replacing(source, target)
        except FileExistsError:
            target = final.with_name(fresh_name(final.name))
            continue
        if target != final:
            log(
                f"{what}: {final} already exists and is kept (an earlier output may be in use); "
                f"published at {target} instead"
            )
        return target


def free_remote_path(fs: Any, path: str, *, what: str, log: Log) -> str:
    """``path`` if nothing is stored there, else a fresh name beside it (object stores cannot rename)."""
    path = path.rstrip("/")
    if not fs.exists(path):
        return path
    parent, _, name = path.rpartition("/")
    fresh = f"{parent}/{fresh_name(name)}"
    log(f"{what}: {path} already exists and is kept (an earlier output may be in use); publishing at {fresh}")
    return fresh


def renamed_uri(uri: str, old: str, new: str) -> str:
    """``uri`` whose last component ``old`` became ``new``."""
    trimmed = uri.rstrip("/")
    if old == new or not trimmed.endswith(old):
        return uri
    return trimmed[: len(trimmed) - len(old)] + new
