"""Content digests of files and folders (blake3), read in chunks, never whole in memory.

One value (:class:`ContentDigest`) and one way to digest a file or folder, local or on any
fsspec filesystem (:func:`path_digest`), with an optional state that remembers the digests
of unchanged local files (the stat cache); without one, every file is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import blake3

from airflow_ml_provider.runtime.walk import FileEntry, Ignore, walk_files

ALGORITHM = "blake3"
# A remote folder's digest over the store's own checksums (see caching.remote).
MANIFEST = "manifest"
_CHUNK = 1 << 20
# Remote bytes are read in larger chunks: each read may be a request.
REMOTE_CHUNK = 8 << 20
# Above this size blake3 maps the file and hashes it on several threads.
_MMAP_THRESHOLD = 16 << 20


@dataclass(frozen=True)
class ContentDigest:
    """What a file or folder holds: ``digest`` is its one string form, ``<algorithm>:<hex>``."""

    digest: str
    size: int
    files: int

    @classmethod
    def of_file(cls, hex_digest: str, size: int) -> ContentDigest:
        return cls(tagged(hex_digest), size, 1)


def tagged(hex_digest: str, algorithm: str = ALGORITHM) -> str:
    """The string form of a digest: ``blake3:<hex>``."""
    return f"{algorithm}:{hex_digest}"


def hasher() -> Any:
    """A fresh hasher of the digest algorithm, fed with ``update(bytes)``."""
    return blake3.blake3()


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex blake3 of one local file's bytes."""
    size = os.path.getsize(path)
    hashing = blake3.blake3(max_threads=blake3.blake3.AUTO if size >= _MMAP_THRESHOLD else 1)
    if size >= _MMAP_THRESHOLD:
        hashing.update_mmap(path)
    else:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                hashing.update(chunk)
    return str(hashing.hexdigest())


def stream_digest(handle: BinaryIO, chunk: int = REMOTE_CHUNK) -> str:
    """Hex blake3 of what an open file yields, read ``chunk`` bytes at a time."""
    hashing = hasher()
    while data := handle.read(chunk):
        hashing.update(data)
    return str(hashing.hexdigest())


def fs_file_digest(fs: Any, path: str) -> str:
    """Hex blake3 of one file on an fsspec filesystem, streamed."""
    with fs.open(path, "rb", block_size=REMOTE_CHUNK) as handle:
        return stream_digest(handle)


class Manifest:
    """A folder's digest, fed one (relative path, size, file digest) entry at a time in path order.

    Paths are part of the digest, so renaming a file changes it.
    """

    def __init__(self, algorithm: str = ALGORITHM) -> None:
        self._hasher = blake3.blake3()
        self._algorithm = algorithm
        self.size = 0
        self.files = 0

    def add(self, relative: str, size: int, digest: str) -> None:
        self._hasher.update(f"{relative}\0{size}\0{digest}\n".encode())
        self.size += size
        self.files += 1

    def digest(self) -> ContentDigest:
        return ContentDigest(tagged(self._hasher.hexdigest(), self._algorithm), self.size, self.files)


def manifest_of(entries: Iterable[tuple[str, int, str]], algorithm: str = ALGORITHM) -> ContentDigest:
    """The digest of a folder from its (relative path, size, file digest) entries, in any order."""
    manifest = Manifest(algorithm)
    for relative, size, digest in sorted(entries):
        manifest.add(relative, size, digest)
    return manifest.digest()


class DigestState(Protocol):
    """What remembers local file digests by stat, so unchanged files are not read again."""

    def digests(self, files: Iterable[Path]) -> dict[Path, tuple[int, str]]: ...

    def iter_digests_under(
        self, root: Path, scanned: Iterable[FileEntry[os.stat_result]]
    ) -> Iterator[tuple[str, int, str]]: ...


class NoState:
    """The state that remembers nothing: every file is read."""

    def digests(self, files: Iterable[Path]) -> dict[Path, tuple[int, str]]:
        return {file: (file.stat().st_size, file_digest(file)) for file in files}

    def iter_digests_under(
        self, root: Path, scanned: Iterable[FileEntry[os.stat_result]]
    ) -> Iterator[tuple[str, int, str]]:
        for entry in scanned:
            yield entry.relative, entry.size, file_digest(entry.path)


def path_digest(
    path: str | os.PathLike[str],
    fs: Any = None,
    state: DigestState | None = None,
    *,
    ignore: Ignore | None = None,
) -> ContentDigest:
    """Digest of a file, or of a folder through its manifest: local, or on ``fs`` (streamed).

    ``state`` (local only) gives the digests of unchanged files without reading them;
    ``ignore`` leaves files of a folder out. Raises FileNotFoundError for a missing path.
    """
    if fs is not None:
        if not fs.isdir(path):
            return ContentDigest.of_file(fs_file_digest(fs, str(path)), int(fs.size(path) or 0))
        manifest = Manifest()
        for entry in walk_files(path, fs, ignore=ignore):
            manifest.add(entry.relative, entry.size, fs_file_digest(fs, entry.path))
        return manifest.digest()
    state = state or NoState()
    root = Path(path)
    if root.is_file():
        size, digest = state.digests([root])[root]
        return ContentDigest.of_file(digest, size)
    if not root.is_dir():
        raise FileNotFoundError(str(root))
    manifest = Manifest()
    for relative, size, digest in state.iter_digests_under(root, walk_files(root, ignore=ignore)):
        manifest.add(relative, size, digest)
    return manifest.digest()
