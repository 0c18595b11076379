"""Airflow's REST API v2 over HTTP: authentication, requests, and errors in words."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

URL_VARIABLE = "AIRFLOW_ML_API_URL"
TOKEN_VARIABLE = "AIRFLOW_ML_API_TOKEN"
USERNAME_VARIABLE = "AIRFLOW_ML_API_USERNAME"
PASSWORD_VARIABLE = "AIRFLOW_ML_API_PASSWORD"


class ClientError(RuntimeError):
    """A request the Airflow API refused or could not answer, said in words."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def path_part(value: str) -> str:
    """A DAG id, run id or task id as one URL path segment (run ids hold ``:`` and ``+``)."""
    return quote(value, safe="")


class AirflowApi:
    """Requests to one Airflow API server, authenticated as its auth manager expects.

    A ``token`` is used as given; otherwise ``username`` and ``password`` are exchanged for
    one at ``POST /auth/token`` (and again when it expires). Without either, requests go
    unauthenticated (a server with ``simple_auth_manager_all_admins``).
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 60,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._credentials = (username, password) if username and password is not None else None
        self._http = httpx.Client(timeout=timeout, transport=transport)

    @classmethod
    def from_environment(cls, url: str | None = None, **overrides: Any) -> AirflowApi:
        """Settings from ``AIRFLOW_ML_API_URL``, ``_TOKEN``, ``_USERNAME``, ``_PASSWORD``."""
        url = url or os.environ.get(URL_VARIABLE)
        if not url:
            raise ClientError(
                f"no Airflow API URL: pass one (--api-url) or set {URL_VARIABLE}, "
                "for example http://localhost:8080"
            )

        def setting(key: str, variable: str) -> str | None:
            value = overrides.get(key)
            return str(value) if value is not None else os.environ.get(variable)

        return cls(
            url,
            token=setting("token", TOKEN_VARIABLE),
            username=setting("username", USERNAME_VARIABLE),
            password=setting("password", PASSWORD_VARIABLE),
        )

    def close(self) -> None:
        self._http.close()

    def _fetch_token(self) -> str:
        assert self._credentials is not None
        username, password = self._credentials
        try:
            response = self._http.post(
                f"{self.url}/auth/token", json={"username": username, "password": password}
            )
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach the Airflow API at {self.url}: {error}") from None
        if response.status_code >= 400:
            raise ClientError(
                f"the Airflow API at {self.url} refused the credentials of user {username!r} "
                f"({response.status_code}). Check the username and password, or pass a token.",
                response.status_code,
            )
        return str(response.json()["access_token"])

    def _headers(self) -> dict[str, str]:
        if self._token is None and self._credentials is not None:
            self._token = self._fetch_token()
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; the decoded JSON body, or None for an empty one."""
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.url}{path}"
        try:
            response = self._http.request(method, url, headers=self._headers(), **kwargs)
            if response.status_code == 401 and self._credentials is not None:
                self._token = None  # expired: exchange the credentials again, once
                response = self._http.request(method, url, headers=self._headers(), **kwargs)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach the Airflow API at {self.url}: {error}") from None
        if response.status_code >= 400:
            raise ClientError(_error_text(method, path, response), response.status_code)
        return response

    def stream_lines(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The JSON objects of an NDJSON response, as they arrive."""
        url = f"{self.url}{path}"
        try:
            with self._http.stream("GET", url, headers=self._headers(), timeout=None, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise ClientError(_error_text("GET", path, response), response.status_code)
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach the Airflow API at {self.url}: {error}") from None


def _error_text(method: str, path: str, response: httpx.Response) -> str:
    try:
        detail: Any = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    if response.status_code == 401:
        detail += " (not authenticated: pass a token, or a username and password)"
    if response.status_code == 403:
        detail += " (this user may not do that)"
    return f"{method} {path}: {response.status_code} {detail[:1500]}"
