"""Where a step's outputs live on their datastore: one place per run, step, attempt and output.

No two runs may share a place: a run id becomes a folder name through an injective mapping,
so run ids that differ only in characters a path cannot hold (``exp:1``, ``exp+1``, ``exp_1``)
still get folders of their own.
"""

from __future__ import annotations

import re

import blake3

PIPELINE_DATA_FOLDER = "pipeline-data"

_AS_IS = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# A name kept as it is never holds "~", so a readable name followed by "~<digest of the raw
# value>" cannot equal a name kept as it is; two raw values share a folder only if their
# digests collide.
_MARK = "~"


def path_part(value: str) -> str:
    """``value`` as one folder name: itself when that is safe, else readable text and a digest."""
    if _AS_IS.match(value):
        return value
    readable = _UNSAFE.sub("_", value)[:100].lstrip(".") or "_"
    return f"{readable}{_MARK}{blake3.blake3(value.encode()).hexdigest()[:16]}"


def pipeline_data_path(dag_id: str, run_id: str, step: str, attempt: int, output: str) -> str:
    """Where a PipelineData output lives on its datastore: one place per run, step and attempt."""
    return "/".join(
        [PIPELINE_DATA_FOLDER, path_part(dag_id), path_part(run_id), step, f"attempt-{attempt}", output]
    )
