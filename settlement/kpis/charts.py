"""Charts as SVG drawn on the server: no script, nothing fetched, so the pages work offline and
under the pages' Content-Security-Policy (presentation attributes only, no inline styles).

Each chart is a pure function of its numbers and the reader's locale (Persian digits; right to
left, so bars grow from the right and the first day stands on the right); the page shows the
same numbers in a table next to it, and a CSV of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from network.web.i18n import Locale

INK, MUTED, GRID = "#1f2430", "#5b6372", "#e3e6eb"
COLOURS = ("#2f6fdd", "#e0803a", "#3a9d6a", "#a04fc2", "#c23b4f", "#6b7a8f")


def _svg(width: int, height: int, title: str, body: list[str], rtl: bool,
         shape: str = "wide") -> Markup:
    """The chart's frame. Anchors keep their left-to-right meaning on both sides (the svg says
    direction="ltr", else it inherits the Persian page's rtl and "start" means the right edge):
    a right-to-left chart mirrors x and picks its anchors itself."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'class="chart chart-{shape}" '
        f'direction="ltr" font-size="14" font-family="inherit">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _text(value: str, rtl: bool) -> str:
    """A label's text, escaped; on a right-to-left chart isolated as right-to-left (U+2067 ..
    U+2069), so "۱۶ آذر ۱۴۰۵" keeps its order inside the chart's left-to-right frame."""
    return f"\u2067{escape(value)}\u2069" if rtl else escape(value)


