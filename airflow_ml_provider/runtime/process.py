"""The script as a subprocess: arguments as a list, output streamed line by line."""

from __future__ import annotations

import os
import subprocess
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
) -> None:
    """Run ``command`` (never through a shell) and raise ScriptFailedError on a non-zero exit."""
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
    )
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
        process.kill()
        process.wait()
        raise
    for pump in pumps:
        pump.join()
    if returncode != 0:
        raise ScriptFailedError(step, script, returncode, list(tail))
