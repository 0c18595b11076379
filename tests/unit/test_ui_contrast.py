"""The pipeline views' colours are readable: WCAG AA contrast in the light and dark palettes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

PALETTE = json.loads(
    (Path(__file__).resolve().parents[2] / "airflow_ml_provider/plugins/www/src/palette.json").read_text()
)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_contrast_formula_gives_the_known_extremes() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_is_readable_and_shapes_are_visible(theme: str) -> None:
    colours = PALETTE[theme]
    panel = colours["panel"]
    low = []
    pairs = [
        ("text on panel", colours["text"], panel, 4.5),
        ("muted text on panel", colours["muted"], panel, 4.5),
        ("links on panel", colours["accent"], panel, 4.5),
        ("button text on accent", colours["accentText"], colours["accent"], 4.5),
        ("problems on panel", colours["problem"], panel, 4.5),
        ("lines on panel", colours["line"], panel, 3.0),
        ("focus ring on panel", colours["focus"], panel, 3.0),
    ]
    for status, style in colours["status"].items():
        pairs.append((f"{status} text", style["text"], style["bg"], 4.5))
        pairs.append((f"{status} border on panel", style["border"], panel, 3.0))
        pairs.append((f"{status} border on its box", style["border"], style["bg"], 3.0))
    for what, foreground, background, needed in pairs:
        ratio = contrast(foreground, background)
        if ratio < needed:
            low.append(f"{what}: {foreground} on {background} is {ratio:.2f}:1, needs {needed}:1")
    assert not low, "\n".join(low)
