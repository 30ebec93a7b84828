"""Charts drawn on the server as inline SVG, with their numbers in a table beside them.

Why SVG from the server rather than a JavaScript chart library: the figures are already exact strings
computed here, the page needs no script to show them (so nothing shifts after load, and LCP is the HTML's
own), the Shopify embedded page and the WooCommerce page render identically, and a screen reader gets a real
<table> (each chart is `role="img"` with a title; the table under it, in a <details>, holds every value).
Colours meet WCAG's 3:1 for graphics against white (https://www.w3.org/TR/WCAG21/#non-text-contrast).
"""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

from app.dashboard.figures import Chart, Table, _

COLOURS = ("#2c6ecb", "#b8560b", "#007f5f", "#8a2be2", "#c7254e")  # Polaris-like blue, orange, green, ...
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 200, 56, 24, 8


def _nice_max(value: Decimal) -> Decimal:
    """A round axis maximum at or above value (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (1, 2, 5, 10):
        candidate = Decimal(step).scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)


def _axis_label(value: Decimal) -> str:
    return format(value.normalize(), "f")


def render(chart: Chart) -> Markup:
    svg = _columns(chart) if chart.kind == "columns" else _bars(chart)
    title_id = f"chart-{chart.key.replace('.', '-')}"
    legend = "".join(
        f'<li><span class="ppe-swatch" style="background:{COLOURS[i % len(COLOURS)]}"></span>{escape(name)}</li>'
        for i, (name, _values) in enumerate(chart.series)
    )
    head = "".join(f"<th scope='col'>{escape(name)}</th>" for name, _ in chart.series)
    body = "".join(
        f"<tr><th scope='row'>{escape(label)}</th>"
        + "".join(f"<td>{escape(_axis_label(values[i]))}</td>" for _, values in chart.series)
        + "</tr>"
        for i, label in enumerate(chart.labels)
    )
    show = _("Show the numbers")  # outside the f-strings: Babel's extractor reads plain calls
    corner = _("Day") if chart.kind == "columns" else ""
    return Markup(  # noqa: S704  (every value in it went through escape() above)
        f'<figure class="ppe-chart" data-chart="{escape(chart.key)}">'
        f'<figcaption id="{title_id}">{escape(chart.title)}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{title_id}">{svg}</svg>'
        f'<ul class="ppe-legend">{legend}</ul>'
        f"<details><summary>{escape(show)}</summary><div class='ppe-table-wrap'><table>"
        f"<thead><tr><th scope='col'>{escape(corner)}</th>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div></details></figure>"
    )


def render_table(table: Table) -> Markup:
    """A heatmap that is a real table: a caption, column and row headers, every value as text; the shade (the
    chart blue, at most half opaque, so #303030 text keeps WCAG's 4.5:1) only repeats what the text says."""
    caption_id = f"table-{table.key.replace('.', '-')}"
    head = "".join(f"<th scope='col'>{escape(name)}</th>" for name in table.columns)
    body = []
    not_yet = _("not yet")  # a month the period has not reached (read by screen readers only)
    for key, header, cells in table.rows:
        tds = "".join(
            f"<td data-cell='{escape(table.key)}:{escape(key)}:{i}'"
            + (
                f" style='background:rgba(44,110,203,{shade * 0.5:.2f})'>{escape(text)}</td>"
                if text
                else f"><span class='ppe-visually-hidden'>{escape(not_yet)}</span></td>"
            )
            for i, (text, shade) in enumerate(cells)
        )
        body.append(f"<tr><th scope='row'>{escape(header)}</th>{tds}</tr>")
    note = f"<p class='ppe-subdued'>{escape(table.note)}</p>" if table.note else ""
    return Markup(  # noqa: S704  (every value in it went through escape() above)
        f"<div class='ppe-heatmap' data-table='{escape(table.key)}'><div class='ppe-table-wrap' tabindex='0' "
        f"role='region' aria-labelledby='{caption_id}'><table><caption id='{caption_id}'>{escape(table.title)}"
        f"</caption><thead><tr><th scope='col'>{escape(table.corner)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{note}</div>"
    )


def _columns(chart: Chart) -> str:
    """Grouped columns, one group per bucket."""
    top = _nice_max(max((v for _, values in chart.series for v in values), default=Decimal(0)))
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM - PAD_TOP
    groups = max(len(chart.labels), 1)
    group_w = plot_w / groups
    bar_w = max(group_w * 0.8 / max(len(chart.series), 1), 1.0)
    parts = [
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH}" y2="{PAD_TOP + plot_h}" stroke="#8a8a8a"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 10}" text-anchor="end" class="ppe-axis">{_axis_label(top)}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end" class="ppe-axis">0</text>',
    ]
    for s, (_name, values) in enumerate(chart.series):
        colour = COLOURS[s % len(COLOURS)]
        for i, value in enumerate(values):
            height = float(value / top) * plot_h if top else 0.0
            x = PAD_LEFT + i * group_w + group_w * 0.1 + s * bar_w
            y = PAD_TOP + plot_h - height
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{colour}"/>')
    if chart.labels:
        parts.append(
            f'<text x="{PAD_LEFT}" y="{HEIGHT - 6}" class="ppe-axis">{escape(chart.labels[0])}</text>'
            f'<text x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end" class="ppe-axis">{escape(chart.labels[-1])}</text>'
        )
    return "".join(parts)


def _bars(chart: Chart) -> str:
    """Horizontal bars, one per category (the first series)."""
    values = chart.series[0][1] if chart.series else []
    top = _nice_max(max(values, default=Decimal(0)))
    rows = max(len(chart.labels), 1)
    row_h = (HEIGHT - PAD_TOP) / rows
    label_w = 120
    parts = []
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=False)):
        y = PAD_TOP + i * row_h
        width = float(value / top) * (WIDTH - label_w - 60) if top else 0.0
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h * 0.65:.1f}" text-anchor="end" class="ppe-axis">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + row_h * 0.15:.1f}" width="{width:.1f}" height="{row_h * 0.7:.1f}" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{label_w + width + 6:.1f}" y="{y + row_h * 0.65:.1f}" class="ppe-axis">'
            f"{_axis_label(value)}</text>"
        )
    return "".join(parts)
