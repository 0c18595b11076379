"""Files that record what steps are made of are private to the worker's user.

The step cache (pre-images: argument and parameter values, file digests), the stat cache and
the embedded MLflow store are created 0600 in folders 0700, and tightened to that when found
looser, unless ``[ml_pipelines] state_file_mode`` says otherwise (``0640`` lets a group read
them: their folders then get ``0750``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from airflow_ml_provider.settings import state_file_mode


def file_mode() -> int:
    return int(state_file_mode(), 8) & 0o666


def folder_mode() -> int:
    """The file mode with search (x) wherever reading (r) is allowed."""
    mode = file_mode()
    return mode | ((mode & 0o444) >> 2)


def _tighten(path: Path, mode: int) -> None:
    """Give ``path`` ``mode`` if it is ours and allows more than that."""
    with contextlib.suppress(OSError):
        found = path.stat()
        if found.st_uid == os.geteuid() and stat.S_IMODE(found.st_mode) & ~mode:
            path.chmod(stat.S_IMODE(found.st_mode) & mode)


def private_folder(path: Path) -> Path:
    """``path`` (and missing parents' leaf) created or tightened to the folder mode."""
    path.mkdir(parents=True, exist_ok=True, mode=folder_mode())
    _tighten(path, folder_mode())
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty (a valid empty SQLite database) or tightened to the file mode."""
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, file_mode()))
    _tighten(path, file_mode())
    return path
