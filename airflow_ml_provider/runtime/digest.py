"""Content digests of files and folders (blake3), read in chunks, never whole in memory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import blake3

ALGORITHM = "blake3"
_CHUNK = 1 << 20
# Above this size blake3 maps the file and hashes it on several threads.
_MMAP_THRESHOLD = 16 << 20


@dataclass(frozen=True)
class ContentDigest:
    digest: str
    size: int
    files: int


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex blake3 of one file's bytes."""
    size = os.path.getsize(path)
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO if size >= _MMAP_THRESHOLD else 1)
    if size >= _MMAP_THRESHOLD:
        hasher.update_mmap(path)
    else:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                hasher.update(chunk)
    return hasher.hexdigest()


class Manifest:
    """A folder's digest, fed one (relative path, size, file digest) entry at a time in path order.

    The same digest as ``manifest_digest`` of the same entries, without holding them.
    """

    def __init__(self) -> None:
        self._hasher = blake3.blake3()
        self.size = 0
        self.files = 0

    def add(self, relative: str, size: int, digest: str) -> None:
        self._hasher.update(f"{relative}\0{size}\0{digest}\n".encode())
        self.size += size
        self.files += 1

    def digest(self) -> ContentDigest:
        return ContentDigest(f"{ALGORITHM}:{self._hasher.hexdigest()}", self.size, self.files)


def manifest_digest(entries: list[tuple[str, int, str]]) -> str:
    """Digest of a folder from its (relative path, size, file digest) entries.

    Paths are part of the digest, so renaming a file changes it; order does not.
    """
    manifest = Manifest()
    for relative, size, digest in sorted(entries):
        manifest.add(relative, size, digest)
    return manifest.digest().digest.removeprefix(f"{ALGORITHM}:")


def local_files(root: Path) -> list[Path]:
    """Every regular file under ``root``, sorted, following no symlinked folders."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def path_digest(path: str | os.PathLike[str]) -> ContentDigest:
    """Digest of a local file, or of a folder through its manifest."""
    root = Path(path)
    if root.is_file():
        return ContentDigest(f"{ALGORITHM}:{file_digest(root)}", root.stat().st_size, 1)
    entries = []
    for file in local_files(root):
        size = file.stat().st_size
        entries.append((file.relative_to(root).as_posix(), size, file_digest(file)))
    return ContentDigest(
        f"{ALGORITHM}:{manifest_digest(entries)}",
        sum(size for _, size, _ in entries),
        len(entries),
    )
