"""Content digests are the keys of users' step caches: they must never change.

Every expected value below is a digest computed by the provider as it is today, on fixed bytes.
They must not change: a different value means every step cache entry keyed by the old one
is silently missed (or, worse, two contents share a key). Change the hashing code, never these.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from servers import free_port

from airflow_ml_provider.caching.content import code_digests, local_content_digest
from airflow_ml_provider.caching.remote import remote_content_digest
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.verify import output_problem, reference_digest
from airflow_ml_provider.copying import Endpoint, transfer
from airflow_ml_provider.modules.publish import folder_digest
from airflow_ml_provider.runtime.digest import ContentDigest, path_digest
from airflow_ml_provider.triggers.manifest import local_manifest, remote_manifest

# Fixed bytes: a file, a folder with nested files and an empty subfolder.
FILE = b"alpha,beta\n1,2\n"
FOLDER = {"a.csv": b"x,y\n1,2\n", "sub/b.txt": b"hello", "sub/deeper/c.bin": bytes(range(256)) * 5}
# A step's source folder: what .amlignore / .gitignore and the bytecode rules leave out is not code.
SOURCE = {
    "train.py": b"print('train')\n",
    "lib/helpers.py": b"def helper():\n    return 1\n",
    "notes.log": b"noise",
    "data/big.csv": b"1,2,3\n",
    "__pycache__/train.cpython-312.pyc": b"\0\1",
    "lib/__pycache__/helpers.cpython-312.pyc": b"\0\2",
    ".amlignore": b"*.log\ndata/\n",
    ".gitignore": b"*.py\n",  # not read: .amlignore wins
}

# Today's digests. They must not change (see the module docstring).
FILE_DIGEST = ContentDigest("blake3:516e0d9e562d130c7ff1f2e2be35ad0820dbc83fbd87e7ee99839a061afcf0e9", 15, 1)
FOLDER_DIGEST = ContentDigest(
    "blake3:86bb92ac14b0f2ce8bd705d918c0b9848edd0be56b69619856520ec20d4b6fe1", 1293, 3
)
CODE_DIGESTS = {
    ".amlignore": "a9ea25a4e9df0efbff9a091c0d1a313f9a02ce0dd82c35ca3a6a945f1653e454",
    ".gitignore": "14153281fa0551ffa7b65788c61d582e8aea30750e65508459278d59513598ae",
    "lib/helpers.py": "dc5eac1130d698e696a5f8294f395f654c78f288996c2ba242ed51dad5934528",
    "train.py": "5fbb34f0718767ca443a8325e79621297586736fc5ab449d3ec589995af8303d",
}
MODULE_DIGEST = "blake3:1d83406a5d84a509090d129b82db0494418d727effa671d600740646dc9e3bee"
GITIGNORE_CODE_DIGESTS = {
    ".gitignore": "14153281fa0551ffa7b65788c61d582e8aea30750e65508459278d59513598ae",
    "data/big.csv": "8ebd15e1b413963410d68a325723e4bc165afcd389a860e601b5aee8731e570e",
    "notes.log": "7c8b079043b6565908f11ea309215e046e7adf6bfcca633d2a55fcb5b9d8c4a3",
}
REMOTE_FILE_DIGEST = ContentDigest(
    "blake3:516e0d9e562d130c7ff1f2e2be35ad0820dbc83fbd87e7ee99839a061afcf0e9", 15, 1
)
REMOTE_FOLDER_DIGEST = ContentDigest(
    "manifest:6fc61f1f389781e7c1b6f92fb13ee67203248fbf5f10dacee12d303dbfd46e9f", 1293, 3
)
REMOTE_MANIFEST = {
    "a.csv": "blake3:a69a9cf853b37cdfb3f535926f50730c30c09f5df3e0ec71d6f8eb7f010dcf8f",
    "sub/b.txt": "blake3:ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f",
    "sub/deeper/c.bin": "blake3:7586fa21246e8e17b384b8fe78948d916880e5ce4a80d030f45504952a69e050",
}
S3_FILE_DIGEST = ContentDigest("s3:crc32:1WvliA==:15", 15, 1)
S3_FOLDER_DIGEST = ContentDigest(
    "manifest:ec5d09ec7a78db01daf7dcaf5f848cded5e8b4bcdea07ecc783e6c3def4f2f95", 1293, 3
)
S3_MANIFEST = {
    "a.csv": "s3:crc32:AHLfIw==:8",
    "sub/b.txt": "s3:crc32:NhCmhg==:5",
    "sub/deeper/c.bin": "s3:crc32:HnptJA==:1280",
}
FILE_INTO_FOLDER_DIGEST = "blake3:f17596d1b755284162ec9338ccb189dac87a7ca966e0dc338552eb2bf667db68"


def write(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return root


@pytest.fixture
def local(tmp_path: Path) -> tuple[Path, Path]:
    file = tmp_path / "data.csv"
    file.write_bytes(FILE)
    folder = write(tmp_path / "folder", FOLDER)
    (folder / "empty").mkdir()
    return file, folder


@pytest.fixture
def stat_cache(tmp_path: Path) -> Iterator[StatCache]:
    cache = StatCache(tmp_path / "stat.db")
    yield cache
    cache.close()


def test_local_file_and_folder_digests_are_todays(local, stat_cache, tmp_path):
    file, folder = local
    assert path_digest(file) == FILE_DIGEST
    assert path_digest(folder) == FOLDER_DIGEST
    for _ in ("cold", "warm"):
        assert local_content_digest(file, stat_cache) == FILE_DIGEST
        assert local_content_digest(folder, stat_cache) == FOLDER_DIGEST
    assert reference_digest(file.as_uri(), {}, datastore="local", cache=stat_cache) == FILE_DIGEST.digest
    assert local_manifest(folder, stat_cache) == {
        "a.csv": "blake3:a69a9cf853b37cdfb3f535926f50730c30c09f5df3e0ec71d6f8eb7f010dcf8f",
        "sub/b.txt": "blake3:ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f",
        "sub/deeper/c.bin": "blake3:7586fa21246e8e17b384b8fe78948d916880e5ce4a80d030f45504952a69e050",
    }
    assert local_manifest(file, stat_cache) == {"": FILE_DIGEST.digest}


def test_code_digests_of_a_source_folder_are_todays(tmp_path, stat_cache):
    source = write(tmp_path / "source", SOURCE)
    (source / "empty").mkdir()
    for _ in ("cold", "warm"):
        assert code_digests(source, stat_cache) == CODE_DIGESTS
    assert folder_digest(source) == MODULE_DIGEST

    (source / ".amlignore").unlink()
    assert code_digests(source, stat_cache) == GITIGNORE_CODE_DIGESTS


def test_remote_digests_through_an_fsspec_filesystem_are_todays(local):
    file, folder = local
    memory = fsspec.filesystem("memory")
    root = "/digest-stability"
    memory.put(str(file), f"{root}/data.csv")
    memory.put(str(folder), f"{root}/folder", recursive=True)
    try:
        assert remote_content_digest(f"memory://{root}/data.csv", {}) == REMOTE_FILE_DIGEST
        assert remote_content_digest(f"memory://{root}/folder", {}) == REMOTE_FOLDER_DIGEST
        assert remote_manifest(f"memory://{root}/folder", {}, datastore="memory") == REMOTE_MANIFEST
        # The full check streams the bytes: the same digest as a local copy's.
        assert path_digest(f"{root}/data.csv", memory) == FILE_DIGEST
        assert path_digest(f"{root}/folder", memory) == FOLDER_DIGEST
        reference = {"uri": f"memory://{root}/folder", **_recorded(FOLDER_DIGEST)}
        assert output_problem("out", reference, full=True, cache=None, storage_options=dict) is None  # type: ignore[arg-type]
    finally:
        memory.rm(root, recursive=True)


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, Any]]:
    """A real S3 HTTP endpoint on loopback (moto's server), with one bucket."""
    import boto3

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    ).create_bucket(Bucket="digests")
    yield {"key": "x", "secret": "x", "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    server.terminate()
    server.wait(timeout=20)


def test_remote_digests_on_s3_are_todays(local, s3):
    file, folder = local
    s3fs = fsspec.filesystem("s3", **s3)
    s3fs.put(str(file), "digests/data.csv")
    s3fs.put(str(folder), "digests/folder", recursive=True)
    assert remote_content_digest("s3://digests/data.csv", s3) == S3_FILE_DIGEST
    assert remote_content_digest("s3://digests/folder", s3) == S3_FOLDER_DIGEST
    assert remote_manifest("s3://digests/folder", s3, datastore="s3") == S3_MANIFEST
    assert path_digest("digests/folder", s3fs) == FOLDER_DIGEST

    copied = transfer(
        Endpoint(folder.as_uri()),
        Endpoint("s3://digests/copied", s3),
        source_is_directory=True,
        destination_is_directory=None,
        log=lambda _: None,
    )
    assert (copied.digest, copied.size, copied.files) == tuple(_recorded(FOLDER_DIGEST).values())
    assert remote_content_digest("s3://digests/copied", s3) == S3_FOLDER_DIGEST


def test_a_copy_records_todays_digests(local, tmp_path):
    file, folder = local

    def copy(
        source: Path | str, destination: Path, *, into_folder: bool | None = None
    ) -> tuple[str, int, int]:
        uri = source.as_uri() if isinstance(source, Path) else source
        result = transfer(
            Endpoint(uri),
            Endpoint(destination.as_uri()),
            source_is_directory=None,
            destination_is_directory=into_folder,
            log=lambda _: None,
        )
        return result.digest, result.size, result.files

    assert copy(file, tmp_path / "copies" / "file.csv") == tuple(_recorded(FILE_DIGEST).values())
    assert copy(folder, tmp_path / "copies" / "folder") == tuple(_recorded(FOLDER_DIGEST).values())
    # A file copied into a folder: a folder of one file.
    assert copy(file, tmp_path / "copies" / "into", into_folder=True) == (FILE_INTO_FOLDER_DIGEST, 15, 1)
    assert path_digest(tmp_path / "copies" / "into").digest == FILE_INTO_FOLDER_DIGEST

    memory = fsspec.filesystem("memory")
    memory.put(str(folder), "/digest-copy/folder", recursive=True)
    try:
        from_memory = copy("memory:///digest-copy/folder", tmp_path / "copies" / "from-memory")
        assert from_memory == tuple(_recorded(FOLDER_DIGEST).values())
    finally:
        memory.rm("/digest-copy", recursive=True)


def _recorded(content: ContentDigest) -> dict[str, Any]:
    return {"digest": content.digest, "size": content.size, "files": content.files}
