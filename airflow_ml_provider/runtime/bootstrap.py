"""Runs a step script as ``__main__`` and records the first-party modules it imported.

Started as ``python bootstrap.py RECORD_FILE SCRIPT [ARGS...]``. Standard library only,
so it works in any Python the script runs in (a virtualenv, a container).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import sysconfig


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


def main() -> None:
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
