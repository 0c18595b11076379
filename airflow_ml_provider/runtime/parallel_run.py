"""Runs a ParallelRunStep's entry script over mini-batches of its inputs.

Started by the bootstrap as ``parallel_run.py ENTRY_SCRIPT [ARGS...]`` when the step says
so (``AML_STEP_DRIVER``). The entry script is Azure ML v1's: ``init()`` once per worker
process, ``run(mini_batch)`` per mini-batch (a list of file paths for file inputs, a pandas
DataFrame for tables), returning a list or a DataFrame. With ``output_action="append_row"``
every returned row becomes a line of the output file. Failed items past ``error_threshold``
(``-1``: any number) fail the step. Standard library only (pandas for tables).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

CONFIG_VARIABLE = "AML_PARALLEL_RUN"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?B)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}

_entry: Any = None


def _load(entry_script: str, arguments: list[str]) -> None:
    """Import the entry script (once per process) and call its ``init()``."""
    global _entry
    sys.argv = [entry_script, *arguments]
    sys.path.insert(0, os.path.dirname(entry_script))
    spec = importlib.util.spec_from_file_location("entry_script", entry_script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "init"):
        module.init()
    _entry = module


def _run(batch: Any) -> tuple[Any, str | None]:
    try:
        return _entry.run(batch), None
    except Exception:
        return None, traceback.format_exc()


def _files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    return sorted(
        os.path.join(folder, name)
        for folder, _, names in os.walk(path)
        for name in names
        if not name.startswith(".")
    )


def _bytes(size: Any, default: int) -> int:
    if size is None:
        return default
    if isinstance(size, int):
        return size
    match = _SIZE.match(str(size))
    if not match:
        raise SystemExit(f'mini_batch_size {size!r} is not a size such as 10, "1MB" or "512KB"')
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])


def mini_batches(inputs: list[tuple[str, str, dict[str, Any] | None]], size: Any) -> Iterator[Any]:
    """File inputs: lists of ``size`` files (10 by default). Tables: DataFrames of about
    ``size`` bytes of the source files ("1MB" by default)."""
    for _, path, table in inputs:
        files = _files(path)
        if table is None:
            count = int(size) if size is not None else 10
            for start in range(0, len(files), max(count, 1)):
                yield files[start : start + count]
            continue
        frame = _read_table(files, table)
        total = sum(os.path.getsize(file) for file in files) or 1
        rows = max(1, math.floor(len(frame) * _bytes(size, 1 << 20) / total))
        for start in range(0, len(frame), rows):
            yield frame.iloc[start : start + rows].reset_index(drop=True)


def _read_table(files: list[str], table: dict[str, Any]) -> Any:
    import pandas as pd

    if table.get("kind") == "parquet":
        frames = [pd.read_parquet(file) for file in files]
    else:
        header = 0 if table.get("header", True) else None
        frames = [pd.read_csv(file, sep=table.get("separator", ","), header=header) for file in files]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rows(result: Any) -> list[str]:
    if result is None:
        return []
    if hasattr(result, "itertuples"):
        return [" ".join(str(value) for value in row) for row in result.itertuples(index=False)]
    return [str(item) for item in result]


def main() -> int:
    entry_script, *arguments = sys.argv[1:]
    config = json.loads(os.environ[CONFIG_VARIABLE])
    formats = json.loads(os.environ.get("AML_INPUT_DATASETS") or "{}")
    inputs = []
    for name in config["inputs"]:
        described = formats.get(name) or {}
        inputs.append((name, os.environ[f"AZUREML_DATAREFERENCE_{name}"], described.get("format")))
    output = os.environ.get(f"AZUREML_DATAREFERENCE_{config['output']}") if config.get("output") else None
    if output:
        os.environ["AZUREML_BI_OUTPUT_PATH"] = output
    batches = list(mini_batches(inputs, config.get("mini_batch_size")))
    items = sum(len(batch) for batch in batches)
    processes = max(1, int(config.get("process_count_per_node") or 1))
    threshold = int(config.get("error_threshold", -1))
    print(
        f"parallel run: {items} item(s) in {len(batches)} mini-batch(es), {processes} process(es)", flush=True
    )
    lines: list[str] = []
    failed = 0
    results: Iterator[tuple[Any, str | None]]
    if processes == 1:
        _load(entry_script, arguments)
        results = iter(map(_run, batches))
    else:
        pool = ProcessPoolExecutor(processes, initializer=_load, initargs=(entry_script, arguments))
        results = pool.map(_run, batches)
    for index, (batch, (result, error)) in enumerate(zip(batches, results, strict=True)):
        if error is not None:
            failed += len(batch)
            print(
                f"mini-batch {index + 1} failed ({len(batch)} item(s)):\n{error}", file=sys.stderr, flush=True
            )
            if 0 <= threshold < failed:
                print(
                    f"parallel run: {failed} failed item(s), over error_threshold {threshold}",
                    file=sys.stderr,
                )
                return 1
            continue
        lines.extend(_rows(result))
        print(f"mini-batch {index + 1} of {len(batches)} done", flush=True)
    if processes > 1:
        pool.shutdown()
    if config.get("output_action") == "append_row" and output:
        target = os.path.join(output, config.get("append_row_file_name") or "parallel_run_step.txt")
        with open(target, "a", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
    print(f"parallel run: {items - failed} item(s) succeeded, {failed} failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
