"""Azure ML SDK v1 arguments that mean nothing here: accepted, with one clear warning each.

A v1 pipeline ports by changing its imports; an argument that has no equivalent must not
stop it with a ``TypeError``, nor be dropped without a word.
"""

from __future__ import annotations

import warnings
from typing import Any


class AzureMLCompatibilityWarning(UserWarning):
    """A v1 argument was accepted but has no effect here; the message says why."""


def ignored(owner: str, argument: str, why: str) -> None:
    """Warn that ``owner(argument=...)`` is accepted and not used, and why."""
    warnings.warn(
        f"{owner}: {argument}= is accepted for Azure ML SDK v1 compatibility and not used: {why}",
        AzureMLCompatibilityWarning,
        stacklevel=3,
    )


def ignored_keywords(owner: str, given: dict[str, Any], reasons: dict[str, str]) -> None:
    """One warning per keyword of ``given`` that was set (not None) and is listed in ``reasons``."""
    for argument, value in given.items():
        if value is not None and argument in reasons:
            ignored(owner, argument, reasons[argument])
