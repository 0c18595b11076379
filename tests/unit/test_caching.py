"""The step cache's parts on their own: stat cache, fingerprints, explanations, store, leases."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from airflow_ml_provider.caching import lookup
from airflow_ml_provider.caching.content import code_digests, local_content_digest
from airflow_ml_provider.caching.explain import differences
from airflow_ml_provider.caching.fingerprint import base_key, base_pre_image, fingerprint
from airflow_ml_provider.caching.statcache import StatCache
from airflow_ml_provider.caching.store import CacheEntry, StepCacheStore
from airflow_ml_provider.runtime.digest import path_digest


@pytest.fixture
def stat_cache(tmp_path: Path) -> StatCache:
    return StatCache(tmp_path / "stat.db")


@pytest.fixture
def store(tmp_path: Path) -> StepCacheStore:
    return StepCacheStore(f"sqlite:///{tmp_path / 'cache.db'}")


def test_stat_cache_reads_a_file_only_when_its_stat_changed(tmp_path, stat_cache, monkeypatch):
    file = tmp_path / "data.bin"
    file.write_bytes(b"a" * 1000)
    reads: list[Path] = []
    import airflow_ml_provider.caching.statcache as statcache_module

    real = statcache_module.file_digest
    monkeypatch.setattr(statcache_module, "file_digest", lambda p: reads.append(Path(p)) or real(p))

    first = stat_cache.digests([file])[file]
    again = stat_cache.digests([file])[file]
    assert reads == [file]
    assert first == again

    os.utime(file, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    touched = stat_cache.digests([file])[file]
    assert reads == [file, file]
    assert touched == first

    file.write_bytes(b"b" * 1000)
    changed = stat_cache.digests([file])[file]
    assert changed[1] != first[1]


def test_folder_digest_through_the_stat_cache_equals_the_runtime_output_digest(tmp_path, stat_cache):
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "out" / "sub" / "b.txt").write_text("hello")

    before = local_content_digest(tmp_path / "out", stat_cache)
    assert before == path_digest(tmp_path / "out")
    # The same bytes under another name: paths are part of a folder's digest.
    (tmp_path / "out" / "sub" / "b.txt").rename(tmp_path / "out" / "c.txt")
    renamed = local_content_digest(tmp_path / "out", stat_cache)
    assert renamed == path_digest(tmp_path / "out")
    assert (renamed.size, renamed.files) == (before.size, before.files) == (13, 2)
    assert renamed.digest != before.digest


def test_code_digests_honour_amlignore_and_skip_bytecode(tmp_path, stat_cache):
    code = tmp_path / "code"
    (code / "__pycache__").mkdir(parents=True)
    (code / "train.py").write_text("print(1)\n")
    (code / "notes.log").write_text("noise")
    (code / "__pycache__" / "helper.cpython-311.pyc").write_bytes(b"\0")
    (code / ".amlignore").write_text("*.log\n")

    assert sorted(code_digests(code, stat_cache)) == [".amlignore", "train.py"]


def _pre_image(**changes: object) -> dict:
    parts: dict = {
        "step": {"kind": "python_script", "name": "train", "version": None},
        "code": {"train.py": "aa"},
        "arguments": ["--alpha", "${parameter:alpha}"],
        "params": {"alpha": "0.1"},
        "inputs": {"features": "blake3:3f1a0000000000000000"},
        "environment": {"python": "3.11.7"},
    }
    parts.update(changes)
    return base_pre_image(**parts)


def test_fingerprint_is_canonical_and_covers_every_part():
    assert base_key(_pre_image()) == base_key(_pre_image())
    variants = [
        _pre_image(code={"train.py": "bb"}),
        _pre_image(params={"alpha": "0.2"}),
        _pre_image(inputs={"features": "blake3:9c2e"}),
        _pre_image(environment={"python": "3.12.0"}),
        _pre_image(step={"kind": "python_script", "name": "train", "version": "2"}),
        _pre_image(arguments=["--alpha", "0.1"]),
    ]
    keys = {base_key(v) for v in variants} | {base_key(_pre_image())}
    assert len(keys) == len(variants) + 1
    assert fingerprint("k", {"/m.py": "1"}) != fingerprint("k", {"/m.py": "2"})


def test_explanations_name_what_changed_field_by_field():
    reasons = differences(
        _pre_image(),
        _pre_image(
            code={"train.py": "bb"},
            params={"alpha": "0.2"},
            inputs={"features": "blake3:9c2e00000000000000000"},
        ),
        {"/dags/lib/helper.py": "1"},
        {"/dags/lib/helper.py": "2"},
    )
    assert reasons == [
        "train.py changed",
        'parameter "alpha" changed (0.1 -> 0.2)',
        'input "features" changed (3f1a0000.. -> 9c2e0000..)',
        "imported module /dags/lib/helper.py changed",
    ]


def _local_only(output: str) -> dict[str, object]:
    """Local outputs are verified on disk: asking for a datastore's options would be a connection read."""
    raise AssertionError(f'output "{output}" is local: no datastore options are needed to verify it')


