"""Connection forms save only what was set.

Airflow's UI saves every field of a connection form, the untouched ones as null (a Docker
compute target: nine null keys next to the two that were filled in). This root middleware of
the API server drops null and empty values from the extra of the provider's own connection
types when a connection is created or edited (``POST /api/v2/connections``, ``PATCH
/api/v2/connections/<id>``), whichever client sends it, so the stored extra holds what was set.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from airflow_ml_provider.compute_kinds import KIND_OF_CONN_TYPE
from airflow_ml_provider.connection_types import DATASTORE_TYPE, TRACKING_TYPE

OWN_TYPES = frozenset({DATASTORE_TYPE, TRACKING_TYPE, *KIND_OF_CONN_TYPE})
CONNECTIONS_PATH = "/api/v2/connections"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def without_unset_fields(body: bytes) -> bytes | None:
    """The request body with null and empty extra fields removed; None when it needs no change."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("conn_type") not in OWN_TYPES:
        return None
    extra = data.get("extra")
    try:
        fields = json.loads(extra) if isinstance(extra, str) and extra.strip() else None
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    kept = {key: value for key, value in fields.items() if value not in (None, "")}
    if kept == fields:
        return None
    return json.dumps({**data, "extra": json.dumps(kept)}).encode()


def _is_connection_write(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH", "PUT"):
        return False
    path = str(scope.get("path", "")).rstrip("/")
    if path.endswith(CONNECTIONS_PATH):
        return bool(scope["method"] == "POST")
    head, _, name = path.rpartition("/")
    return head.endswith(CONNECTIONS_PATH) and bool(name) and name != "test"


class SaveOnlySetFields:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_connection_write(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(chunks)
        body = without_unset_fields(body) or body
        headers = [(key, value) for key, value in scope["headers"] if key.lower() != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
