"""The run server: warm once, then fork a child per ``airflow-ml run`` or ``status``.

Started by the first caller as ``python -m airflow_ml_provider.cli.run_server <socket> <key>``
in a session of its own. One thread, no event loop: a selector over the listening socket,
the callers of running children (a caller's signal is forwarded to its child's process
group; a caller that goes away stops its child) and a wake-up pipe for SIGCHLD. It exits
after ``[ml_pipelines] run_server_idle_seconds`` without a command, on SIGTERM or on
``airflow-ml server stop`` (after its running children end), or when a source file it
loaded changed (the caller then starts a new one).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import selectors
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from airflow_ml_provider.cli import warm
from airflow_ml_provider.runserver import wire
from airflow_ml_provider.runserver.key import DEFAULT_IDLE_SECONDS, IDLE_OPTION, SECTION

log = logging.getLogger(__name__)
_STDIO = 3  # stdin, stdout, stderr of the caller
_REQUEST_SECONDS = 10.0  # a caller sends its request at once; never let one hold the loop


@dataclass
class _Child:
    conn: socket.socket
    command: str
    started: float = field(default_factory=time.monotonic)


def say(message: str) -> None:
    """One line in the servers' log (this process's stderr)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    print(f"{stamp} run server {os.getpid()}: {message}", file=sys.stderr, flush=True)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says


def _command(argv: list[str]) -> str:
    """What the log says a request was: the command and the pipeline, never parameter values."""
    return " ".join(argv[:2])


