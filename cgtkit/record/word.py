"""The decision record as a Word document (python-docx) that a regulatory writer edits.

Same sections and words as the HTML report. Each figure is a picture (PNG, 150 dpi, 6 inches wide)
drawn by :mod:`cgtkit.plots.pictures` with matplotlib, since plotly's own image export needs
kaleido and a Chrome browser that a plain install and Binder do not have; its caption follows, then
the table of its numbers (lot, date, lot type, result), which a writer may quote or delete. A figure
that cannot be drawn is given by its caption and numbers only, with a sentence saying so.

Tables are written as WordprocessingML in one piece (python-docx's cell-by-cell
API takes about a millisecond a cell, seconds for a record of 50 decisions).
Text that XML cannot hold (control characters) is dropped.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from cgtkit.record.figures import FigureData
from cgtkit.record.html import audit_facts
from cgtkit.record.model import DecisionRecord, result_columns

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FIGURES_NOTE = ("Each figure is followed by its caption and the numbers it shows; the HTML report holds the same "
                "figures, interactive.")
FIGURE_WIDTH_INCHES = 6.0


def clean(text: Any) -> str:
    """Text as Word can hold it: characters XML forbids are removed."""
    return _NOT_XML.sub("", "" if text is None else str(text))


def _cell(text: Any, bold: bool, width: int) -> str:
    run_props = "<w:rPr>" + ("<w:b/>" if bold else "") + '<w:sz w:val="17"/></w:rPr>'
    paragraphs = clean(text).split("\n") or [""]
    body = "".join(f'<w:p><w:pPr><w:spacing w:before="0" w:after="0"/></w:pPr><w:r>{run_props}'
                   f'<w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs)
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="pct"/></w:tcPr>{body}</w:tc>'


def add_table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[Any]],
              widths: Sequence[int] | None = None) -> None:
    """A bordered table with a bold header row, built as one XML element."""
    from docx.oxml import parse_xml

    n = len(header)
    pct = list(widths) if widths else [5000 // n] * n  # fiftieths of a percent
    xml = [f'<w:tbl xmlns:w="{_W}"><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="5000" w:type="pct"/>'
           '</w:tblPr><w:tblGrid>' + "".join("<w:gridCol/>" for _ in header) + "</w:tblGrid>"]
    xml.append('<w:tr><w:trPr><w:tblHeader/></w:trPr>' + "".join(_cell(h, True, w) for h, w in zip(header, pct, strict=True))
               + "</w:tr>")
    for row in rows:
        xml.append("<w:tr>" + "".join(_cell(v, False, w) for v, w in zip(row, pct, strict=True)) + "</w:tr>")
    xml.append("</w:tbl>")
    body, table = doc.element.body, parse_xml("".join(xml))
    section = body.find(f"{{{_W}}}sectPr")  # the body's last child: content goes before it
    if section is None:
        body.append(table)
    else:
        section.addprevious(table)
    doc.add_paragraph()  # Word needs a paragraph between two tables


class _Styles(dict):
    """Style ids by style name, looked up once: python-docx resolves a style given to a paragraph by
    scanning every style of the document (about a millisecond a paragraph), so the id is set directly."""

    def __init__(self, doc: Any) -> None:
        super().__init__()
        self.doc = doc

    def __missing__(self, name: str) -> str:
        self[name] = self.doc.styles[name].style_id
        return self[name]


def _paragraph(doc: Any, style: str | None) -> Any:
    p = doc.add_paragraph()
    if style:
        p._p.get_or_add_pPr().style = doc.cgt_styles[style]
    return p


def _run(paragraph: Any, text: str) -> Any:
    """A run holding ``text``. python-docx's ``add_run(text)`` reads the text a character at a time
    (for tabs and line breaks); text without them goes into one ``w:t`` at once."""
    if any(ch in text for ch in "\t\n\r"):
        return paragraph.add_run(text)
    run = paragraph.add_run()
    run._r.add_t(text)
    return run


def _para(doc: Any, text: str, style: str | None = None, bold_lead: str = "") -> None:
    p = _paragraph(doc, style)
    if bold_lead:
        _run(p, clean(bold_lead)).bold = True
    _run(p, clean(text))


def _heading(doc: Any, text: str, level: int) -> None:
    _run(_paragraph(doc, "Title" if level == 0 else f"Heading {level}"), clean(text))


def _picture(doc: Any, png: bytes, width: Any) -> Any:
    """A picture's ``w:inline`` element, as python-docx's ``Run.add_picture`` makes it but numbered from a
    counter: python-docx finds each new id by searching the whole document (2.4 s for 110 figures)."""
    from docx.oxml.shape import CT_Inline

    part = doc.part
    if not hasattr(doc, "cgt_next_id"):
        doc.cgt_next_id = part.next_id  # one search, then counted on
    shape_id, doc.cgt_next_id = doc.cgt_next_id, doc.cgt_next_id + 1
    rel_id, image = part.get_or_add_image(io.BytesIO(png))
    cx, cy = image.scaled_dimensions(width, None)
    return CT_Inline.new_pic_inline(shape_id, rel_id, image.filename, cx, cy)


def _figure(doc: Any, number: int, figure: FigureData) -> None:
    """A figure's place: its picture's paragraph, filled by :func:`_draw_pictures` once every picture is
    drawn; then its caption under it (kept on the same page) and its numbers."""
    picture = _paragraph(doc, None)
    picture.paragraph_format.keep_with_next = True
    doc.cgt_pictures.append((picture, number, figure))
    _para(doc, figure.caption, bold_lead=f"Figure {number}. ")
    add_table(doc, figure.header, figure.rows)


def _draw_pictures(doc: Any, batch: Any) -> None:
    """Puts each figure's picture in its paragraph; a figure that cannot be drawn gets a sentence saying
    so instead, before its caption and numbers."""
    from docx.shared import Inches

    for paragraph, number, figure in doc.cgt_pictures:
        try:
            png = batch.png(figure.spec)
        except (ValueError, ImportError) as err:  # a figure this module cannot draw; matplotlib missing
            paragraph.paragraph_format.keep_with_next = None
            _run(paragraph, clean(f"Figure {number} could not be drawn as a picture here ({clean(err)}); its "
                                    "caption and numbers follow, and the HTML report holds it, interactive."))
            continue
        inline = _picture(doc, png, Inches(FIGURE_WIDTH_INCHES))
        inline.docPr.set("name", f"Figure {number}")
        inline.docPr.set("descr", clean(figure.caption))  # alternative text, for screen readers
        paragraph.add_run()._r.add_drawing(inline)


def render_docx(record: DecisionRecord) -> bytes:
    """The .docx file's bytes."""
    from cgtkit.plots.pictures import PictureBatch

    # the pictures are drawn (in worker processes when there are many) while the text is written
    with PictureBatch([f.data.spec for f in record.figures], FIGURE_WIDTH_INCHES) as batch:
        doc = _document(record)
        _draw_pictures(doc, batch)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _document(record: DecisionRecord) -> Any:
    """The document with every section, each figure's picture paragraph left empty."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.cgt_styles = _Styles(doc)
    doc.cgt_pictures = []
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = clean(record.title)
    doc.core_properties.author = "cgtkit"
    _heading(doc, clean(record.title), 0)
    _para(doc, f"Generated {record.stamp} by cgtkit {record.audit.version} from the workbook with SHA-256 "
               f"{record.audit.workbook_sha256}" + (f"; audit chain head {record.audit.chain_head}."
                                                    if record.audit.chain_head else "."))
    _para(doc, record.disclaimer, style="Intense Quote")
    for note in record.notes:
        _para(doc, note, style="Intense Quote")

    _heading(doc, "1. Product and stage", 1)
    add_table(doc, ("Field", "Value"), record.product, (1500, 3500))
    _heading(doc, "2. Purpose of the meeting", 1)
    _para(doc, record.purpose)
    if record.meeting_why:
        _para(doc, f"{record.meeting}: {record.meeting_why}. {record.meeting_purpose}", bold_lead="Meeting: ")
        add_table(doc, ("Step", "When"), record.timing, (1500, 3500))
        _para(doc, "; ".join(f"{s.citation} [{s.grade}]" for s in record.timing_sources) + ".",
              bold_lead="Timelines: ")

    columns = result_columns()
    for area in record.areas:
        _heading(doc, f"{area.number}. {area.title}", 1)
        if not area.proposals:
            _para(doc, "No decision recorded in this area; the questions below are cgtkit's drafts for the "
                       "flexibilities that apply now.")
        for p in area.proposals:
            _heading(doc, f"{p.number}. Proposal from the {p.page} page (decision {p.decision_id}, recorded "
                            f"{p.recorded})", 2)
            _para(doc, p.summary, bold_lead="Summary: ")
            if p.review:
                _para(doc, p.review, bold_lead="To review: ")
            if p.replaced:
                _para(doc, f"It replaces {p.replaced} earlier decision(s) on the same subject, kept in the "
                           "workbook's history.")
            _heading(doc, "Method", 3)
            _para(doc, p.method)
            _heading(doc, "Result", 3)
            add_table(doc, [t for _k, t in columns], [[r.get(k, "") for k, _t in columns] for r in p.result_rows])
            _heading(doc, "Inputs and recorded values", 3)
            add_table(doc, ("Field", "Value"), p.inputs, (1500, 3500))
            if p.figures or p.figure_note:
                _heading(doc, "Figures", 3)
                if p.figure_note:
                    _para(doc, p.figure_note)
                if p.figures:
                    _para(doc, FIGURES_NOTE)
                for f in p.figures:
                    _figure(doc, f.number, f.data)
            _heading(doc, "Justification", 3)
            for line in p.justification.splitlines() or [""]:
                _para(doc, line)
            _heading(doc, "Basis and sources", 3)
            for fb in p.flexibilities:
                _para(doc, f"{fb.title}. Status for this product: {fb.status}.", bold_lead=f"{fb.id}: ")
                if fb.claim is not None:
                    _para(doc, f"{fb.claim.text} [{fb.claim.grade}]"
                               + ("" if fb.claim.checked else " (wording not yet checked against the primary text)"),
                          style="List Bullet", bold_lead="What it allows: ")
                    for c in fb.conditions:
                        _para(doc, f"{c.text} [{c.grade}]" + ("" if c.checked else " (not checked)"),
                              style="List Bullet", bold_lead="Condition: ")
                    for s in fb.sources:
                        _para(doc, f"{s.citation} [{s.grade}]" + (" (to verify)" if s.needs_verification else "")
                                   + (f" {s.url}" if s.url else ""), style="List Bullet", bold_lead="Source: ")
        if area.questions:
            _heading(doc, f"Questions for FDA: {area.title}", 2)
            for q in area.questions:
                related = f", on proposal {', '.join(q.proposals)}" if q.proposals else ""
                _para(doc, f"({q.flexibility_id}: {q.title}){related}", bold_lead=f"Question {q.number} ")
                _para(doc, q.question)
                _para(doc, q.position, bold_lead="Sponsor's position: ")
                _para(doc, f"Basis of the flexibility: {q.grade}. "
                           + ("Worded by the sponsor." if q.edited else "cgtkit's draft, to be edited by the sponsor."))

    _heading(doc, "Appendix A. Data sets", 1)
    if not record.datasets:
        _para(doc, "The workbook holds no data set.")
    keys = ("attribute", "unit", "results", "lots", "min", "median", "max", "censored", "pass_fail")
    for d in record.datasets:
        _heading(doc, d.name, 2)
        used = f"; used by proposal {', '.join(d.used_by)}" if d.used_by else ""
        _para(doc, f"{d.kind.capitalize()} data from {d.source}, loaded {d.loaded}: {d.lots} lots, {d.attributes} "
                   f"attributes{used}. SHA-256 {d.sha256}.")
        add_table(doc, ("Attribute", "Unit", "Results", "Lots", "Min", "Median", "Max", "Censored",
                        "Pass/fail or text"), [[r[k] for k in keys] for r in d.rows])
    _heading(doc, "Appendix B. Methods", 1)
    if record.methods:
        add_table(doc, ("Method", "Proposals"), [(m.method, ", ".join(m.used_by)) for m in record.methods],
                  (3800, 1200))
    else:
        _para(doc, "No decision recorded yet.")
    _heading(doc, "Appendix C. Audit", 1)
    add_table(doc, ("Audit", "Value"), audit_facts(record.audit), (1500, 3500))
    _para(doc, record.audit.verification)
    if record.audit.datasets:
        add_table(doc, ("Data set", "SHA-256"), record.audit.datasets, (1500, 3500))
    add_table(doc, ("Entry", "When", "What changed", "Entry SHA-256"),
              [(e.index, e.time, e.summary, e.hash) for e in record.audit.log], (400, 900, 2500, 1200))
    return doc
