"""Charts drawn on the server as SVG strings: no script, no outside asset, and they print.

Pure functions of plain values (labels and numbers), for the dashboard and the bulletins:
`bar_chart` (a rate per department against its target, misses marked), `line_chart` (trends
by week or month) and `stars_chart` (the star distribution). Every label is escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

FONT = 'font-family="sans-serif" font-size="12"'
MISSED = "#c0392b"
KEPT = "#2e86c1"
TARGET = "#7f8c8d"
SERIES = ("#2e86c1", "#27ae60", "#8e44ad", "#d35400")


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _value_text(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if percent else f"{value:g}"


def bar_chart(
    items: list[tuple[str, float | None]],
    *,
    title: str,
    target: float | None = None,
    percent: bool = True,
    width: int = 560,
) -> str:
    """Horizontal bars, one per item; a bar below the target is drawn in red (class missed)
    and the target is a dashed line. A value of None is drawn as no bar and "—"."""
    row, label_width, right = 26, 120, 60
    height = row * len(items) + 30
    scale_max = max([1.0 if percent else 0.0, *(v or 0 for _, v in items), target or 0]) or 1
    plot = width - label_width - right
    body = [f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for index, (label, value) in enumerate(items):
        y = 24 + index * row
        body.append(f'<text x="0" y="{y + 15}" {FONT}>{escape(label)}</text>')
        if value is not None:
            missed = target is not None and value + 1e-9 < target
            length = round(plot * value / scale_max, 1)
            body.append(
                f'<rect class="{"missed" if missed else "kept"}" x="{label_width}" y="{y + 3}" '
                f'width="{length}" height="{row - 8}" fill="{MISSED if missed else KEPT}"/>'
            )
        body.append(
            f'<text x="{label_width + plot + 6}" y="{y + 15}" {FONT}>'
            f"{_value_text(value, percent)}</text>"
        )
    if target is not None:
        x = round(label_width + plot * target / scale_max, 1)
        body.append(
            f'<line class="target" x1="{x}" y1="20" x2="{x}" y2="{height}" stroke="{TARGET}" '
            'stroke-dasharray="4 3"/>'
        )
    return _svg(width, height, title, body)


def line_chart(
    labels: list[str],
    series: dict[str, list[float | None]],
    *,
    title: str,
    target: float | None = None,
    percent: bool = True,
    width: int = 560,
    height: int = 220,
) -> str:
    """One line per series over the labels (weeks, months); a None breaks the line."""
    left, bottom, top, right = 44, 36, 24, 16
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for points in series.values() for v in points if v is not None]
    scale_max = max([1.0 if percent else 0.0, *values, target or 0]) or 1
    step = plot_w / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return round(left + index * step, 1)

    def y(value: float) -> float:
        return round(top + plot_h - plot_h * value / scale_max, 1)

    body = [
        f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        f'<text x="0" y="{top + 10}" {FONT}>{_value_text(scale_max, percent)}</text>',
    ]
    for index, label in enumerate(labels):
        body.append(
            f'<text x="{x(index)}" y="{height - 14}" {FONT} text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    if target is not None:
        body.append(
            f'<line class="target" x1="{left}" y1="{y(target)}" x2="{width - right}" '
            f'y2="{y(target)}" stroke="{TARGET}" stroke-dasharray="4 3"/>'
        )
    for number, (name, points) in enumerate(series.items()):
        colour = SERIES[number % len(SERIES)]
        body += _polylines(points, x, y, colour, name)
        body.append(
            f'<text x="{left + number * 120}" y="{height - 1}" {FONT} fill="{colour}">'
            f"{escape(name)}</text>"
        )
    return _svg(width, height, title, body)


def _polylines(points, x, y, colour: str, name: str) -> list[str]:
    parts, run = [], []
    for index, value in enumerate([*points, None]):
        if value is not None:
            run.append(f"{x(index)},{y(value)}")
            parts.append(
                f'<circle cx="{x(index)}" cy="{y(value)}" r="3" fill="{colour}">'
                f"<title>{escape(name)}</title></circle>"
            )
        elif run:
            parts.append(
                f'<polyline class="series" points="{" ".join(run)}" fill="none" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
            run = []
    return parts


def stars_chart(counts: tuple[int, ...], *, title: str = "星级分布", width: int = 360) -> str:
    """Bars for 1★ … 5★ with their counts."""
    items = [(f"{'★' * stars}", float(count)) for stars, count in enumerate(counts, start=1)]
    return bar_chart(items, title=title, percent=False, width=width)