class RunServer:
    def __init__(self, path: Path, key: str, idle_seconds: float) -> None:
        self.path, self.key, self.idle_seconds = path, key, idle_seconds
        self.children: dict[int, _Child] = {}
        self.sources = warm.loaded_sources()
        self.stopping = False
        self.served = 0
        self.started = time.time()
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = socket.socketpair()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.bound: tuple[int, int] | None = None

    def listen(self) -> None:
        """Bind under a temporary name, then move it into place: a caller connects only when ready."""
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        previous = os.umask(0o177)  # the socket is 0600: it takes terminals and environments
        try:
            with wire.address(temporary) as name:
                self.listener.bind(name)
        finally:
            os.umask(previous)
        self.listener.listen(16)
        os.replace(temporary, self.path)
        found = self.path.stat()
        self.bound = (found.st_dev, found.st_ino)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.wake_read.setblocking(False)
        self.wake_write.setblocking(False)
        self.selector.register(self.wake_read, selectors.EVENT_READ, "wake")
        signal.set_wakeup_fd(self.wake_write.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the selector through the pipe
        signal.signal(signal.SIGTERM, self._stop_on_signal)

    def _stop_on_signal(self, *_: Any) -> None:
        self.stop("SIGTERM")

    def stop(self, why: str) -> None:
        """Take no more commands; exit once the running ones end."""
        if not self.stopping:
            say(f"stopping ({why}); {len(self.children)} command(s) running")
        self.stopping = True
        self._unlink()

    def _unlink(self) -> None:
        """Remove the socket if it is still ours (a newer server may have taken the name)."""
        try:
            found = self.path.stat()
            if self.bound == (found.st_dev, found.st_ino):
                self.path.unlink()
        except OSError:
            pass
        self.bound = None

    def serve(self) -> None:
        idle_since = time.monotonic()
        while not (self.stopping and not self.children):
            timeout = None
            if not self.children and not self.stopping:
                timeout = idle_since + self.idle_seconds - time.monotonic()
                if timeout <= 0:
                    self.stop(f"idle for {self.idle_seconds:.0f} s")
                    continue
            for selected, _ in self.selector.select(timeout):
                if selected.data == "accept":
                    self._accept()
                elif selected.data == "wake":
                    self._drain_wake()
                else:
                    self._from_caller(selected.data)
            self._reap()
            if self.children:
                idle_since = time.monotonic()
        self._unlink()
        say(f"exit after {self.served} command(s)")

    def _drain_wake(self) -> None:
        try:
            while self.wake_read.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(True)
        conn.settimeout(_REQUEST_SECONDS)
        try:
            request, fds = wire.receive_with_fds(conn, _STDIO)
        except (OSError, ValueError) as error:
            say(f"dropped a request ({type(error).__name__}: {error})")
            conn.close()
            return
        try:
            self._answer(conn, request, fds)
        finally:
            for fd in fds:
                os.close(fd)

    def _refusal(self, request: dict[str, Any], fds: list[int]) -> str | None:
        """Why this server will not fork for ``request``, or None."""
        if self.stopping:
            return "stopping"
        if request.get("key") != self.key:
            return "another configuration"
        if len(fds) != _STDIO or not isinstance(request.get("argv"), list):
            return "a request without the caller's terminal"
        changed = warm.changed_sources(self.sources)
        if changed:
            self.stop(f"{changed[0]} changed")
            return "code changed"
        if threading.active_count() > 1:  # forking now could copy a lock held by that thread
            self.stop(f"a thread appeared: {threading.enumerate()}")
            return "not safe to fork"
        databases = warm.open_databases()
        if databases:
            self.stop(f"a database is open: {databases}")
            return "not safe to fork"
        return None

    def _answer(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        if request.get("stop"):
            self.stop("asked to")
        if request.get("stop") or request.get("status"):
            self._reply(conn, self.status())
            conn.close()
            return
        refusal = self._refusal(request, fds)
        if refusal is not None:
            self._reply(conn, {"refused": refusal})
            conn.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(conn, request, fds)
        # Also here, so a signal sent at once reaches the right group (the child may be first).
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        for fd in fds:  # the child has them; the caller's terminal must not stay open here
            os.close(fd)
        fds.clear()
        self.served += 1
        self.children[pid] = _Child(conn, _command(request["argv"]))
        conn.settimeout(None)
        self.selector.register(conn, selectors.EVENT_READ, pid)
        self._reply(conn, {"pid": pid})
        say(f"{self.children[pid].command}: child {pid}")

    def status(self) -> dict[str, Any]:
        return {
            "server": os.getpid(),
            "key": self.key,
            "started": self.started,
            "served": self.served,
            "running": len(self.children),
            "idle_seconds": self.idle_seconds,
            "stopping": self.stopping,
        }

    def _reply(self, conn: socket.socket, message: dict[str, Any]) -> None:
        # A caller that went away: its child, if any, is stopped when the selector sees that.
        with contextlib.suppress(OSError):
            wire.send(conn, message)

    def _from_caller(self, pid: int) -> None:
        child = self.children.get(pid)
        if child is None:
            return
        try:
            message = wire.receive(child.conn)
        except (OSError, ValueError):
            message = {"signal": int(signal.SIGTERM)}  # the caller is gone: so is its command
            self.selector.unregister(child.conn)
        number = message.get("signal")
        if isinstance(number, int) and number in {int(s) for s in signal.Signals}:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, number)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            child = self.children.pop(pid, None)
            if child is None:
                continue
            code = _exit_code(status)
            say(f"{child.command}: child {pid} exit {code} after {time.monotonic() - child.started:.2f} s")
            self._reply(child.conn, {"exit": code})
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(child.conn)
            child.conn.close()

    def _child(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> NoReturn:
        code = 1
        try:
            os.setpgid(0, 0)  # the caller's signals go to the command and its step processes
            signal.set_wakeup_fd(-1)
            for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self.selector.close()
            for owned in (self.listener, self.wake_read, self.wake_write, conn):
                owned.close()
            for other in self.children.values():
                other.conn.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(request["cwd"])
            os.umask(int(request.get("umask", 0o022)))
            os.environ.clear()
            os.environ.update(request["env"])
            argv = [str(arg) for arg in request["argv"]]
            sys.argv = ["airflow-ml", *argv]
            warm.for_caller()
            code = _run_command(argv)
        except BaseException as error:  # never return into the server's loop
            print(f"airflow-ml: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            logging.shutdown()
            os._exit(code)


def _run_command(argv: list[str]) -> int:
    """What ``airflow-ml <argv>`` exits with, run as the console script would."""
    from airflow_ml_provider.cli import app

    try:
        app(args=argv, prog_name="airflow-ml")
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return int(done.code or 0)
        print(done.code, file=sys.stderr)
        return 1
    return 0


def idle_seconds() -> float:
    from airflow.configuration import conf

    return conf.getfloat(SECTION, IDLE_OPTION, fallback=float(DEFAULT_IDLE_SECONDS))


def main() -> None:
    path, key = Path(sys.argv[1]), sys.argv[2]
    gc.set_threshold(50_000, 20, 20)  # as `airflow-ml` itself: long-lived objects by the 100,000
    started = time.monotonic()
    warm.build()
    server = RunServer(path, key, idle_seconds())
    gc.collect()
    gc.freeze()  # children share these pages instead of copying them when the collector visits
    if threading.active_count() > 1 or warm.open_databases():
        say(f"not serving: warming left {threading.enumerate()} and {warm.open_databases()} open")
        sys.exit(1)
    server.listen()
    ready = time.monotonic() - started
    say(f"ready in {ready:.1f} s at {path} (exits after {server.idle_seconds:.0f} s idle)")
    server.serve()


if __name__ == "__main__":
    main()
