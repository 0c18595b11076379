"""The run server's socket and the messages on it: JSON documents, each after its length.

The first message of a connection, from the caller, carries its stdin, stdout and stderr as
file descriptors (``SCM_RIGHTS``), so the child writes straight to the caller's terminal.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_LENGTH = struct.Struct("!I")
_MAX_MESSAGE = 16 << 20  # an environment is a few KiB; anything near this is not ours
# sun_path holds 108 bytes; a longer socket path is reached through its folder's descriptor.
_MAX_PATH = 100


class ConnectionClosedError(ConnectionError):
    """The other side closed the connection before a whole message arrived."""


@contextmanager
def address(path: Path) -> Iterator[str]:
    """A name for ``path`` that fits in a socket address, valid inside the ``with``."""
    if len(os.fsencode(path)) <= _MAX_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def connect(path: Path) -> socket.socket | None:
    """A connection to the server listening at ``path``, or None when none listens there."""
    try:
        found = path.stat()
    except OSError:
        return None
    if found.st_uid != os.geteuid():
        return None  # not ours: never hand our terminal and environment to it
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with address(path) as name:
            sock.connect(name)
    except OSError:
        sock.close()
        return None
    return sock


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    payload = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [_LENGTH.pack(len(payload))], fds)
        sock.sendall(payload)
    else:
        sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ConnectionClosedError(f"connection closed with {left} of {size} bytes to come")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _decode(sock: socket.socket, head: bytes) -> dict[str, Any]:
    head += _exactly(sock, _LENGTH.size - len(head)) if len(head) < _LENGTH.size else b""
    (size,) = _LENGTH.unpack(head)
    if size > _MAX_MESSAGE:
        raise ConnectionClosedError(f"a message of {size} bytes is not one of ours")
    message = json.loads(_exactly(sock, size))
    if not isinstance(message, dict):
        raise ConnectionClosedError("a message that is not a JSON object")
    return message


def receive(sock: socket.socket) -> dict[str, Any]:
    """The next message; ConnectionClosedError at the end of the connection."""
    head = sock.recv(_LENGTH.size)
    if not head:
        raise ConnectionClosedError("connection closed")
    return _decode(sock, head)


def receive_with_fds(sock: socket.socket, count: int) -> tuple[dict[str, Any], list[int]]:
    """The first message of a connection and the descriptors sent with it (new, ours to close)."""
    head, fds, _, _ = socket.recv_fds(sock, _LENGTH.size, count)
    try:
        if not head:
            raise ConnectionClosedError("connection closed")
        return _decode(sock, head), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
