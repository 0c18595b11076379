"""The script as a subprocess: arguments as a list, output streamed line by line."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import IO

STDERR_TAIL_LINES = 20


class ScriptFailedError(RuntimeError):
    """The script exited non-zero; the message carries the end of its stderr."""

    def __init__(self, step: str, script: str, returncode: int, stderr_tail: list[str]) -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        tail = "\n".join(f"    {line}" for line in stderr_tail) or "    (nothing on stderr)"
        super().__init__(
            f'step "{step}": script {script} exited with code {returncode}. Last lines of its stderr:\n{tail}'
        )


GRACE_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1


class Stopper:
    """Stops a running attempt from another thread: the run task's ``on_kill`` calls ``stop``.

    Whatever runs the script (a subprocess, a container, a pod) registers how to stop it.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self.stopped = False

    def on_stop(self, callback: Callable[[], object]) -> None:
        with self._lock:
            self._callbacks.append(callback)
            stopped = self.stopped
        if stopped:
            callback()

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            with contextlib.suppress(Exception):
                callback()


def _die_with_parent(parent: int) -> Callable[[], None]:
    """In the child before exec: get SIGKILL when the task process dies (Linux), however it dies."""

    def setup() -> None:
        with contextlib.suppress(Exception):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return setup


def stop_process_group(process: subprocess.Popen[str], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to the script and everything it started, SIGKILL after ``grace`` seconds."""

    def kill_later() -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    threading.Thread(target=kill_later, daemon=True, name="stop-script").start()


def _pump(stream: IO[str], emit: Callable[[str], None], tail: deque[str] | None) -> None:
    for raw in stream:
        line = raw.rstrip("\n")
        emit(line)
        if tail is not None:
            tail.append(line)
    stream.close()


def run_script(
    command: Sequence[str],
    *,
    step: str,
    script: str,
    cwd: str,
    environment: dict[str, str],
    log_stdout: Callable[[str], None],
    log_stderr: Callable[[str], None],
    stopper: Stopper | None = None,
) -> None:
    """Run ``command`` (never through a shell) and raise ScriptFailedError on a non-zero exit.

    The script gets a process group of its own (stopped as a whole by ``stopper``) and, on
    Linux, dies with the process that started it: a killed task leaves no script running.
    """
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env={**os.environ, **environment},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
        preexec_fn=_die_with_parent(os.getpid()) if sys.platform == "linux" else None,
    )
    if stopper is not None:
        stopper.on_stop(lambda: stop_process_group(process))
    assert process.stdout is not None and process.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, log_stdout, None), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, log_stderr, tail), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        returncode = process.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    for pump in pumps:
        pump.join()
    if returncode != 0:
        raise ScriptFailedError(step, script, returncode, list(tail))