def bars(title: str, items: Sequence[tuple[str, int]], locale: Locale,
         colour: str = COLOURS[0]) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given."""
    rtl = locale.direction == "rtl"
    width, label_w, row = 520, 180, 30
    height = max(row * len(items) + 8, 40)
    top = max((v for _, v in items), default=0)
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        span = 0 if top <= 0 else round((width - label_w - 80) * max(value, 0) / top)
        x = label_w if not rtl else width - label_w - span
        lx, anchor = (label_w - 8, "end") if not rtl else (width - label_w + 8, "start")
        vx, vanchor = (label_w + span + 6, "start") if not rtl else (
            width - label_w - span - 6, "end")
        body.append(f'<text x="{lx}" y="{y + 20}" text-anchor="{anchor}" fill="{INK}">'
                    f"{_text(_short(label, 20), rtl)}</text>")
        body.append(f'<rect x="{x}" y="{y + 5}" width="{span}" height="{row - 10}" rx="3" '
                    f'fill="{colour}"/>')
        body.append(f'<text x="{vx}" y="{y + 20}" text-anchor="{vanchor}" fill="{MUTED}">'
                    f"{_text(locale.number(value), rtl)}</text>")
    if not items:
        body.append(f'<text x="{width // 2}" y="24" text-anchor="middle" fill="{MUTED}">-'
                    "</text>")
    return _svg(width, height, title, body, rtl, "bars")


def _short(label: str, most: int) -> str:
    """A label cut to fit its column (the table beside the chart has it whole)."""
    return label if len(label) <= most else label[:most - 1] + "…"


def columns(title: str, days: Sequence[dt.date], series: Sequence[tuple[str, Sequence[int]]],
            locale: Locale) -> Markup:
    """Grouped columns per day (issued vs redeemed), a legend, a few date ticks."""
    rtl = locale.direction == "rtl"
    width, height, left, bottom, top_pad = 960, 280, 64, 40, 32
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    top = max((v for _, values in series for v in values), default=0) or 1
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(slot / (len(series) + 1), 1.0)
    body: list[str] = []

    def x_at(px: float, w: float = 0) -> float:
        return width - px - w if rtl else px

    end = "start" if rtl else "end"  # labels before the plot, read toward it
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        body.append(f'<line x1="{x_at(left)}" x2="{x_at(left + plot_w)}" y1="{y:.1f}" '
                    f'y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{x_at(left - 6)}" y="{y + 4:.1f}" text-anchor="{end}" '
                    f'fill="{MUTED}">{_text(locale.number(round(top * frac)), rtl)}</text>')
    for s, (_, values) in enumerate(series):
        for i, value in enumerate(values):
            h = plot_h * max(value, 0) / top
            px = left + i * slot + bar * (s + 0.5)
            body.append(f'<rect x="{x_at(px, bar):.1f}" y="{top_pad + plot_h - h:.1f}" '
                        f'width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[s % 6]}"/>')
    ticks = sorted({0, n // 2, n - 1}) if days else []
    for i in ticks:
        px = left + (i + 0.5) * slot
        # the first and last dates sit inside the frame, reading away from its edge
        anchor = "middle" if i not in (0, n - 1) or n == 1 else (
            ("start" if i == 0 else "end") if not rtl else ("end" if i == 0 else "start"))
        body.append(f'<text x="{x_at(px):.1f}" y="{height - bottom + 18}" text-anchor="{anchor}" '
                    f'fill="{MUTED}">{_text(locale.date(days[i]), rtl)}</text>')
    for s, (name, _) in enumerate(series):
        px = left + s * 150
        body.append(f'<rect x="{x_at(px, 12):.1f}" y="6" width="12" height="12" '
                    f'fill="{COLOURS[s % 6]}"/>')
        body.append(f'<text x="{x_at(px + 18):.1f}" y="16" fill="{INK}" '
                    f'text-anchor="{"end" if rtl else "start"}">{_text(name, rtl)}</text>')
    return _svg(width, height, title, body, rtl)


def heatmap(title: str, rows: Sequence[str], cols: Sequence[str],
            cells: dict[tuple[int, int], int], locale: Locale,
            shown: dict[tuple[int, int], str] | None = None) -> Markup:
    """A matrix (rows x cols, e.g. issuer x sink) whose cells darken with their value;
    `shown` replaces a cell's printed number (money)."""
    rtl = locale.direction == "rtl"
    head_w, head_h = 150, 30
    cell_w, cell_h = 116, 30
    width = head_w + cell_w * max(len(cols), 1) + 8
    height = head_h + cell_h * max(len(rows), 1) + 8
    top = max((abs(v) for v in cells.values()), default=0) or 1
    body: list[str] = []

    def x_at(px: float, w: float = 0) -> float:
        return width - px - w if rtl else px

    end = "start" if rtl else "end"
    for j, col in enumerate(cols):
        cx = head_w + j * cell_w + cell_w / 2
        body.append(f'<text x="{x_at(cx):.1f}" y="{head_h - 8}" text-anchor="middle" '
                    f'fill="{INK}">{_text(_short(col, 16), rtl)}</text>')
    for i, row in enumerate(rows):
        y = head_h + i * cell_h
        body.append(f'<text x="{x_at(head_w - 8):.1f}" y="{y + 19}" text-anchor="{end}" '
                    f'fill="{INK}">{_text(_short(row, 20), rtl)}</text>')
        for j in range(len(cols)):
            value = cells.get((i, j), 0)
            strength = abs(value) / top
            fill = _blend(strength) if value else "#f6f7f9"
            px = head_w + j * cell_w
            body.append(f'<rect x="{x_at(px, cell_w - 2):.1f}" y="{y}" width="{cell_w - 2}" '
                        f'height="{cell_h - 2}" fill="{fill}"/>')
            if value:
                label = (shown or {}).get((i, j)) or locale.number(value)
                ink = "#ffffff" if strength > 0.55 else INK
                body.append(f'<text x="{x_at(px + (cell_w - 2) / 2):.1f}" y="{y + 19}" '
                            f'text-anchor="middle" fill="{ink}">{_text(label, rtl)}</text>')
    return _svg(width, height, title, body, rtl, "grid")


def _blend(strength: float) -> str:
    """From a pale to a deep blue as the value grows."""
    low, high = (0xE4, 0xEC, 0xFB), (0x1D, 0x4E, 0xB0)
    mixed = (round(a + (b - a) * min(max(strength, 0.08), 1)) for a, b in zip(low, high,
                                                                               strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)
