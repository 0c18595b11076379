"""XCom keys that API clients read (pure Python: the client imports this without Airflow)."""

from __future__ import annotations

# The reuse sensor's decision for a step in one run: {"decision": "reused" | "run", "message": ...}.
REUSE_DECISION = "reuse_decision"
