"""The installed-packages part of a local step's fingerprint: remembered, and still exact."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from airflow_ml_provider.caching import parts
from airflow_ml_provider.caching.fingerprint import digest_of


def _fresh() -> str:
    """What the digest is when nothing is remembered: every distribution's name and version."""
    return digest_of(sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions()))


def _install(folder: Path, name: str, version: str) -> Path:
    """A distribution as pip lays it out: ``<name>-<version>.dist-info/METADATA``."""
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return info


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(folder)])
    parts.installed_packages_digest.cache_clear()
    yield folder
    parts.installed_packages_digest.cache_clear()


def _digest() -> str:
    parts.installed_packages_digest.cache_clear()  # each task is a new process
    return parts.installed_packages_digest()


def test_the_remembered_digest_is_the_fresh_one(site: Path):
    first = _digest()
    assert (Path(parts.provider_home()) / "packages-digest.json").is_file()
    assert _digest() == first == _fresh()


def test_install_upgrade_and_removal_change_it(site: Path):
    before = _digest()
    old = _install(site, "humanize", "4.0")
    installed = _digest()
    assert installed != before and installed == _fresh()
    old.rename(site / "humanize-4.1.dist-info")  # what an upgrade leaves behind, in effect
    (site / "humanize-4.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: humanize\nVersion: 4.1\n"
    )
    upgraded = _digest()
    assert upgraded not in (before, installed) and upgraded == _fresh()
    for file in (site / "humanize-4.1.dist-info").iterdir():
        file.unlink()
    (site / "humanize-4.1.dist-info").rmdir()
    assert _digest() == before
