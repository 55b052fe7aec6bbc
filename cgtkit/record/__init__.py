"""The decision record: every decision of the workbook as a document to take to an FDA meeting.

:func:`build_record` (:mod:`~cgtkit.record.model`) turns a workbook into a typed
:class:`DecisionRecord`; the renderers lay it out:

* :func:`render_html` — one self-contained HTML file: styles and plotly.js inlined,
  figures interactive with no network fetch (:mod:`~cgtkit.record.html`);
* :func:`render_markdown` — Markdown, every user text escaped (:mod:`~cgtkit.record.markdown`);
* :func:`render_docx` — a Word document a regulatory writer edits, each figure as a picture
  (drawn by :mod:`~cgtkit.plots.pictures`) followed by the table of its numbers
  (:mod:`~cgtkit.record.word`).

HTML and Markdown come from Jinja2 templates in ``cgtkit/templates/`` (``record.html.j2``,
``record_body.html.j2``, ``record.md.j2``), escaping everything they insert; tables are
written by :func:`cgtkit.tables.html_table`, as on the pages. Every export ends with the
audit block: cgtkit's version, the time stamp, the SHA-256 of the workbook and of each
data set, and the head of the workbook's audit chain (:func:`cgtkit.session.verify_audit`).
"""

from __future__ import annotations

from cgtkit.record.model import DecisionRecord, build_record

__all__ = ["DecisionRecord", "build_record", "decision_table_xlsx", "record_filename", "render_docx",
           "render_html", "render_markdown"]


def render_html(record: DecisionRecord, *, standalone: bool = True) -> str:
    from cgtkit.record.html import render_html as render

    return render(record, standalone=standalone)


def render_markdown(record: DecisionRecord) -> str:
    from cgtkit.record.markdown import render_markdown as render

    return render(record)


def render_docx(record: DecisionRecord) -> bytes:
    from cgtkit.record.word import render_docx as render

    return render(record)


def decision_table_xlsx(record: DecisionRecord) -> bytes:
    """Every proposal's result rows as one spreadsheet, each cell made inert (:mod:`cgtkit.exports`)."""
    from cgtkit.exports import xlsx_bytes
    from cgtkit.record.model import result_columns

    columns = result_columns()
    header = ["Proposal", "Decision", *[title for _k, title in columns]]
    rows = [[p.number, p.decision_id, *[row.get(k, "") for k, _t in columns]]
            for p in record.proposals for row in p.result_rows]
    return xlsx_bytes(header, rows, sheet="decisions")


def record_filename(record: DecisionRecord, extension: str) -> str:
    """``cgtkit-record-<product>-<YYYY-MM-DD>.<extension>``, the product's name made safe for a file name.

    >>> from datetime import UTC, datetime
    >>> from types import SimpleNamespace
    >>> record_filename(SimpleNamespace(product_name="RX-401 <CAR-T>", generated_at=datetime(2026, 12, 1, tzinfo=UTC)), "html")
    'cgtkit-record-RX-401-CAR-T-2026-12-01.html'
    """
    safe = "-".join("".join(ch if ch.isalnum() or ch == "-" else " " for ch in record.product_name).split())
    return f"cgtkit-record-{safe or 'workbook'}-{record.generated_at:%Y-%m-%d}.{extension}"
