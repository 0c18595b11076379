"""Digests of data on remote datastores, without downloading it when the store can tell.

Per object, in order of preference:

1. a full-object checksum the store keeps (S3 ``ChecksumSHA256``, ``ChecksumCRC64NVME``,
   ``ChecksumCRC32C``, ``ChecksumCRC32``; GCS ``crc32c`` / ``md5Hash``): rewriting the
   same bytes gives the same digest;
2. an S3 ETag when it is a single-part MD5 (32 hex digits, no ``-N`` suffix); multipart
   ETags and composite checksums (``...-N``) are not content digests and are skipped;
3. the object's version id (a rewrite with the same bytes then counts as a change);
4. else the content, streamed through blake3 in chunks (``blake3:<hex>``, as local files).

The digest is ``<protocol>:<algorithm>:<value>:<size>`` (the size guards the short CRCs).
A folder's digest is a manifest over every object's relative key, size and digest:
``manifest:<blake3 hex>``. These digests are for fingerprints only: they differ from the
blake3 digests of local copies of the same bytes, and are stable for unchanged data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from airflow_ml_provider.runtime.digest import MANIFEST, ContentDigest, Manifest, fs_file_digest, tagged
from airflow_ml_provider.runtime.stores import check_exists, with_retries
from airflow_ml_provider.runtime.walk import walk_files

_S3_CHECKSUMS = (
    ("ChecksumSHA256", "sha256"),
    ("ChecksumCRC64NVME", "crc64nvme"),
    ("ChecksumCRC32C", "crc32c"),
    ("ChecksumCRC32", "crc32"),
)
_MD5_ETAG = re.compile(r"^[0-9a-fA-F]{32}$")

Log = Callable[[str], None]


def _s3_head(fs: Any, path: str) -> dict[str, Any]:
    bucket, key, version = fs.split_path(path)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version:
        kwargs["VersionId"] = version
    return dict(fs.call_s3("head_object", **kwargs))


def _stored_digest(protocol: str, fs: Any, path: str, info: dict[str, Any]) -> str | None:
    """A content digest the store keeps for this object, or None."""
    size = int(info.get("size") or info.get("ContentLength") or 0)
    if protocol in ("s3", "s3a"):
        head = _s3_head(fs, path)
        checksum_type = str(head.get("ChecksumType") or "FULL_OBJECT")
        for field, algorithm in _S3_CHECKSUMS:
            value = head.get(field)
            if value and "-" not in str(value) and checksum_type == "FULL_OBJECT":
                return f"s3:{algorithm}:{value}:{size}"
        etag = str(head.get("ETag") or info.get("ETag") or "").strip('"')
        encrypted = head.get("ServerSideEncryption") == "aws:kms" or head.get("SSECustomerAlgorithm")
        if _MD5_ETAG.match(etag) and not encrypted:
            return f"s3:md5:{etag.lower()}:{size}"
        if head.get("VersionId") and head.get("VersionId") != "null":
            return f"s3:version:{head['VersionId']}:{size}"
        return None
    if protocol in ("gs", "gcs"):
        for field, algorithm in (("crc32c", "crc32c"), ("md5Hash", "md5")):
            if info.get(field):
                return f"gs:{algorithm}:{info[field]}:{size}"
        return None
    return None


def object_digest(protocol: str, fs: Any, path: str, info: dict[str, Any]) -> str:
    return _stored_digest(protocol, fs, path, info) or tagged(fs_file_digest(fs, path))


def remote_content_digest(uri: str, storage_options: dict[str, Any], *, datastore: str = "") -> ContentDigest:
    """The fingerprint digest of a remote file or folder (see the module docstring).

    Raises :class:`~airflow_ml_provider.runtime.stores.StoreError` (after retries for
    transient failures) naming the datastore, the URI and the cause.
    """
    from fsspec.core import url_to_fs

    protocol = uri.split("://", 1)[0]

    def compute() -> ContentDigest:
        fs, path = url_to_fs(uri, **storage_options)
        fs.invalidate_cache()
        check_exists(fs, path)
        if not fs.isdir(path):
            info = fs.info(path)
            return ContentDigest(object_digest(protocol, fs, path, info), int(info.get("size") or 0), 1)
        manifest = Manifest(MANIFEST)
        for entry in walk_files(path, fs):
            manifest.add(entry.relative, entry.size, object_digest(protocol, fs, entry.path, entry.detail))
        return manifest.digest()

    return with_retries(compute, datastore=datastore, uri=uri, action="read")