def find_hit(
    store: StepCacheStore, base: str, stat_cache: StatCache, base_directory: Path, warnings: list[str]
) -> lookup.Hit | None:
    return lookup.find_hit(
        store,
        base,
        stat_cache,
        warn=warnings.append,
        base_directory=base_directory,
        storage_options=_local_only,
    )


def _entry(tmp_path: Path, base: str, created_at: float, output: Path) -> CacheEntry:
    content = path_digest(output)
    reference = {
        "uri": output.as_uri(),
        "digest": content.digest,
        "size": content.size,
        "files": content.files,
    }
    return CacheEntry(
        fingerprint(base, {}),
        base,
        "dag",
        "step",
        _pre_image(),
        {},
        {"out": reference},
        {"run_id": "r1"},
        created_at,
    )


def test_a_hit_is_verified_and_a_stale_entry_is_evicted(tmp_path, store, stat_cache):
    output = tmp_path / "published"
    output.mkdir()
    (output / "model.pkl").write_bytes(b"weights")
    store.put(_entry(tmp_path, "base1", time.time(), output))
    warnings: list[str] = []

    assert find_hit(store, "base1", stat_cache, tmp_path, warnings) is not None
    (output / "model.pkl").write_bytes(b"WEIGHTS")  # same size, other bytes
    assert find_hit(store, "base1", stat_cache, tmp_path, warnings) is None
    assert "altered" in warnings[-1]
    assert store.candidates("base1") == []


def test_a_deleted_output_is_a_miss(tmp_path, store, stat_cache):
    output = tmp_path / "published"
    output.mkdir()
    (output / "x").write_text("1")
    store.put(_entry(tmp_path, "base2", time.time(), output))
    (output / "x").unlink()
    output.rmdir()
    warnings: list[str] = []

    assert find_hit(store, "base2", stat_cache, tmp_path, warnings) is None
    assert "is gone" in warnings[-1]


def test_entries_older_than_the_ttl_are_not_reused(tmp_path, store, stat_cache, monkeypatch):
    output = tmp_path / "published"
    output.mkdir()
    (output / "x").write_text("1")
    store.put(_entry(tmp_path, "base3", time.time() - 7200, output))
    monkeypatch.setenv("AIRFLOW__ML_PIPELINES__CACHE_TTL_SECONDS", "3600")
    warnings: list[str] = []

    assert find_hit(store, "base3", stat_cache, tmp_path, warnings) is None
    assert "older than the TTL" in warnings[-1]


def test_one_lease_per_fingerprint_until_it_expires(store):
    assert store.try_lease("base", "run-a", 0.5) is None
    assert store.try_lease("base", "run-b", 0.5) == "run-a"
    assert store.renew_lease("base", "run-a", 0.5)
    assert not store.renew_lease("base", "run-b", 0.5)
    time.sleep(0.6)
    assert store.try_lease("base", "run-b", 5) is None
    store.release_lease("base", "run-a")  # not the holder: nothing happens
    assert store.try_lease("base", "run-c", 5) == "run-b"
    store.release_lease("base", "run-b")
    assert store.try_lease("base", "run-c", 5) is None


def test_a_streamed_folder_digest_equals_the_runtime_one_whatever_the_names(tmp_path, stat_cache):
    """Folders are walked in the order of full paths ("a-b" < "a/x" < "a0"), as manifests sort them."""
    root = tmp_path / "names"
    for relative in ("a-b", "a/x", "a/y/z", "a0", "a.b/c", "b", "ä/ü", "A", "a/y-1", "a/y/0"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(relative)
    cold = local_content_digest(root, stat_cache)
    assert cold == path_digest(root)
    assert local_content_digest(root, StatCache(tmp_path / "stat.db")) == cold  # warm, through the index
    (root / "a" / "y" / "z").write_text("changed")
    assert local_content_digest(root, stat_cache) == path_digest(root) != cold


def test_many_new_files_are_remembered_in_batches(tmp_path, stat_cache, monkeypatch):
    import airflow_ml_provider.caching.statcache as statcache_module

    root = tmp_path / "many"
    root.mkdir()
    for index in range(2500):
        (root / f"{index:05d}").write_text(str(index))
    first = local_content_digest(root, stat_cache)
    reads: list[str] = []
    real = statcache_module.file_digest
    monkeypatch.setattr(statcache_module, "file_digest", lambda p: reads.append(str(p)) or real(p))
    assert local_content_digest(root, StatCache(tmp_path / "stat.db")) == first == path_digest(root)
    assert reads == []
