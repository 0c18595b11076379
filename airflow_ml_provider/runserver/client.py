"""What ``airflow-ml run`` and ``airflow-ml status`` do first: hand the command to a warm server.

This module imports neither Airflow nor the command modules (``airflow_ml_provider.command_line``
falls back to those): a command answered by a server costs the caller only Python's start.
When no server can be used (``--no-server``, ``[ml_pipelines] run_server_idle_seconds = 0``,
no Unix sockets, a server that does not start), the command runs in the caller's own process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from airflow_ml_provider.runserver import wire
from airflow_ml_provider.runserver.key import idle_seconds, server_folder, server_key

SERVED_COMMANDS = frozenset({"run", "status"})
NO_SERVER_FLAG = "--no-server"
START_SECONDS = 180.0  # warming takes seconds; a machine under load can stretch that a lot
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_KILL_AFTER_INTERRUPTS = 3  # the third Ctrl-C stops the command at once
_LOG_BYTES = 1 << 20  # the servers' log is started afresh (one old one kept) past this


class ServerUnavailableError(RuntimeError):
    """No run server can take this command; the caller runs it itself."""


def wanted(argv: list[str], env: Mapping[str, str]) -> bool:
    return (
        bool(argv)
        and argv[0] in SERVED_COMMANDS
        and NO_SERVER_FLAG not in argv
        and idle_seconds(env) > 0
        and hasattr(socket, "send_fds")
        and hasattr(os, "fork")
    )


def socket_path(env: Mapping[str, str]) -> Path:
    return server_folder() / f"{server_key(env)}.sock"


def run_through_server(argv: list[str]) -> int | None:
    """The command's exit status, run by a warm server; None: run it in this process."""
    env = dict(os.environ)
    if not wanted(argv, env):
        return None
    path = socket_path(env)
    try:
        return _run(path, argv, env)
    except ServerUnavailableError as why:
        print(f"airflow-ml: running in this process: {why}", file=sys.stderr, flush=True)
        return None


def _run(path: Path, argv: list[str], env: dict[str, str]) -> int:
    request = {"key": path.stem, "argv": argv, "env": env, "cwd": os.getcwd(), "umask": _umask()}
    for attempt in range(2):  # a server that refuses (its code changed) exits: start a new one
        conn = wire.connect(path) or _start(path, env)
        try:
            wire.send(conn, request, fds=[0, 1, 2])
            answer = wire.receive(conn)
        except OSError as error:
            conn.close()
            raise ServerUnavailableError(f"the run server did not take the command ({error})") from None
        if "refused" not in answer and isinstance(answer.get("pid"), int):
            return _follow(conn)
        conn.close()
        if attempt == 0:
            _wait_gone(path)
    raise ServerUnavailableError(f"the run server refused the command ({answer.get('refused')})")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _wait_gone(path: Path, seconds: float = 10.0) -> None:
    """A refusing server removes its socket at once; wait for that before starting another."""
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _start(path: Path, env: dict[str, str]) -> socket.socket:
    """Start a server for this key (one at a time per key) and connect to it once it listens."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        lock = open(path.with_suffix(".lock"), "a")  # noqa: SIM115  (held until the server listens)
    except OSError as error:
        raise ServerUnavailableError(f"cannot use {folder} ({error})") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = wire.connect(path)  # another caller may have started it meanwhile
        if conn is not None:
            return conn
        log = folder / "server.log"
        with contextlib.suppress(OSError):
            if log.stat().st_size > _LOG_BYTES:
                os.replace(log, log.with_suffix(".log.1"))
        with open(log, "ab") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "airflow_ml_provider.cli.run_server", str(path), path.stem],
                cwd=folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,  # not in the terminal's process group: Ctrl-C is forwarded
            )
        print(
            f"airflow-ml: starting a run server for this AIRFLOW_HOME (pid {server.pid}, log {log}); "
            f"{NO_SERVER_FLAG} runs a command in its own process",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            conn = wire.connect(path)
            if conn is not None:
                return conn
            if server.poll() is not None:
                raise ServerUnavailableError(
                    f"the run server exited with status {server.returncode} while starting; see {log}"
                )
            time.sleep(0.05)
    raise ServerUnavailableError(f"the run server did not start in {START_SECONDS:.0f} s; see {log}")


def _follow(conn: socket.socket) -> int:
    """Forward this process's signals to the command until its exit status arrives."""
    interrupts = 0

    def forward(number: int, _: FrameType | None) -> None:
        nonlocal interrupts
        if number == signal.SIGINT:
            interrupts += 1
            if interrupts >= _KILL_AFTER_INTERRUPTS:
                number = signal.SIGKILL
        with contextlib.suppress(OSError):
            wire.send(conn, {"signal": int(number)})

    previous = {number: signal.signal(number, forward) for number in _FORWARDED}
    try:
        while True:
            try:
                message: dict[str, Any] = wire.receive(conn)
            except wire.ConnectionClosedError:
                print("airflow-ml: the run server stopped before the command ended", file=sys.stderr)
                return 1
            if "exit" in message:
                return int(message["exit"])
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        conn.close()


def server_request(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Send ``message`` (``stop`` or ``status``) to every run server of this AIRFLOW_HOME."""
    answers = []
    for path in sorted(server_folder().glob("*.sock")):
        conn = wire.connect(path)
        if conn is None:
            continue
        try:
            wire.send(conn, message)
            answers.append({"socket": str(path), **wire.receive(conn)})
        except OSError:
            pass
        finally:
            conn.close()
    return answers
