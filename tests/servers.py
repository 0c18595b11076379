"""Real servers on loopback for the tests (``mlflow server``), started and stopped by them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A server with its SQLite store and artifacts in ``folder``; returns (its URI, the process)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server",
            "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
            "--artifacts-destination", str(folder / "artifacts"),
            "--workers", "1",
        ],
        stdout=(folder / "server.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return f"http://127.0.0.1:{port}", server
        except OSError:
            time.sleep(0.5)
    stop(server)  # its workers too
    raise AssertionError((folder / "server.log").read_text()[-3000:])


def stop(server: subprocess.Popen[bytes]) -> None:
    """The server and its worker processes (they share its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()
