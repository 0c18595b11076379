"""Fingerprints: a digest over a canonical, versioned pre-image of what can change outputs.

Two levels, because the modules a script imports are only known after it ran:
the *base key* covers step, code, arguments, inputs and environment; an entry's
*fingerprint* adds the digests of the first-party modules its run imported. A lookup
finds entries by base key and re-hashes their recorded modules.
"""

from __future__ import annotations

import json
from typing import Any

import blake3

PRE_IMAGE_VERSION = 1


class UnfingerprintableError(Exception):
    """A part of the step that cannot be fingerprinted: the step runs and is not cached."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(value: Any) -> str:
    return blake3.blake3(canonical(value)).hexdigest()


def base_pre_image(
    *,
    step: dict[str, Any],
    code: dict[str, str],
    arguments: list[str],
    params: dict[str, str],
    inputs: dict[str, str],
    environment: dict[str, Any],
) -> dict[str, Any]:
    """The pre-image, field by field, as it is stored and compared."""
    return {
        "version": PRE_IMAGE_VERSION,
        "step": step,
        "code": code,
        "arguments": arguments,
        "params": params,
        "inputs": inputs,
        "environment": environment,
    }


def base_key(pre_image: dict[str, Any]) -> str:
    return digest_of(pre_image)


def fingerprint(base: str, modules: dict[str, str]) -> str:
    """The entry's full fingerprint: its base key plus the imported modules' digests."""
    return digest_of({"base": base, "modules": modules})
