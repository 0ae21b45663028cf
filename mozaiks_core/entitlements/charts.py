"""Server-side SVG charts (no JavaScript, no CDN): the 30-day usage bars of the billing page."""

from __future__ import annotations

from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 180, 56, 22, 10


def _compact(value: int) -> str:
    for threshold, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= threshold:
            return f"{value / threshold:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


def usage_bar_chart(series: list[tuple[date, int]], *, title: str) -> SafeString:
    """An accessible SVG bar chart of ``series`` (one bar per day, labelled axis, per-bar tooltips)."""
    peak = max((value for _, value in series), default=0) or 1
    plot_width = WIDTH - PAD_LEFT - 8
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_width / max(len(series), 1)
    bars: list[str] = []
    for index, (day, value) in enumerate(series):
        height = round(plot_height * value / peak, 1)
        x = round(PAD_LEFT + index * slot + slot * 0.15, 1)
        y = round(PAD_TOP + plot_height - height, 1)
        bars.append(
            f'<rect class="usage-bar" x="{x}" y="{y}" width="{round(slot * 0.7, 1)}" height="{height}">'
            f"<title>{day.isoformat()}: {value:,}</title></rect>"
        )
    labels = []
    if series:
        bottom = HEIGHT - 6
        labels.append(f'<text x="{PAD_LEFT}" y="{bottom}" class="usage-axis">{series[0][0]:%b %d}</text>')
        labels.append(f'<text x="{WIDTH - 8}" y="{bottom}" class="usage-axis" text-anchor="end">'
                      f"{series[-1][0]:%b %d}</text>")
    axis = (
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_height}" x2="{WIDTH - 8}" y2="{PAD_TOP + plot_height}" '
        f'class="usage-baseline"/>'
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 10}" class="usage-axis" text-anchor="end">{_compact(peak)}</text>'
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_height}" class="usage-axis" text-anchor="end">0</text>'
    )
    total = sum(value for _, value in series)
    safe_title = escape(title)
    svg = (
        f'<svg class="usage-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{safe_title}: {total:,} in '
        f"{len(series)} days</title>{axis}{''.join(bars)}{''.join(labels)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - built from numbers, dates and an escaped title only
