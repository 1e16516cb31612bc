"""The one-click meeting report, as PDF and as a self-contained HTML page.

Both are built from the same ``ReportContent`` with ReportLab: its drawings (the map, the trend chart)
go into the PDF as vector graphics and into the HTML as inline SVG, so neither needs a network. Chinese
text uses ReportLab's built-in CID font STSong-Light (no font file to ship; PDF viewers supply the
glyphs). Every string from a file is escaped for the markup it goes into.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dashboard.components.palettes import FLAG_COLORS, REPORT_HEADER, TREND_COLORS

CJK_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class ReportContent:
    """What the report says, already translated; tables hold display strings."""

    title: str
    subtitle: str
    totals: list[tuple[str, str, str]]  # label, value, formula ("" if none)
    flags_title: str
    flags: list[tuple[str, str]]  # severity, text
    no_flags: str
    map_title: str
    units: gpd.GeoDataFrame  # display outlines in lon/lat
    fills: list[str]  # hex colour per unit
    legend: list[tuple[str, str]]  # colour, label
    trend_title: str
    months: list[str]
    trend: dict[str, list[float]] = field(default_factory=dict)  # series name → values per month
    ranking_title: str = ""
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)


def map_drawing(
    units: gpd.GeoDataFrame,
    fills: list[str],
    legend: list[tuple[str, str]],
    width: float = 250 * mm,
    height: float = 120 * mm,
) -> Drawing:
    """Units filled with ``fills``, fitted to the box (equirectangular with the latitude's aspect)."""
    drawing = Drawing(width, height)
    minx, miny, maxx, maxy = units.total_bounds
    aspect = np.cos(np.radians((miny + maxy) / 2))
    map_width = width - 60 * mm
    scale = min(map_width / ((maxx - minx) * aspect or 1), height / ((maxy - miny) or 1))
    for geometry, fill in zip(units.geometry, fills, strict=True):
        for part in shapely.get_parts(geometry):
            ring = np.asarray(part.exterior.coords)
            points = np.column_stack([(ring[:, 0] - minx) * aspect * scale, (ring[:, 1] - miny) * scale]).ravel()
            drawing.add(
                Polygon(points.tolist(), fillColor=colors.HexColor(fill), strokeColor=colors.grey, strokeWidth=0.3)
            )
    for k, (color, label) in enumerate(legend):
        y = height - (k + 1) * 6 * mm
        drawing.add(
            Rect(map_width + 6 * mm, y, 5 * mm, 4 * mm, fillColor=colors.HexColor(color), strokeColor=colors.grey)
        )
        drawing.add(String(map_width + 13 * mm, y + 1 * mm, label, fontName=CJK_FONT, fontSize=8))
    return drawing


def trend_drawing(
    months: list[str], series: dict[str, list[float]], width: float = 250 * mm, height: float = 70 * mm
) -> Drawing:
    """Monthly lines, one per series, with a legend."""
    drawing = Drawing(width, height)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 12 * mm, width - 75 * mm, height - 20 * mm
    chart.data = [[0.0 if pd.isna(v) else float(v) for v in values] for values in series.values()] or [[0.0]]
    chart.categoryAxis.categoryNames = months
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    palette = [colors.HexColor(c) for c in TREND_COLORS]
    for k in range(len(chart.data)):
        chart.lines[k].strokeColor = palette[k % len(palette)]
        chart.lines[k].strokeWidth = 1.5
    drawing.add(chart)
    for k, name in enumerate(series):
        y = height - (k + 1) * 6 * mm
        drawing.add(Rect(width - 55 * mm, y, 5 * mm, 2 * mm, fillColor=palette[k % len(palette)], strokeColor=None))
        drawing.add(String(width - 48 * mm, y, name, fontName=CJK_FONT, fontSize=8))
    return drawing


def report_pdf(content: ReportContent) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=content.title,
    )
    heading = ParagraphStyle("h", fontName=CJK_FONT, fontSize=16, leading=20, spaceAfter=4)
    section = ParagraphStyle("s", fontName=CJK_FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("b", fontName=CJK_FONT, fontSize=9, leading=12)
    cell = ParagraphStyle("c", fontName=CJK_FONT, fontSize=7, leading=9)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(html.escape(text), style)

    story = [p(content.title, heading), p(content.subtitle)]
    story += [Spacer(1, 3 * mm), _table([[p(label), p(value), p(formula)] for label, value, formula in content.totals])]
    story += [p(content.flags_title, section)]
    story += [
        p(f"● {text}", ParagraphStyle("f", parent=body, textColor=colors.HexColor(FLAG_COLORS[severity])))
        for severity, text in content.flags
    ] or [p(content.no_flags)]
    story += [p(content.map_title, section), map_drawing(content.units, content.fills, content.legend)]
    story += [p(content.trend_title, section), trend_drawing(content.months, content.trend)]
    if not content.ranking.empty:
        rows = [[p(str(c), cell) for c in content.ranking.columns]]
        rows += [[p(str(v), cell) for v in record] for record in content.ranking.itertuples(index=False)]
        story += [p(content.ranking_title, section), _table(rows, header=True)]
    doc.build(story)
    return buffer.getvalue()


def _table(rows: list[list], header: bool = False) -> Table:
    table = Table(rows, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(REPORT_HEADER)))
    table.setStyle(TableStyle(style))
    return table


def report_html(content: ReportContent, lang: str) -> str:
    """A single self-contained page (inline CSS and SVG; no script, no external resource)."""
    e = html.escape
    totals = "".join(
        f"<tr><th>{e(label)}</th><td>{e(value)}</td><td class=f>{e(formula)}</td></tr>"
        for label, value, formula in content.totals
    )
    flags = "".join(f'<li style="color:{FLAG_COLORS[severity]}">{e(text)}</li>' for severity, text in content.flags)
    ranking = "" if content.ranking.empty else content.ranking.to_html(index=False, border=0, escape=True, na_rep="–")
    svg_map = renderSVG.drawToString(map_drawing(content.units, content.fills, content.legend))
    svg_trend = renderSVG.drawToString(trend_drawing(content.months, content.trend))
    return f"""<!DOCTYPE html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(content.title)}</title>
<style>body{{font:14px/1.5 "Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}}
table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ddd;padding:3px 6px;text-align:left}}
.f{{color:#555}}svg{{max-width:100%;height:auto}}</style></head><body>
<h1>{e(content.title)}</h1><p>{e(content.subtitle)}</p><table>{totals}</table>
<h2>{e(content.flags_title)}</h2>{f"<ul>{flags}</ul>" if flags else f"<p>{e(content.no_flags)}</p>"}
<h2>{e(content.map_title)}</h2>{_svg_body(svg_map)}
<h2>{e(content.trend_title)}</h2>{_svg_body(svg_trend)}
<h2>{e(content.ranking_title)}</h2>{ranking}
</body></html>"""


def _svg_body(svg: str) -> str:
    """The <svg> element of a rendered drawing, without its XML prolog and DOCTYPE."""
    return svg[svg.index("<svg") :]
