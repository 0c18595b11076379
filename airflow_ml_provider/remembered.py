"""What DAG parsing remembers on this machine's disk between parses, so that a parse need not
read a connection or a database: compute targets' queues, published module versions.

One JSON file per kind of fact under the provider's home, written atomically (parses in
parallel processes read either the old or the new file). A home that cannot be written only
costs the lookup again at the next parse.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from airflow_ml_provider.settings import provider_home


class RememberedFile:
    """A JSON object on disk: ``read`` gives {} when it is missing or unreadable."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def path(self) -> Path:
        return provider_home() / self.name

    def read(self) -> dict[str, Any]:
        try:
            known = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return known if isinstance(known, dict) else {}

    def write(self, known: dict[str, Any]) -> None:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
            with os.fdopen(handle, "w") as file:
                json.dump(known, file)
            os.replace(temporary, path)
        except OSError:
            pass

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
