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
from cgtkit.plots.pictures import DPI, WIDTH_INCHES, PictureBatch, draw_figure, figure_png, png_bytes
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


def _texts(fig, gid: str) -> list:  # noqa: ANN001
    return [t for t in fig.texts if t.get_gid() == gid]


def test_a_log_axis_keeps_the_specs_ticks(record: DecisionRecord) -> None:
    spec = _figure(record, "Vector copy number").spec
    fig = draw_figure(spec)
    png_bytes(fig)
    ticks = _texts(fig, "ytick")
    assert [t.get_text() for t in ticks] == spec["layout"]["yaxis"]["ticktext"]
    for text, value in zip(ticks, spec["layout"]["yaxis"]["tickvals"], strict=True):
        box = text.get_window_extent()
        assert (box.y0 + box.y1) / 2 == pytest.approx(fig.bbox.height - _limit_row(fig, value, log=True), abs=1.5)
        assert box.x1 < fig.axes[0].get_window_extent().x0  # left of the plot
    assert [t.get_text() for t in _texts(fig, "ytitle")] == ["Vector copy number (VCN)\n(copies/transduced cell)"]


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
    y_labels = [t.get_text() for t in _texts(fig, "ytick")]
    assert y_labels and all("×10¹³" in t for t in y_labels) and not any("e+" in t or "e1" in t for t in y_labels)
    assert ax.yaxis.get_offset_text().get_text() == ""
    x_labels = [t.get_text() for t in _texts(fig, "xtick")]
    assert x_labels[0].endswith("2024") and any(t == "Jan\n2025" for t in x_labels)
    assert _texts(fig, "legend")[0].get_text() == r"clinical <A> costs \$5"  # shown as "$5", not as math
    assert fig.texts[0].get_text() == "AAV titer" and ax.get_title(loc="left") == "open circles: censored"


def test_open_and_filled_markers_are_told_apart() -> None:
    ax = draw_figure(_titer_spec()).axes[0]
    markers = [line for line in ax.lines if line.get_marker() not in (None, "None", "")]
    assert sorted(line.get_marker() for line in markers) == ["D", "o", "o"]  # one group per symbol
    faces = [line.get_markerfacecolor() for line in markers if line.get_marker() == "o"]
    assert sorted(faces, key=str) == ["#2b5c8a", "none"]  # the open circle has no fill


def test_markers_of_different_colours_in_one_trace_keep_their_colours() -> None:
    ax = draw_figure(_titer_spec(marker={"color": ["#2b5c8a", "#b7791f", "#2f855a"], "size": [9, 9, 12]})).axes[0]
    points = [c for c in ax.collections if c.get_gid() != "grid"]
    assert len(points) == 1 and len(points[0].get_facecolors()) == 3 and len(set(points[0].get_sizes())) == 2


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


def _crowded_spec() -> dict:
    """Long titles and labels, many legend entries, a limit's label at the top of the range."""
    spec = _titer_spec()
    spec["data"] += [{"type": "scatter", "mode": "lines+text", "name": f"limit number {i} of a long list of limits",
                      "x": ["2024-09-01", "2025-06-01"], "y": [(1.2 + 0.3 * i) * 1e13] * 2, "text": ["", f"limit {i}"],
                      "textposition": "top left", "line": {"color": "#c53030", "dash": "dash"}} for i in range(5)]
    spec["layout"]["title"]["text"] = ("A title long enough to be wrapped onto a second line by the drawing of the "
                                       "picture<br><sup>and a note under it, long enough to wrap as well, since "
                                       "notes explain the symbols used in the figure</sup>")
    spec["layout"]["yaxis"]["title"]["text"] = "Vector genomes per millilitre<br>(vg/mL)"
    return spec


def _boxes_apart(a, b) -> bool:  # noqa: ANN001
    return a.x1 <= b.x0 + 0.5 or b.x1 <= a.x0 + 0.5 or a.y1 <= b.y0 + 0.5 or b.y1 <= a.y0 + 0.5


