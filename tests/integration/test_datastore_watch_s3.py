"""The datastore trigger watching an S3 prefix on a real S3 endpoint (moto server on loopback).

The trigger's own ``run()`` loop is driven here (the triggerer's part is tested on a local
datastore in tests/deployment/test_datastore_schedule.py): new objects in subfolders fire,
the same bytes uploaded again fire nothing, new bytes fire.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from servers import free_port

from airflow_ml_provider.triggers.datastore_change import DatastoreChangeTrigger

pytestmark = pytest.mark.integration

BUCKET = "landing"


@pytest.fixture(scope="module")
def s3_client() -> Iterator[Any]:
    import boto3

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        )
        client.create_bucket(Bucket=BUCKET)
        os.environ["AIRFLOW_CONN_WATCHED_S3"] = json.dumps(
            {
                "conn_type": "ml_datastore",
                "login": "k",
                "password": "s",
                "extra": {"base_uri": f"s3://{BUCKET}/drop", "endpoint_url": endpoint},
            }
        )
        yield client
    finally:
        server.terminate()
        server.wait()


async def _watch(trigger: DatastoreChangeTrigger, s3_client: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    polls: list[dict[str, str]] = []
    real_poll = trigger._poll

    def counted_poll() -> dict[str, str]:  # the real poll, counted so the test knows when one ended
        polls.append(real_poll())
        return polls[-1]

    trigger._poll = counted_poll  # type: ignore[method-assign]

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    async def polled(times: int) -> None:
        target = len(polls) + times
        while len(polls) < target:
            await asyncio.sleep(0.05)

    s3_client.put_object(Bucket=BUCKET, Key="drop/before.csv", Body=b"before\n")
    watching = asyncio.create_task(consume())
    await polled(1)  # the baseline
    s3_client.put_object(Bucket=BUCKET, Key="drop/2026/11/a.csv", Body=b"a\n")
    await polled(2)
    s3_client.put_object(Bucket=BUCKET, Key="drop/2026/11/a.csv", Body=b"a\n")  # the same bytes
    s3_client.put_object(Bucket=BUCKET, Key="drop/before.csv", Body=b"before\n")
    await polled(2)
    s3_client.put_object(Bucket=BUCKET, Key="drop/before.csv", Body=b"changed\n")
    await polled(2)
    watching.cancel()
    return events


async def _first_events(trigger: DatastoreChangeTrigger, polls: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    watching = asyncio.create_task(consume())
    await asyncio.sleep(polls * trigger.polling_seconds + 3)
    watching.cancel()
    return events


def test_s3_prefix_changes_fire_by_content(s3_client: Any) -> None:
    trigger = DatastoreChangeTrigger("watched_s3", "", polling_seconds=0.1, parameter="input_path")
    events = asyncio.run(asyncio.wait_for(_watch(trigger, s3_client), timeout=120))
    assert [(event["path"], event["paths"]) for event in events] == [
        ("2026/11/a.csv", ["2026/11/a.csv"]),
        ("before.csv", ["before.csv"]),
    ]
    assert all(event["datastore"] == "watched_s3" and event["parameter"] == "input_path" for event in events)
    # A stored checksum, not a download, told the contents apart.
    assert events[1]["digests"]["before.csv"].startswith("s3:")

    # The triggerer restarts (a new trigger object): what landed meanwhile still fires, once.
    s3_client.put_object(Bucket=BUCKET, Key="drop/late.csv", Body=b"late\n")
    restarted = DatastoreChangeTrigger("watched_s3", "", polling_seconds=0.1, parameter="input_path")
    assert [event["path"] for event in asyncio.run(_first_events(restarted, 5))] == ["late.csv"]
