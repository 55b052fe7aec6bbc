"""Safe exports (issue #21): user text escaped in HTML, Markdown and Word; every CSV and XLSX table cgtkit
writes neutralizes spreadsheet formulas (a leading apostrophe), numbers untouched."""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest

from cgtkit.exports import csv_bytes, neutralize, xlsx_bytes
from cgtkit.profile import ProductProfile
from cgtkit.record import build_record, decision_table_xlsx, render_docx, render_html, render_markdown
from cgtkit.session import Session

SCRIPT = "<script>alert(1)</script>"
LOT = "</script><img src=x onerror=alert(2)>"
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-1+2", "@SUM(A1)", "\tx", "\r=1", "-x"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_an_apostrophe(text: str) -> None:
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("value", [-2.5, 3, 0.0, True, "-2.5", "+3", "1e-3", "<0.5", "CT24-001", "", "plain"])
def test_numbers_and_plain_text_are_untouched(value: object) -> None:
    assert neutralize(value) == value


def _read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_and_xlsx_writers_neutralize_every_cell() -> None:
    from openpyxl import load_workbook

    header = ["=head", "value"]
    rows = [[text, -1.5] for text in FORMULAS] + [["ok", 2]]
    table = _read_csv(csv_bytes(header, rows))
    assert table[0] == ["'=head", "value"]
    assert [r[0] for r in table[1:-1]] == ["'" + t for t in FORMULAS] and table[1][1] == "-1.5"
    sheet = load_workbook(io.BytesIO(xlsx_bytes(header, rows))).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert [sheet.cell(i + 2, 1).value for i in range(len(FORMULAS))] == ["'" + t for t in FORMULAS]
    assert sheet.cell(2, 2).value == -1.5 and sheet.cell(2, 2).data_type == "n"


def test_problems_csv_goes_through_the_writer() -> None:
    from cgtkit.io import Problem, ProblemKind, problems_csv

    problem = Problem(3, "=cmd", "C", "=1+1", ProblemKind.OUT_OF_BOUNDS, "@detail", "-fix it")
    (header, row) = _read_csv(problems_csv([problem]))
    assert header[0] == "row" and row == ["3", "'=cmd", "C", "'=1+1", "error", "out_of_bounds", "'@detail", "'-fix it"]


def test_problems_csv_of_a_refused_upload_is_inert() -> None:
    from cgtkit.errors import LotDataError
    from cgtkit.io import load_lots, problems_csv

    rows = "".join(f"L{i},viability,=1+{i},%,clinical,2025-01-0{i}\n" for i in range(1, 6))
    with pytest.raises(LotDataError) as info:
        load_lots(("lot_id,attribute,value,unit,lot_type,manufacture_date\n" + rows).encode(), name="x.csv")
    table = _read_csv(problems_csv(info.value.problems))
    cells = [cell for row in table for cell in row]
    assert "'=1+1" in cells and not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_the_lot_template_download_goes_through_the_writer(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    from cgtkit.ui import workbook

    (tmp_path / "template_lots.csv").write_text("lot_id,value\n=1+1,-2.5\n", encoding="utf-8")
    monkeypatch.setattr("cgtkit.datafiles.data_dir", lambda: tmp_path)
    assert _read_csv(workbook.template_csv()) == [["lot_id", "value"], ["'=1+1", "-2.5"]]
    assert "base64," in workbook.template_link_html()


# -- the decision record ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile() -> Session:
    """A workbook whose user-given texts try to run as HTML, Markdown and spreadsheet formulas."""
    from tests.unit.test_record_workbooks import with_page_decisions

    base = Session.example()
    frame = base.dataset_frame("car_t_lots")
    frame["lot_id"] = frame["lot_id"].where(frame["lot_id"] != "CT25-002", LOT)
    session = Session(profile=ProductProfile.build(name=SCRIPT)).with_dataset("car_t_lots", frame, source="upload:x.csv")
    session = with_page_decisions(session)
    commercial = session.decisions[-1]
    hostile = commercial.model_copy(update={
        "justification": "# Heading?\n* bullet [link](javascript:alert(3)) <b>bold</b> | pipe `code` =1+1",
        "method": "=HYPERLINK(\"http://evil\",\"click\")"})
    return session.without_decision(commercial.id).with_decision(hostile).with_question(
        "CD-RELEASE-PERMISSIVE", "Is <i>this</i> fine?", "=cmd|' /C calc'!A0")


def test_html_shows_user_text_as_text(hostile: Session) -> None:
    html = render_html(build_record(hostile))
    assert SCRIPT not in html and "<i>this</i>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Is &lt;i&gt;this&lt;/i&gt; fine?" in html
    figures = re.search(r'<script type="application/json" id="cgt-figures">(.*?)</script>', html, re.S)[1]
    assert "</script" not in figures.lower() and "<img" not in figures
    decoded = json.dumps(json.loads(figures))
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in decoded  # the lot id, escaped for plotly's labels
    preview = render_html(build_record(hostile), standalone=False)
    assert SCRIPT not in preview and "&lt;script&gt;" in preview


def test_markdown_escapes_what_would_format(hostile: Session) -> None:
    md = render_markdown(build_record(hostile))
    assert "<script>" not in md and "\\<script\\>alert(1)\\</script\\>" in md
    assert "\\# Heading?" in md and "\\* bullet \\[link\\](javascript:alert(3)) \\<b\\>bold\\</b\\> \\| pipe \\`code\\`" in md
    assert "\n# Heading" not in md and "\n* bullet" not in md


def test_word_holds_user_text_literally_and_drops_control_characters(hostile: Session) -> None:
    from docx import Document

    session = hostile.with_profile(hostile.profile.model_copy(update={"name": SCRIPT + "\x07\x00"}))
    record = build_record(session)
    doc = Document(io.BytesIO(render_docx(record)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"CMC decision record: {SCRIPT}" in text and "\x07" not in text
    assert "# Heading?" in text
    assert record.figures and len(doc.inline_shapes) == len(record.figures)  # hostile lot ids still drawn
    assert LOT in [c.text for t in doc.tables for row in t.rows for c in row.cells]  # and listed as written


def test_the_decision_table_is_inert(hostile: Session) -> None:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(decision_table_xlsx(build_record(hostile)))).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://evil\",\"click\")" in values
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert pd.DataFrame(values).shape[0] > 10