def test_every_text_fits_in_the_picture_apart_from_the_others(record: DecisionRecord) -> None:
    """The layout is computed from font metrics before drawing; the drawn texts must agree with it."""
    specs = [f.data.spec for f in record.figures] + [_titer_spec(), _crowded_spec()]
    for spec in specs:
        fig = draw_figure(spec)
        png_bytes(fig)
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        plot = ax.get_window_extent(renderer)
        texts = [t for t in [*fig.texts, ax.title, ax._left_title, *ax.texts] if t.get_text()]
        boxes = {id(t): t.get_window_extent(renderer) for t in texts}
        for t in texts:
            box = boxes[id(t)]
            assert box.x0 >= -0.5 and box.y0 >= -0.5 and box.x1 <= fig.bbox.width + 0.5 \
                and box.y1 <= fig.bbox.height + 0.5, (t.get_text(), box)
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                assert _boxes_apart(boxes[id(a)], boxes[id(b)]), (a.get_text(), b.get_text())
        outside = [t for t in fig.texts if t.get_gid() in ("xtick", "ytick", "xtitle", "ytitle", "legend")]
        for t in outside:  # axis and legend text stays out of the plot area
            assert _boxes_apart(boxes[id(t)], plot), t.get_text()
        for t in ax.texts:  # a limit's label stays under the note
            assert boxes[id(t)].y1 <= plot.y1 + 0.5, t.get_text()


def test_matplotlib_is_imported_only_when_a_figure_is_drawn() -> None:
    code = ("import sys; import cgtkit.record, cgtkit.record.word, cgtkit.plots.pictures; "
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


# -- many at once ---------------------------------------------------------------------------------


def _distinct_specs(n: int) -> list[dict]:
    specs = []
    for i in range(n):
        spec = _titer_spec()
        spec["data"][0]["y"] = [1.1e13 + i * 1e11, 1.6e13, 2.3e13]
        specs.append(spec)
    return specs


def _wait(job, seconds: float = 60.0):  # noqa: ANN001, ANN202
    """Runs ``job`` in a thread; a batch that hangs fails the test instead of stopping the suite."""
    import threading

    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(value=job()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the batch hung"
    return out["value"]


def test_a_batch_draws_in_worker_processes_what_figure_png_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    from cgtkit.plots import pictures

    specs = _distinct_specs(5)
    bad = _titer_spec(type="bar")
    expected = [png_bytes(draw_figure(s)) for s in specs]
    monkeypatch.setattr(pictures, "_CACHE", {})

    def draw() -> tuple[int, list, str]:
        with PictureBatch([*specs, bad, specs[0]], workers=2) as batch:
            workers = batch.workers
            got = [batch.png(s) for s in specs]
            with pytest.raises(ValueError, match="'bar' trace") as err:
                batch.png(bad)
            return workers, got + [batch.png(specs[0])], str(err.value)

    workers, got, _message = _wait(draw)
    assert workers == 2
    assert got == [*expected, expected[0]]  # the same bytes, in the order asked, a repeat from the cache


def test_a_batch_asked_before_its_workers_start_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The picture asked for first may be wanted before the thread starting the workers has handed it
    over (a slow fork server); the answer must come all the same."""
    import multiprocessing
    import time

    from cgtkit.plots import pictures

    monkeypatch.setattr(pictures, "_CACHE", {})
    real = multiprocessing.get_context

    def slow(method: str | None = None):  # noqa: ANN202
        time.sleep(1.0)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", slow)
    specs = _distinct_specs(4)

    def draw() -> list[bytes]:
        with PictureBatch(specs, workers=2) as batch:
            return [batch.png(s) for s in specs]

    assert _wait(draw) == [png_bytes(draw_figure(s)) for s in specs]


def test_a_batch_without_worker_processes_draws_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from cgtkit.plots import pictures

    monkeypatch.setattr(pictures, "_CACHE", {})

    def none(method: str | None = None):  # noqa: ANN202
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(multiprocessing, "get_context", none)
    specs = _distinct_specs(3)
    with PictureBatch(specs, workers=2) as batch:
        assert _wait(lambda: [batch.png(s) for s in specs]) == [png_bytes(draw_figure(s)) for s in specs]


def test_a_batch_of_few_figures_or_one_cpu_starts_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from cgtkit.plots import pictures

    monkeypatch.setattr(pictures, "_CACHE", {})
    with PictureBatch(_distinct_specs(3)) as batch:
        assert batch.workers == 0  # fewer than MIN_PER_WORKER figures per worker
    monkeypatch.setattr(pictures, "_usable_cpus", lambda: 1)
    with PictureBatch(_distinct_specs(12)) as batch:
        assert batch.workers == 0
    monkeypatch.setattr(pictures, "_usable_cpus", lambda: 8)
    with PictureBatch(_distinct_specs(40)) as batch:
        assert batch.workers == PictureBatch.MAX_WORKERS
