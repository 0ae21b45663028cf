"""Server-side SVG charts for the console: no JavaScript, nothing fetched at run time.

Every label is escaped; the SVG carries a ``<title>`` and ``role="img"`` so screen readers get a
summary, and the dashboard prints the same numbers in a table next to each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and where clicking it leads (an admin changelist)."""

    label: str
    value: int
    href: str = ""


def _short(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:,}"


def bar_chart(
    title: str, bars: Sequence[Bar], *, width: int = 560, height: int = 180, color: str = "#3b5bdb"
) -> SafeString:
    """A vertical bar chart as inline SVG; bars with ``href`` are links into the admin."""
    if not any(bar.value for bar in bars):
        return format_html('<p class="console-empty">No data yet for {}.</p>', title)
    top = max(bar.value for bar in bars) or 1
    plot_top, plot_bottom, left = 18, height - 34, 8
    slot = (width - left * 2) / len(bars)
    bar_width = min(48.0, max(4.0, slot * 0.7))
    parts = [
        f'<svg class="console-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{plot_bottom}" x2="{width - left}" y2="{plot_bottom}" stroke="#adb5bd"/>',
    ]
    label_every = max(1, round(len(bars) / 10))
    for index, bar in enumerate(bars):
        bar_height = (plot_bottom - plot_top) * bar.value / top
        x = left + index * slot + (slot - bar_width) / 2
        y = plot_bottom - bar_height
        rect = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{bar_height:.1f}" fill="{color}">'
                f"<title>{escape(bar.label)}: {bar.value:,}</title></rect>")
        if bar.href:
            rect = f'<a href="{escape(bar.href)}">{rect}</a>'
        parts.append(rect)
        if bar.value:
            parts.append(f'<text x="{x + bar_width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="10" '
                         f'fill="#343a40">{escape(_short(bar.value))}</text>')
        if index % label_every == 0:
            label = bar.label if len(bar.label) <= 14 else bar.label[:13] + "…"
            parts.append(f'<text x="{x + bar_width / 2:.1f}" y="{height - 18}" text-anchor="middle" font-size="10" '
                         f'fill="#495057">{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated value above is escaped or numeric
