"""Native Word charts: a DrawingML chart part with its data in an embedded workbook.

python-docx cannot write charts; python-pptx can, and a chart part is the same in Word and
PowerPoint. So the chart XML comes from python-pptx's writer
(:class:`pptx.chart.data.CategoryChartData`, whose ``xml_bytes`` runs
``pptx.chart.xmlwriter.ChartXmlWriter``), is styled through python-pptx's own chart objects,
and its workbook from the same data (``xlsx_blob``, written by XlsxWriter). Here the two
become parts of the Word package, related to the document, and an inline ``wp:inline``
frame shows the chart with its alt text. The organisers can then restyle a chart and read
or edit its numbers in Word or LibreOffice, as with any chart they would have drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from lxml import etree
from pptx.chart.chart import Chart
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.oxml import parse_xml as parse_chart_xml
from pptx.util import Pt

from .charts import colour
from .docx_markdown import clean_text

CHART_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A stacked bar per category, each answer its share of 100 %: the shapes of the screens.
CHART_TYPE = XL_CHART_TYPE.BAR_STACKED_100
# Counts on the segments; a zero count (a segment of no width) shows no label.
LABEL_FORMAT = "0;-0;;@"
EMU_PER_CM = 360000


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: one bar per category, split into the series' counts."""

    categories: Sequence[str]  # the bars, top to bottom ("Ensemble", then each group)
    series: Sequence[tuple[str, Sequence[int]]]  # (answer, its count in each category)
    description: str  # the alt text: the chart's numbers in words


def chart_xml_and_workbook(data: ChartData) -> tuple[bytes, bytes]:
    """The chart part's XML (styled, with its reference to the workbook as ``rId1``) and
    the workbook holding its data."""
    chart_data = CategoryChartData(number_format="0")
    chart_data.categories = [clean_text(c) or "–" for c in data.categories]
    for name, values in data.series:
        chart_data.add_series(clean_text(name) or "–", [int(v) for v in values])
    space = parse_chart_xml(chart_data.xml_bytes(CHART_TYPE))
    chart = Chart(space, None)  # styling only: no part is needed for these properties
    chart.has_title = False
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.font.size = Pt(9)
    # Categories in reading order, the first ("Ensemble") on top as in the table.
    chart.category_axis.reverse_order = True
    chart.value_axis.has_major_gridlines = True
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = LABEL_FORMAT
    labels.number_format_is_linked = False
    labels.show_value = True
    for index, series in enumerate(plot.series):
        fill = series.format.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor(*colour(index))
    space.get_or_add_externalData().rId = "rId1"
    return etree.tostring(space, xml_declaration=True, encoding="UTF-8", standalone=True), (
        chart_data.xlsx_blob
    )


def embed_chart(document_part, number: int, data: ChartData) -> str:
    """Add the chart and its workbook to the package; the relationship id of the chart.

    Names and ids come from ``number`` (charts are distinct by construction) rather than
    from python-docx's searches for a free name, which are quadratic over 200 charts."""
    chart_xml, workbook = chart_xml_and_workbook(data)
    package = document_part.package
    chart_part = Part(
        PackURI(f"/word/charts/chart{number}.xml"), CHART_CONTENT_TYPE, chart_xml, package
    )
    workbook_part = Part(
        PackURI(f"/word/embeddings/Microsoft_Excel_Sheet{number}.xlsx"),
        XLSX_CONTENT_TYPE,
        workbook,
        package,
    )
    chart_part.rels.add_relationship(RT.PACKAGE, workbook_part, "rId1")
    rel_id = f"rIdChart{number}"
    document_part.rels.add_relationship(RT.CHART, chart_part, rel_id)
    return rel_id


def chart_height_cm(categories: int) -> float:
    """Room for each bar, the value axis and the legend below."""
    return 2.6 + 0.8 * max(categories, 1)


def inline_chart(rel_id: str, number: int, width_cm: float, data: ChartData):
    """The ``wp:inline`` frame showing the chart, its alt text in ``wp:docPr/@descr``."""
    cx = int(width_cm * EMU_PER_CM)
    cy = int(chart_height_cm(len(data.categories)) * EMU_PER_CM)
    description = quoteattr(clean_text(data.description))
    return parse_xml(
        '<wp:inline distT="0" distB="0" distL="0" distR="0" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<wp:extent cx="{cx}" cy="{cy}"/>'
        '<wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{number}" name="Chart {number}" descr={description}/>'
        "<wp:cNvGraphicFramePr/>"
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        f'<c:chart r:id="{rel_id}"/>'
        "</a:graphicData></a:graphic></wp:inline>"
    )
