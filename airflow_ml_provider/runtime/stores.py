"""Talking to datastores that are not the local disk: errors in words, retries with backoff.

No Airflow here. Every error names the datastore, the path and the cause; transient
failures (connection refused or reset, timeouts, throttling, 5xx) are retried with
exponential backoff first, permanent ones (no such bucket or key, access denied) are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

ATTEMPTS = 4
FIRST_DELAY_SECONDS = 0.5

_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
}
_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthFailure",
}


class StoreError(RuntimeError):
    """A datastore operation that failed for good: names the datastore, the path and the cause."""

    def __init__(self, datastore: str, uri: str, action: str, cause: str) -> None:
        self.datastore, self.uri, self.action, self.cause = datastore, uri, action, cause
        label = f'datastore "{datastore}"' if datastore else "datastore"
        super().__init__(f"{label}: cannot {action} {uri}: {cause}")


def _error_code(error: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            code = str(response.get("Error", {}).get("Code", ""))
            if code:
                return code
        current = current.__cause__ or current.__context__
    return ""


def _chain(error: BaseException) -> list[BaseException]:
    found, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _is_unreachable(error: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(error)}
    return bool(
        names
        & {
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ClientConnectorError",
            "ConnectionRefusedError",
            "ServerDisconnectedError",
            "ClientOSError",
        }
    )


def describe(error: BaseException) -> str:
    """The cause of a failed store operation, in words (never credentials)."""
    code = _error_code(error)
    text = str(error).strip() or type(error).__name__
    if code in _CREDENTIAL_CODES:
        return f"the credentials were refused ({code}): check the key and secret of the connection"
    if code in ("AccessDenied", "403", "AllAccessDisabled"):
        return f"access denied ({code}): the credentials lack permission, or are wrong"
    if code in ("NoSuchBucket",) or "bucket does not exist" in text.lower():
        return "the bucket does not exist (NoSuchBucket)"
    if isinstance(error, MissingError):
        return str(error)
    if code in ("NoSuchKey", "404") or isinstance(error, FileNotFoundError):
        return "no such file or object (it does not exist)"
    if isinstance(error, PermissionError):
        return f"access denied: {text}"
    if _is_unreachable(error):
        return f"the endpoint is unreachable ({text})"
    return f"{type(error).__name__}: {text}"


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the network or the service, not the request."""
    if isinstance(error, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False
    code = _error_code(error)
    if code:
        return code in _TRANSIENT_CODES
    if _is_unreachable(error):
        return True
    return isinstance(error, ConnectionError | TimeoutError | OSError) or any(
        type(e).__name__ in {"IncompleteRead", "ReadTimeoutError", "ClientPayloadError", "FSTimeoutError"}
        for e in _chain(error)
    )


def with_retries(
    operation: Callable[[], T],
    *,
    datastore: str,
    uri: str,
    action: str,
    log: Callable[[str], None] | None = None,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY_SECONDS,
    cleanup: Callable[[], Any] | None = None,
) -> T:
    """Run ``operation``; retry transient failures with backoff; raise :class:`StoreError`.

    ``cleanup`` runs after every failed attempt (for example: delete a half-written object).
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except StoreError:
            raise
        except Exception as error:
            if cleanup is not None:
                try:
                    cleanup()
                except Exception as cleanup_error:  # the original error matters more
                    if log:
                        log(f"cleanup after a failed {action} of {uri} failed too: {cleanup_error}")
            if not is_transient(error) or attempt == attempts:
                cause = describe(error)
                if attempt > 1:
                    cause += f" (after {attempt} attempts)"
                raise StoreError(datastore, uri, action, cause) from error
            if log:
                log(
                    f"{action} {uri}: {describe(error)}; attempt {attempt} of {attempts} failed, "
                    f"retrying in {delay:.1f} s"
                )
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class MissingError(FileNotFoundError):
    """Nothing at a path, with what exactly is missing in words."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "it does not exist"


def check_exists(fs: Any, path: str) -> None:
    """Raise :class:`MissingError` saying whether the bucket or the key is missing.

    On S3 a missing bucket and a missing key look alike to ``exists``; a ``head_bucket``
    tells them apart, and surfaces refused credentials that ``exists`` would hide.
    """
    fs.invalidate_cache(path)
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    if "s3" in protocols:
        bucket = path.split("/", 1)[0]
        try:
            fs.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError:
            raise MissingError(f'the bucket "{bucket}" does not exist (NoSuchBucket)') from None
        except Exception as error:
            if _error_code(error) in ("404", "NoSuchBucket"):
                raise MissingError(f'the bucket "{bucket}" does not exist (NoSuchBucket)') from None
            raise
    if not fs.exists(path):
        raise MissingError("no such file, folder or object (NoSuchKey)")
