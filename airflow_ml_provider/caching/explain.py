"""Why a step re-ran, in words: a field-by-field comparison of two pre-images."""

from __future__ import annotations

import json
from typing import Any


def _short(value: Any) -> str:
    text = str(value)
    if text.startswith("blake3:"):
        text = text[len("blake3:") :]
    return text[:8] + ".." if len(text) > 16 and " " not in text else text


def _compare_maps(kind: str, old: dict[str, Any], new: dict[str, Any], *, values: bool) -> list[str]:
    reasons = []
    for key in sorted(set(old) | set(new)):
        if key not in old:
            reasons.append(f'{kind} "{key}" added')
        elif key not in new:
            reasons.append(f'{kind} "{key}" removed')
        elif old[key] != new[key]:
            detail = f" ({_short(old[key])} -> {_short(new[key])})"
            reasons.append(f'{kind} "{key}" changed{detail}' if values else f"{key} changed")
    return reasons


def differences(
    old: dict[str, Any],
    new: dict[str, Any],
    old_modules: dict[str, str] | None = None,
    new_modules: dict[str, str] | None = None,
) -> list[str]:
    """What changed from ``old`` to ``new`` (pre-images, then imported modules)."""
    if old.get("version") != new.get("version"):
        return [f"fingerprint format changed ({old.get('version')} -> {new.get('version')})"]
    reasons: list[str] = []
    old_step, new_step = old.get("step", {}), new.get("step", {})
    for key in sorted(set(old_step) | set(new_step)):
        if old_step.get(key) != new_step.get(key):
            reasons.append(f"step {key} {old_step.get(key)!r} -> {new_step.get(key)!r}")
    reasons += _compare_maps("file", old.get("code", {}), new.get("code", {}), values=False)
    if old.get("arguments") != new.get("arguments"):
        reasons.append(f"arguments {old.get('arguments')} -> {new.get('arguments')}")
    reasons += _compare_maps("parameter", old.get("params", {}), new.get("params", {}), values=True)
    reasons += _compare_maps("input", old.get("inputs", {}), new.get("inputs", {}), values=True)
    reasons += _compare_maps(
        "environment", old.get("environment", {}), new.get("environment", {}), values=True
    )
    if old_modules is not None and new_modules is not None:
        changed = [path for path in sorted(old_modules) if old_modules[path] != new_modules.get(path)]
        reasons += [f"imported module {path} changed" for path in changed]
    return reasons


def explain_rerun(reasons: list[str]) -> str:
    return "re-run: " + "; ".join(reasons) if reasons else "re-run"


def _flatten(prefix: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return flat
    return {prefix: _short(value) if isinstance(value, str) else json.dumps(value, sort_keys=True)}


def compare_fields(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every field of two pre-images side by side: (field, earlier, now); '' where absent."""
    flat_old, flat_new = _flatten("", old), _flatten("", new)
    return [
        (key, flat_old.get(key, ""), flat_new.get(key, "")) for key in sorted(set(flat_old) | set(flat_new))
    ]
