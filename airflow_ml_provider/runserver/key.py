"""What a run server is started for, and its settings, read without importing Airflow.

A server serves only callers with the same key: the same interpreter, the same installed
packages (a site folder changes when a distribution is installed, upgraded or removed), the
same Airflow configuration file and the same configuring environment variables. Anything
else a command reads (connections and variables from the environment, the DAG files, the
step scripts, the data) is read fresh by each child. The server itself checks the source
files it loaded from outside the site folders (an editable install, ``airflow_local_settings``)
before each fork.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from airflow_ml_provider import __version__
from airflow_ml_provider.settings import OPTIONS, SECTION, provider_home

IDLE_OPTION = "run_server_idle_seconds"
DEFAULT_IDLE_SECONDS = int(str(OPTIONS[IDLE_OPTION].default))
IDLE_ENV = f"AIRFLOW__{SECTION.upper()}__{IDLE_OPTION.upper()}"
# Read when Airflow, MLflow or Python start (configuration, encodings); a change needs a new server.
_KEY_PREFIXES = ("AIRFLOW__", "MLFLOW_", "PYTHON")
_KEY_NAMES = frozenset({"AIRFLOW_HOME", "AIRFLOW_CONFIG", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ"})


def server_folder() -> Path:
    """``$AIRFLOW_HOME/ml/run-server``: sockets, start locks and the servers' log."""
    return provider_home() / "run-server"


def config_file(env: Mapping[str, str]) -> Path:
    home = Path(env.get("AIRFLOW_HOME") or Path.home() / "airflow")
    return Path(env.get("AIRFLOW_CONFIG") or home / "airflow.cfg")


def idle_seconds(env: Mapping[str, str]) -> float:
    """``[ml_pipelines] run_server_idle_seconds`` from the environment or the configuration file."""
    value = env.get(IDLE_ENV)
    if value is None:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(config_file(env), encoding="utf-8")
            value = parser.get(SECTION, IDLE_OPTION, fallback=None)
        except (OSError, configparser.Error):
            value = None
    try:
        return float(value) if value not in (None, "") else float(DEFAULT_IDLE_SECONDS)
    except ValueError:
        return float(DEFAULT_IDLE_SECONDS)


def _stamp(path: Path) -> str:
    try:
        found = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{found.st_mtime_ns}:{found.st_size}"


def server_key(env: Mapping[str, str]) -> str:
    """16 hex digits naming the server these settings need."""
    parts = [sys.executable, sys.version, __version__, _stamp(config_file(env))]
    parts += [
        f"{name}={env[name]}" for name in sorted(env) if name.startswith(_KEY_PREFIXES) or name in _KEY_NAMES
    ]
    # A site folder's own mtime moves whenever a distribution's files are added or removed.
    parts += [_stamp(Path(entry)) for entry in sys.path[1:] if entry and os.path.isdir(entry)]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()
