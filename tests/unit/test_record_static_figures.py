"""The record's figures as still images for Word (issue #21): drawn from the plotly spec with matplotlib,
limits where the spec puts them, log axes for log-normal attributes, numbers written as on the pages;
in the Word record, each figure a picture followed by its caption and its numbers."""

from __future__ import annotations

import copy
import dataclasses
import io
import math
import subprocess
import sys
import zipfile

import pytest

from cgtkit.record import build_record, render_docx
from cgtkit.record.figures import LIMIT_COLOUR, FigureData
from cgtkit.record.model import DecisionRecord
from cgtkit.record.static_figures import DPI, WIDTH_INCHES, draw_figure, figure_png, png_bytes
from tests.unit.test_record_workbooks import with_page_decisions

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def record() -> DecisionRecord:
    """The example workbook's record with Clinical development criteria and a commercial criterion."""
    return build_record(with_page_decisions())


def _figure(record: DecisionRecord, title_start: str) -> FigureData:
    return next(f.data for f in record.figures if f.data.title.startswith(title_start))


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _rows_of_colour(png: bytes, colour: str, tolerance: int = 30) -> dict[int, int]:
    """Pixel rows holding ``colour`` (within ``tolerance``, summed over R, G, B) and how many such pixels each has."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    target, pixels = _rgb(colour), image.load()
    rows = {}
    for y in range(height):
        n = sum(1 for x in range(width)
                if sum(abs(a - b) for a, b in zip(pixels[x, y], target, strict=True)) <= tolerance)
        if n:
            rows[y] = n
    return rows


def _limit_row(fig, value: float, log: bool) -> float:  # noqa: ANN001
    """The pixel row (from the top) where ``value`` sits, from the axes' box and the spec's range alone."""
    ax = fig.axes[0]
    box = ax.get_window_extent()
    low, high = ax.get_ylim()
    f = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low)) if log else \
        (value - low) / (high - low)
    return fig.bbox.height - (box.y0 + f * box.height)


def test_a_figure_is_a_png_of_six_inches_at_150_dpi(record: DecisionRecord) -> None:
    spec = _figure(record, "Viability").spec
    png = figure_png(spec)
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and (WIDTH_INCHES, DPI) == (6.0, 150)
    assert image.size[0] == 900 and image.size[1] == int(spec["layout"]["height"] / 96 * 150)
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.05)  # stored as dots per metre
    assert len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 16)) > 20  # drawn, not blank
    assert figure_png(spec) == png == png_bytes(draw_figure(spec))


@pytest.mark.parametrize(("title_start", "log"), [("Transduction efficiency", False), ("Vector copy number", True)])
def test_limits_are_drawn_where_the_axis_puts_them(record: DecisionRecord, title_start: str, log: bool) -> None:
    data = _figure(record, title_start)
    limits = [t["y"][0] for t in data.spec["data"] if t["name"].startswith(("lower limit", "upper limit"))]
    assert limits
    fig = draw_figure(data.spec)
    ax = fig.axes[0]
    assert ax.get_yscale() == ("log" if log else "linear")
    y_range = data.spec["layout"]["yaxis"]["range"]
    assert ax.get_ylim() == pytest.approx([10**v for v in y_range] if log else y_range)
    rows = _rows_of_colour(png_bytes(fig), LIMIT_COLOUR)
    line_rows = [y for y, n in rows.items() if n > 300]  # a dashed line across most of the 900 px
    assert line_rows
    for value in limits:
        expected = _limit_row(fig, value, log)
        assert any(abs(y - expected) <= 2 for y in line_rows), (value, expected, line_rows)
    without = copy.deepcopy(data.spec)
    without["data"] = [t for t in without["data"] if "limit" not in t["name"]]
    assert not any(n > 300 for n in _rows_of_colour(figure_png(without), LIMIT_COLOUR).values())


def test_a_log_axis_keeps_the_specs_ticks(record: DecisionRecord) -> None:
    spec = _figure(record, "Vector copy number").spec
    fig = draw_figure(spec)
    png_bytes(fig)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == spec["layout"]["yaxis"]["ticktext"]
    assert list(ax.get_yticks()) == pytest.approx(spec["layout"]["yaxis"]["tickvals"])
    assert ax.get_ylabel() == "Vector copy number (VCN)\n(copies/transduced cell)"


def _titer_spec(**trace: object) -> dict:
    return {
        "data": [{"type": "scatter", "mode": "markers", "name": "clinical &lt;A&gt; costs $5",
                  "x": ["2024-10-01", "2025-01-15", "2025-05-01"], "y": [1.1e13, 1.6e13, 2.3e13],
                  "marker": {"color": "#2b5c8a", "size": 9, "symbol": ["circle", "circle-open", "diamond"]},
                  **trace}],
        "layout": {"height": 380, "title": {"text": "AAV titer<br><sup>open circles: censored</sup>"},
                   "xaxis": {"type": "date"}, "yaxis": {"title": {"text": "Titer (vg/mL)"}}},
    }


def test_numbers_and_dates_read_as_on_the_pages() -> None:
    fig = draw_figure(_titer_spec())
    png_bytes(fig)
    ax = fig.axes[0]
    y_labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert y_labels and all("×10¹³" in t for t in y_labels) and not any("e+" in t or "e1" in t for t in y_labels)
    assert ax.yaxis.get_offset_text().get_text() == ""
    x_labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert x_labels[0].endswith("2024") and any(t == "Jan\n2025" for t in x_labels)
    assert fig.legends[0].get_texts()[0].get_text() == r"clinical <A> costs \$5"  # shown as "$5", not as math
    assert fig.texts[0].get_text() == "AAV titer" and ax.get_title(loc="left") == "open circles: censored"


def test_open_and_filled_markers_are_told_apart() -> None:
    ax = draw_figure(_titer_spec()).axes[0]
    faces = [c.get_facecolors() for c in ax.collections]
    assert len(ax.collections) == 3  # one group per symbol
    assert sum(1 for f in faces if len(f) == 0 or f[0][3] == 0) == 1  # the open circle has no fill


@pytest.mark.parametrize(("change", "words"), [
    ({"type": "bar"}, "'bar' trace"),
    ({"fill": "tozeroy"}, "filled trace"),
    ({"marker": {"symbol": "hexagram"}}, "marker symbol 'hexagram'"),
    ({"y": [1.0, 2.0]}, "3 x values and 2 y values"),
])
def test_what_it_cannot_draw_is_refused_with_a_reason(change: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        figure_png(_titer_spec(**change))


def test_layout_parts_it_does_not_draw_are_refused() -> None:
    spec = _titer_spec()
    spec["layout"]["shapes"] = [{"type": "rect", "x0": 0, "x1": 1, "y0": 0, "y1": 1}]
    with pytest.raises(ValueError, match="shapes"):
        figure_png(spec)


def test_matplotlib_is_imported_only_when_a_figure_is_drawn() -> None:
    code = ("import sys; import cgtkit.record, cgtkit.record.word, cgtkit.record.static_figures; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- in the Word record --------------------------------------------------------------------------


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _body(doc) -> list:  # noqa: ANN001
    return list(doc.element.body.iterchildren())


def test_word_holds_each_figure_as_a_picture_then_its_caption_and_numbers(record: DecisionRecord) -> None:
    from docx import Document
    from docx.shared import Inches

    data = render_docx(record)
    doc = Document(io.BytesIO(data))
    assert len(record.figures) == 8 and len(doc.inline_shapes) == len(record.figures)
    assert all(s.width == Inches(6) for s in doc.inline_shapes)
    body = _body(doc)
    assert body[-1].tag == f"{_W}sectPr"  # the section's properties close the body: tables sit in their sections
    pictures = [i for i, el in enumerate(body) if el.tag == f"{_W}p" and el.findall(f".//{_W}drawing")]
    assert len(pictures) == len(record.figures)
    for i, figure in zip(pictures, record.figures, strict=True):
        caption = "".join(t.text or "" for t in body[i + 1].iter(f"{_W}t"))
        assert caption == f"Figure {figure.number}. {figure.data.caption}"
        assert body[i + 2].tag == f"{_W}tbl"  # the numbers follow
        header = "".join(t.text or "" for t in body[i + 2].iter(f"{_W}t"))
        assert header.startswith("".join(figure.data.header)) and figure.data.rows[0][0] in header
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        media = sorted(n for n in z.namelist() if n.startswith("word/media/"))
        assert len(media) == len(record.figures)
        assert Image.open(io.BytesIO(z.read(media[0]))).size[0] == 900


def test_word_gives_a_figure_it_cannot_draw_as_its_numbers_with_a_note(record: DecisionRecord) -> None:
    from docx import Document

    def broken(f):  # noqa: ANN001, ANN202
        spec = copy.deepcopy(f.data.spec)
        spec["data"][0]["type"] = "heatmap"
        return dataclasses.replace(f, data=dataclasses.replace(f.data, spec=spec))

    first = record.figures[0]
    areas = tuple(dataclasses.replace(a, proposals=tuple(
        dataclasses.replace(p, figures=tuple(broken(f) if f is first else f for f in p.figures))
        for p in a.proposals)) for a in record.areas)
    doc = Document(io.BytesIO(render_docx(dataclasses.replace(record, areas=areas))))
    assert len(doc.inline_shapes) == len(record.figures) - 1
    texts = [p.text for p in doc.paragraphs]
    note = next(i for i, t in enumerate(texts) if t.startswith(f"Figure {first.number} could not be drawn"))
    assert "'heatmap' trace" in texts[note] and texts[note + 1] == f"Figure {first.number}. {first.data.caption}"
    body = _body(doc)
    caption = next(i for i, el in enumerate(body) if el.tag == f"{_W}p"
                   and "".join(t.text or "" for t in el.iter(f"{_W}t")).startswith(f"Figure {first.number}. "))
    assert body[caption + 1].tag == f"{_W}tbl"
