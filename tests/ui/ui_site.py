"""The running Airflow site of the UI tests, and HTTP requests to it as one of its users."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"ada": "ada-password", "bob": "bob-password"}


@dataclass
class Site:
    url: str
    runs: dict[str, str]  # name -> run id
    home: Path
    screenshots: Path

    def token(self, user: str) -> str:
        request = urllib.request.Request(
            f"{self.url}/auth/token",
            data=json.dumps({"username": user, "password": PASSWORDS[user]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.load(response)["access_token"])

    def get(self, path: str, user: str | None, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                kind = response.headers.get("content-type", "")
                return response.status, json.loads(raw) if "json" in kind else raw
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw
