"""Server-side SVG charts: well-formed, self-contained, proportional, misses and targets
marked, labels escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.charts import bar_chart, line_chart, stars_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_bar_chart_marks_the_rates_below_target():
    svg = bar_chart(
        [("运行维护部", 0.95), ("市场发展部", 0.8), ("<客服>", None)], title="首次回访满意率",
        target=0.9,
    )  # fmt: skip
    root = parse(svg)
    bars = root.findall(f"{SVG}rect")
    assert [bar.get("class") for bar in bars] == ["kept", "missed"]
    assert float(bars[0].get("width")) / float(bars[1].get("width")) == pytest.approx(0.95 / 0.8)
    assert root.find(f"{SVG}line").get("class") == "target"
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "<客服>" in texts and "—" in texts and "95.0%" in texts and "80.0%" in texts
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_line_chart_breaks_at_missing_values():
    svg = line_chart(
        ["09月", "10月", "11月", "12月"],
        {"首次回访满意率": [0.9, None, 0.8, 0.85], "最终满意率": [0.95, 0.97, 0.99, 1.0]},
        title="满意率趋势",
        target=0.9,
    )
    root = parse(svg)
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [1, 2, 4]
    assert len(root.findall(f"{SVG}circle")) == 7
    assert root.find(f"{SVG}title").text == "满意率趋势"


def test_the_stars_chart_has_five_bars_with_their_counts():
    root = parse(stars_chart((1, 0, 2, 5, 12)))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 5
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[1] == 0 and widths[4] == max(widths)
    assert "12" in [text.text for text in root.iter(f"{SVG}text")]
