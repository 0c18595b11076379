"""Runs a step script as ``__main__`` and records the first-party modules it imported.

Started as ``python bootstrap.py RECORD_FILE SCRIPT [ARGS...]``, with the paths of the step's
mounted inputs in ``AML_READ_ONLY_PATHS`` (made read-only to the script first). Standard
library only, so it works in any Python the script runs in (a virtualenv, a container).
"""

from __future__ import annotations

import ctypes
import json
import os
import runpy
import sys
import sysconfig

# Mounted inputs are read-only to the script: before it starts, this process enters a private
# mount namespace (Linux; a user namespace too when not root) and bind-mounts each mounted
# input onto itself, read-only. The script sees the same paths; a write through them fails
# with "Read-only file system"; no other process sees any change.
VARIABLE = "AML_READ_ONLY_PATHS"
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MS_NOATIME, _MS_NODIRATIME, _MS_RELATIME = 1024, 2048, 1 << 21
# statvfs flags -> mount flags that a remount inside a user namespace must keep.
_KEPT = tuple(
    (getattr(os, name, 0), flag)
    for name, flag in (
        ("ST_NOSUID", _MS_NOSUID),
        ("ST_NODEV", _MS_NODEV),
        ("ST_NOEXEC", _MS_NOEXEC),
        ("ST_NOATIME", _MS_NOATIME),
        ("ST_NODIRATIME", _MS_NODIRATIME),
        ("ST_RELATIME", _MS_RELATIME),
    )
)


def already_read_only(path: str) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def _call(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(text)


def make_read_only(paths: list[str]) -> None:
    """In this process (before the script): enter private namespaces, then mount ``paths`` read-only."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        _call(libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        _call(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        # The same user and group inside as outside: files keep their meaning for the script.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _call(libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None), "making mounts private")
    for path in paths:
        flags = os.statvfs(path).f_flag
        kept = sum(mount_flag for statvfs_flag, mount_flag in _KEPT if flags & statvfs_flag)
        target = os.fsencode(path)
        _call(libc.mount(target, target, None, _MS_BIND | _MS_REC, None), f"bind-mounting {path}")
        _call(
            libc.mount(None, target, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY | kept, None),
            f"making {path} read-only",
        )


def available(probe_file: str) -> bool:
    """Whether this machine lets a process mount a path read-only for itself (run in a child)."""
    pid = os.fork()
    if pid == 0:  # the child tries, then exits at once
        try:
            make_read_only([probe_file])
            with open(probe_file, "a", encoding="ascii"):
                pass
        except OSError as error:
            os._exit(0 if error.errno == 30 else 1)  # EROFS: the mount works
        except BaseException:
            os._exit(1)
        os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _third_party_roots() -> list[str]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update({sys.prefix, sys.base_prefix, sys.exec_prefix})
    return sorted(os.path.realpath(root) for root in roots)


def _first_party_modules(script: str) -> list[str]:
    """Files of imported modules that belong to the user, not to Python or installed packages."""
    roots = _third_party_roots()
    found = set()
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not filename or not filename.endswith(".py"):
            continue
        real = os.path.realpath(filename)
        if real == script or real == os.path.realpath(__file__):
            continue
        if not any(real.startswith(root + os.sep) for root in roots):
            found.add(real)
    return sorted(found)


AZUREML_COMPAT_VARIABLE = "AML_AZUREML_COMPAT"
STEP_DRIVER_VARIABLE = "AML_STEP_DRIVER"


def _protect_inputs() -> None:
    """Mounted inputs read-only to the script (their paths, from the runtime), before it starts."""
    paths = json.loads(os.environ.pop(VARIABLE, "[]"))
    if not paths:
        return
    try:
        make_read_only(paths)
    except OSError as error:
        print(f"cannot mount the step's inputs read-only: {error}", file=sys.stderr)
        sys.exit(70)


def main() -> None:
    _protect_inputs()
    record_file, script, *arguments = sys.argv[1:]
    script = os.path.realpath(script)
    sys.argv = [script, *arguments]
    sys.path[0] = os.path.dirname(script)
    if os.environ.get(AZUREML_COMPAT_VARIABLE) == "1":
        # Last on the path: an installed azureml package is found first and wins.
        sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "azureml_v1"))
    driver = os.environ.get(STEP_DRIVER_VARIABLE)
    try:
        if driver:
            # A step kind whose script is driven by the runtime (ParallelRunStep's mini-batches).
            driver_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.path.basename(driver))
            sys.argv = [driver_path, script, *arguments]
            runpy.run_path(driver_path, run_name="__main__")
        else:
            runpy.run_path(script, run_name="__main__")
    finally:
        with open(record_file, "w", encoding="utf-8") as handle:
            json.dump({"imported_modules": _first_party_modules(script)}, handle)


if __name__ == "__main__":
    main()
