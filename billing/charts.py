"""Server-side SVG charts: readable without colour (every bar is labelled with its bucket,
amount and count, and the chart has a text title and description)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _


def aging_svg(buckets: list[dict], *, currency: str, width: int = 640, bar_height: int = 28):
    top = max((b["total"] for b in buckets), default=0) or 1
    label_width, gap = 70, 10
    height = len(buckets) * (bar_height + gap) + gap
    rows = []
    for index, bucket in enumerate(buckets):
        y = gap + index * (bar_height + gap)
        length = int((width - label_width - 230) * (bucket["total"] / top))
        text = f"{currency} {bucket['total']:,.2f} · {bucket['count']}"
        rows.append(
            f'<text x="0" y="{y + bar_height * 0.68:.0f}" font-size="13">{escape(bucket["label"])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 2)}" height="{bar_height}" '
            f'fill="var(--brand, #0a5cad)" stroke="#222" stroke-width="1"><title>{escape(text)}</title></rect>'
            f'<text x="{label_width + max(length, 2) + 8}" y="{y + bar_height * 0.68:.0f}" font-size="13">{escape(text)}</text>'
        )
    title = escape(_("Amounts by days overdue"))
    description = escape(
        "; ".join(f"{b['label']}: {currency} {b['total']:,.2f} ({b['count']})" for b in buckets)
    )
    return mark_safe(  # noqa: S308 (every value above is escaped)
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="aging-title aging-desc">'
        f'<title id="aging-title">{title}</title><desc id="aging-desc">{description}</desc>'
        + "".join(rows)
        + "</svg>"
    )
